"""``bcdr version -json`` in Terraform's shape: the version, the platform, each provider's."""

from __future__ import annotations

import json
import re
from importlib.metadata import version


def test_version_json_names_every_provider_with_its_distributions_version(bcdr, test_provider):
    result = bcdr("version", "-json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["bcdr_version", "platform", "python_version", "provider_selections"]
    assert data["bcdr_version"] == version("bcdr")
    assert re.fullmatch(r"[a-z0-9]+_[a-z0-9]+", data["platform"]), data["platform"]
    selections = data["provider_selections"]
    assert selections["builtin"] == selections["platform"] == version("bcdr")
    assert selections["test"] == "0"  # the version of the distribution that installs it


def test_version_text_lists_providers_with_versions(bcdr, test_provider):
    lines = bcdr("version").output.splitlines()
    assert lines[0] == f"bcdr v{version('bcdr')}"
    assert lines[1].startswith("on ") and "(python " in lines[1]
    # Terraform's lines: each provider by name with its distribution's version (the types
    # each serves are `bcdr providers`'s to list: version loads no provider)
    assert lines[2:] == [
        f"+ provider builtin v{version('bcdr')}",
        f"+ provider platform v{version('bcdr')}",
        "+ provider test v0",
    ]

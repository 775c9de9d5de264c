"""The ``bcdr { backend "TYPE" { ... } }`` settings block: decoded from literals, every
mistake a diagnostic at its line saying what to write."""

from __future__ import annotations

import textwrap
from pathlib import Path

from engine.config import load_config


def loaded(tmp_path: Path, text: str, name: str = "main.hcl"):
    (tmp_path / name).write_text(textwrap.dedent(text).lstrip("\n"))
    return load_config(tmp_path, cache=False)


GOOD = """
bcdr {
  backend "azurerm" {
    endpoint       = "http://127.0.0.1:10000/devstoreaccount1"
    container_name = "tfstate"
    key            = "prod.bcdr"
  }
}
"""


def test_a_backend_block_is_read_with_its_values(tmp_path) -> None:
    config, diags = loaded(tmp_path, GOOD)
    assert not diags.has_errors, [d.summary for d in diags]
    assert config.backend is not None
    assert config.backend.type == "azurerm"
    assert config.backend.attributes == {
        "endpoint": "http://127.0.0.1:10000/devstoreaccount1",
        "container_name": "tfstate",
        "key": "prod.bcdr",
    }
    assert (config.backend.range.filename, config.backend.range.line) == ("main.hcl", 2)
    assert config.backend_problems == []


def test_without_a_bcdr_block_there_is_no_backend(tmp_path) -> None:
    config, diags = loaded(tmp_path, 'variable "x" {}\n')
    assert config.backend is None and config.backend_known and not diags.has_errors


def _problems(diags) -> list[tuple[int, str]]:
    return [(d.range.line, d.summary) for d in diags.errors()]


def test_a_variable_in_the_backend_is_refused_at_its_line(tmp_path) -> None:
    config, diags = loaded(
        tmp_path,
        """
        variable "where" { default = "x" }
        bcdr {
          backend "azurerm" {
            endpoint       = var.where
            container_name = "tfstate"
            key            = "k-${var.where}"
          }
        }
        """,
    )
    assert _problems(diags) == [
        (4, "Variables may not be used here"),
        (6, "Variables may not be used here"),
    ]
    assert "refers to var where" in diags.errors()[0].detail
    assert config.backend is None and len(config.backend_problems) == 2


def test_unknown_type_attribute_missing_and_wrong_kind_are_all_reported(tmp_path) -> None:
    config, diags = loaded(
        tmp_path,
        """
        bcdr {
          workspace = "x"
          backend "azurerm" {
            endpoint      = "http://127.0.0.1:10000/devstoreaccount1"
            container_nme = "tfstate"
            key           = 3
            access_key    = "secret"
          }
        }
        """,
    )
    got = _problems(diags)
    assert got == [
        (2, 'Unsupported argument "workspace" in the bcdr block'),
        (3, 'Missing required argument "container_name" in backend "azurerm"'),
        (5, 'Unsupported argument "container_nme" in backend "azurerm"'),
        (6, '"key" in backend "azurerm" must be a non-empty string'),
        (7, 'Unsupported argument "access_key" in backend "azurerm"'),
    ]
    details = {d.summary: d.detail for d in diags.errors()}
    assert 'Did you mean "container_name"?' in details[got[2][1]]
    assert "never from the configuration" in details[got[4][1]]
    assert 'container_name = "tfstate"' in details[got[1][1]], "the fix shows the block"
    assert config.backend is None


def test_an_unknown_backend_type_names_the_known_ones(tmp_path) -> None:
    _, diags = loaded(tmp_path, 'bcdr {\n  backend "azurem" {}\n}\n')
    (problem,) = diags.errors()
    assert problem.summary == 'Unknown backend type "azurem"'
    assert 'Did you mean "azurerm"?' in problem.detail
    assert problem.range.line == 2


def test_two_backends_are_refused_naming_the_first(tmp_path) -> None:
    loaded(tmp_path, GOOD, "a.hcl")
    config, diags = loaded(tmp_path, GOOD, "b.hcl")
    (problem,) = diags.errors()
    assert problem.summary == "Duplicate backend configuration"
    assert problem.range.filename == "b.hcl" and "a.hcl:2" in problem.detail
    assert config.backend is not None and config.backend.range.filename == "a.hcl"


def test_a_file_that_does_not_parse_leaves_the_backend_unknown(tmp_path) -> None:
    config, diags = loaded(tmp_path, 'bcdr {\n  backend "azurerm" {\n')
    assert diags.has_errors
    assert config.backend is None and not config.backend_known

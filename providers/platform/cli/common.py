"""What every platform command shares: ``-home``, finding the fabric's home, the verbs.

The home is, in order: ``-home`` / ``BCDR_FABRIC_HOME``; the ``home`` of the specs'
``provider "platform"`` block (relative to the specs); ``.bcdr/fabric`` in the working
directory. Always holds: a home that is not a known string is an error naming the block.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sdk.cli import CommandContext, Output, context_of, opt
from sdk.diagnostics import DiagnosticsError
from sdk.diagnostics import error as diag_error

if TYPE_CHECKING:
    from providers.platform.verbs import EmbeddedPlatform

PROVIDER = "platform"


def home_option(f: Any) -> Any:
    return opt(
        "home",
        envvar="BCDR_FABRIC_HOME",
        metavar="DIR",
        help="The embedded platform's home (default: the provider block's home, else "
        ".bcdr/fabric; env BCDR_FABRIC_HOME).",
    )(f)


def fail(summary: str, detail: str = "") -> DiagnosticsError:
    """A user mistake, reported as every bcdr error is."""
    return DiagnosticsError([diag_error(summary, detail)])


def fabric_home(c: CommandContext, home: str | None) -> Path:
    """Where the embedded platform lives (see the module docstring)."""
    if home:
        return c.rel(home)  # like every path on the command line: under -chdir
    setting = c.provider_setting(PROVIDER, "home")
    if setting is None:
        return c.workdir / ".bcdr" / "fabric"
    if not isinstance(setting.value, str) or not setting.value:
        raise fail(
            "Cannot tell where the embedded platform lives",
            f'{setting.where}: the home of provider "{PROVIDER}" is not a known string here. '
            "Give -home DIR (or set BCDR_FABRIC_HOME).",
        )
    path = Path(setting.value)
    return path if path.is_absolute() else c.workdir / path


def platform_of(
    ctx: click.Context, no_color: bool, home: str | None
) -> tuple[CommandContext, Output, EmbeddedPlatform, Path]:
    """A platform command's context, its output, the platform's verbs and the fabric home."""
    c = context_of(ctx)
    out = c.output(no_color)
    return c, out, verbs(), fabric_home(c, home)


def verbs() -> EmbeddedPlatform:
    """The platform's verbs (imported here: they load the core)."""
    from providers.platform.verbs import EmbeddedPlatform

    return EmbeddedPlatform()

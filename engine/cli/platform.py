"""The embedded platform's domain verbs: serve, verify, gc (``platform_cmds`` adds the
``bcdr platform`` group, registered at the end of this module).

They act on the fabric home directly, not through a plan. Always holds: the platform is
found only through ``engine.registry.load_platform()``; when it is missing, or the home
holds no fabric, the user gets an error that says what to do, never a traceback.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import click

from engine import render
from engine.cli.app import (
    CliContext,
    CliError,
    main,
    no_color_option,
    opt,
    session_of,
)
from engine.ui import UI, ProgressBars
from sdk.diagnostics import DiagnosticsError
from sdk.diagnostics import error as diag_error
from sdk.units import human_bytes


# ------------------------------------------------------- the platform's verbs
def home_option(f: Any) -> Any:
    return opt(
        "home",
        envvar="BCDR_FABRIC_HOME",
        metavar="DIR",
        help="The embedded platform's home (default: the provider block's home, else "
        ".bcdr/fabric; env BCDR_FABRIC_HOME).",
    )(f)


def _platform(s: CliContext, home: str | None) -> tuple[Any, Path]:
    from engine.registry import load_platform

    try:
        platform = load_platform()
    except ImportError as exc:
        platform, why = None, str(exc)
    else:
        why = "no package registers the bcdr.platform entry point"
    if platform is None:
        raise CliError(
            "The embedded platform is not installed",
            f"This command acts on the embedded platform, which could not be loaded ({why}). "
            "Reinstall bcdr with its platform (make test or pip install -e .).",
        )
    return platform, fabric_home(s, home)


def platform_of(
    ctx: click.Context, no_color: bool, home: str | None
) -> tuple[CliContext, UI, Any, Path]:
    """A platform command's session, its UI, the loaded platform and the fabric home."""
    s = session_of(ctx)
    ui = s.use_ui(no_color)
    platform, home_dir = _platform(s, home)
    return s, ui, platform, home_dir


def fabric_home(s: CliContext, home: str | None) -> Path:
    """Where the embedded platform lives: -home / BCDR_FABRIC_HOME (``home``), else the
    ``home`` of the specs' ``provider "platform"`` block (relative to the specs), else
    ``.bcdr/fabric`` in the working directory."""
    if home:
        return s.rel(home)  # like every path on the command line: under -chdir
    configured = _home_from_specs(s)
    if configured is None:
        return s.workdir / ".bcdr" / "fabric"
    path = Path(configured)
    return path if path.is_absolute() else s.workdir / path


def _home_from_specs(s: CliContext) -> str | None:
    if not any(s.workdir.glob("*.hcl")):
        return None
    from engine.config import load_config
    from engine.evaluate import Evaluator
    from engine.varvalues import collect_variable_values
    from sdk.values import UNKNOWN

    config, diags = load_config(s.workdir)
    block = config.providers.get("platform")
    if block is None or "home" not in block.body.attributes:
        return None
    if diags.has_errors:
        raise DiagnosticsError(diags.errors())
    values, vdiags = collect_variable_values(config, cli_vars=[], var_files=[], environ=os.environ)
    if vdiags.has_errors:
        raise DiagnosticsError(vdiags.errors())
    ev = Evaluator(config, {n: values.get(n, UNKNOWN) for n in config.variables}, s.workdir)
    body, _, bdiags = ev.eval_body(block.body, None, ev.context(), "provider.platform")
    if bdiags.has_errors:
        raise DiagnosticsError(bdiags.errors())
    value = body.get("home")
    if not isinstance(value, str) or not value:
        raise CliError(
            "Cannot tell where the embedded platform lives",
            f'{block.range}: the home of provider "platform" is not a known string here. '
            "Give -home DIR (or set BCDR_FABRIC_HOME).",
        )
    return value


class _AccessLines(logging.Handler):
    """``bcdr serve``'s log on stderr: one access line per request, and what the server
    refuses or cannot read (the server never logs a token or a query string)."""

    def __init__(self, ui: UI) -> None:
        super().__init__(logging.INFO)
        self.ui = ui

    def emit(self, record: logging.LogRecord) -> None:
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        level = "" if record.levelno <= logging.INFO else f"{record.levelname.lower()}: "
        self.ui.print(f"{when} {level}{record.getMessage()}", err=True)


@main.command()
@no_color_option
@home_option
@opt("host", default="127.0.0.1", show_default=True, help="Listen on.")
@opt("port", type=int, default=8443, show_default=True, help="Port to use.")
@opt("cert", metavar="FILE", help="Serve HTTPS with this certificate (PEM).")
@opt("key", metavar="FILE", help="The certificate's private key (PEM), unless in the -cert file.")
@click.pass_context
def serve(
    ctx: click.Context,
    no_color: bool,
    home: str | None,
    host: str,
    port: int,
    cert: str | None,
    key: str | None,
) -> None:
    """Serve disk restore points to holders of a valid SAS URL, until Ctrl-C: the Blob REST
    calls an Azure Storage SDK download makes, over HTTP or, with -cert, HTTPS. Logs one line
    per request on stderr."""
    s, ui, platform, home_dir = platform_of(ctx, no_color, home)

    def ready(url: str) -> None:
        ui.print(f"Serving disk restore points at {url}")
        ui.print("Press Ctrl-C to stop.")

    server_log = logging.getLogger("core.access.server")
    lines, level = _AccessLines(ui), server_log.level
    server_log.addHandler(lines)
    server_log.setLevel(logging.INFO)
    server_log.propagate = False
    try:
        platform.serve(
            home_dir,
            host,
            port,
            ready,
            cert=s.rel(cert) if cert else None,
            key=s.rel(key) if key else None,
        )
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise CliError(
            f"Cannot listen on {host}:{port}",
            f"{exc}. Choose another port with -port, or stop what uses this one.",
        ) from None
    finally:
        server_log.removeHandler(lines)
        server_log.setLevel(level)
        server_log.propagate = True
    ui.print("Stopped.")


# what each kind of verify problem is called, and what to do about it
_VERIFY_ADVICE = {
    "key": (
        "Stored data could not be verified: a key is not usable",
        "Enable or recover the key, then run bcdr verify again.",
    ),
    "index": (
        "The block index is damaged",
        "The packs hold everything it holds: rebuild it with bcdr verify -rebuild-index. "
        "Until then, restores from this store are refused.",
    ),
}
_DAMAGED = (
    "Stored data failed verification",
    "Restore points using it cannot be restored safely; take new ones.",
)


@main.command()
@no_color_option
@home_option
@opt(
    "sample",
    type=click.FloatRange(0, 100, min_open=True),
    default=100.0,
    show_default=True,
    metavar="PERCENT",
    help="Check only this percentage of the stored blocks, chosen at random.",
)
@opt(
    "rebuild-index",
    is_flag=True,
    help="First rebuild each block store's index from its packs (a lost or damaged "
    "index.db), then verify.",
)
@click.pass_context
def verify(
    ctx: click.Context, no_color: bool, home: str | None, sample: float, rebuild_index: bool
) -> None:
    """Check every stored byte (blocks, packs, manifests, the index); exit 1 when something
    is wrong, naming the restore points affected."""
    _, ui, platform, home_dir = platform_of(ctx, no_color, home)
    with ProgressBars(ui) as bars:
        result = platform.verify(home_dir, sample, bars.report, rebuild_index)
    for done in result.get("rebuilt", []):
        kept = f"; the index it replaced is kept as {done['kept_as']}" if done["kept_as"] else ""
        ui.print(
            f"Rebuilt the block index of {done['store_dir']} from {done['packs']} packs "
            f"({done['blocks']} blocks){kept}."
        )
    blocks, size = result.get("blocks_checked", 0), result.get("bytes_checked", 0)
    packs, manifests = result.get("packs_checked", 0), result.get("manifests_checked", 0)
    problems = list(result.get("problems", []))
    ui.print(
        f"Checked {blocks} blocks ({human_bytes(size)}), {packs} packs and {manifests} manifests."
    )
    if result.get("legacy_objects"):
        ui.print(
            f"{result['legacy_objects']} packs and manifests predate checksums (format 1): "
            "they were checked for everything but a checksum."
        )
    if problems:
        raise DiagnosticsError(
            [
                diag_error(title, f"{p['message']}\n{advice}")
                for p in problems
                for title, advice in [_VERIFY_ADVICE.get(p.get("what"), _DAMAGED)]
            ]
        )
    ui.print(render.Text("No problems found.", style="bold green"))


@main.command()
@no_color_option
@home_option
@click.pass_context
def gc(ctx: click.Context, no_color: bool, home: str | None) -> None:
    """Delete stored blocks that no restore point references any more, and what interrupted
    writes left behind."""
    _, ui, platform, home_dir = platform_of(ctx, no_color, home)
    with ProgressBars(ui) as bars:
        result = platform.gc(home_dir, bars.report)
    size = human_bytes
    deleted = result.get("blocks_deleted", 0)
    ui.print(
        f"Deleted {deleted} unreferenced blocks, freed {size(result.get('block_bytes_freed', 0))}."
    )
    freed = [result.get("block_bytes_freed", 0)]
    if result.get("temp_files_deleted"):
        freed.append(result["temp_bytes_freed"])
        ui.print(
            f"Deleted {result['temp_files_deleted']} temp files left by interrupted writes, "
            f"freed {size(result['temp_bytes_freed'])}."
        )
    if result.get("objects_deleted"):
        freed.append(result["object_bytes_freed"])
        ui.print(
            f"Deleted {result['objects_deleted']} packs and manifests that no restore point "
            f"or index row names (written by interrupted runs), freed "
            f"{size(result['object_bytes_freed'])}."
        )
    if len(freed) > 1:
        ui.print(f"Freed {size(result.get('bytes_freed', sum(freed)))} in all.")


from engine.cli import platform_cmds  # noqa: E402, F401 - registers ``bcdr platform``

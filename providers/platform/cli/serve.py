"""``bcdr serve``: granted disk restore points over the Blob REST calls a download makes.

Always holds: the server's access log goes to stderr, one line a request, and never holds a
token or a query string; Ctrl-C stops it cleanly; a port in use is an error naming it.
"""

from __future__ import annotations

import click

from providers.platform.cli.common import fail, home_option, platform_of
from sdk.cli import DashCommand, no_color_option, opt


@click.command(cls=DashCommand)
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
    c, out, platform, home_dir = platform_of(ctx, no_color, home)

    def ready(url: str) -> None:
        out.print(f"Serving disk restore points at {url}")
        out.print("Press Ctrl-C to stop.")

    import logging  # here, not at the top: listing the commands must not pay for it

    from providers.platform.cli.access_log import AccessLines

    server_log = logging.getLogger("core.access.server")
    lines, level = AccessLines(out), server_log.level
    server_log.addHandler(lines)
    server_log.setLevel(logging.INFO)
    server_log.propagate = False
    try:
        platform.serve(
            home_dir,
            host,
            port,
            ready,
            cert=c.rel(cert) if cert else None,
            key=c.rel(key) if key else None,
        )
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise fail(
            f"Cannot listen on {host}:{port}",
            f"{exc}. Choose another port with -port, or stop what uses this one.",
        ) from None
    finally:
        server_log.removeHandler(lines)
        server_log.setLevel(level)
        server_log.propagate = True
    out.print("Stopped.")

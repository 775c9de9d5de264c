"""Azurite for the tests: a real Azure Blob emulator, started on 127.0.0.1 and stopped after.

``make test`` installs Azurite from npm into ``.azurite/`` (never globally). ``Azurite``
starts ``azurite-blob`` on a free port with its data in a folder of its own, waits until it
answers, and stops it; ``stop`` and ``start`` again keep the data (the fault tests stop it in
the middle of work). A test that needs Azurite fails, with the reason, when it cannot start
it: it never skips.

Always holds: every instance listens on 127.0.0.1 only, uses Azurite's well-known
development account, and is stopped at the end of the session that started it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "devstoreaccount1"
#: Azurite's published development key (not a secret: every Azurite instance has it)
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"listens on (http://127\.0\.0\.1:(\d+))")


def executable() -> str:
    """``azurite-blob`` from the project's ``.azurite/`` folder, else from PATH."""
    local = ROOT / ".azurite" / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return str(local)
    found = shutil.which("azurite-blob")
    if found:
        return found
    raise RuntimeError(
        "Azurite is not installed: run `make test` (it installs Azurite from npm into "
        ".azurite/), or `npm install --prefix .azurite azurite`"
    )


class Azurite:
    """One Azurite blob service; ``endpoint`` and ``env`` (a connection string) once started."""

    def __init__(self, location: Path) -> None:
        self.location = Path(location)
        self.location.mkdir(parents=True, exist_ok=True)
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
            f"BlobEndpoint={self.endpoint};"
        )

    @property
    def env(self) -> dict[str, str]:
        """The environment a bcdr run needs to reach this Azurite."""
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string}

    def start(self, timeout: float = 30.0) -> Azurite:
        """Start (again, on the same port after a ``stop``) and wait until it answers."""
        log = self.location / "azurite.log"
        cmd = [
            executable(),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(self.port),
            "--location",
            str(self.location / "data"),
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
            "--disableTelemetry",
        ]
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            found = _LISTENING.search(text)
            if found:
                self.port = int(found.group(2))
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Azurite did not start ({' '.join(cmd)}):\n{log.read_text()[-2000:]}")

    def stop(self) -> None:
        """Stop it at once (SIGKILL of its process group): what a crash of the service does."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

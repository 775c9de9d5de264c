"""`make demo`: the quickstart (examples/quickstart/README.md), end to end, with the real CLI.

Copies examples/quickstart to a temporary folder and runs the README's steps with the
`bcdr` of this virtual environment, each as a subprocess whose command and output are
printed: make the images, init, plan, apply, a guest write with `bcdr platform disk write`,
`bcdr drift`, a second restore point (it stores only the written block), a disk restored
from it, read access over a SAS URL served by `bcdr serve` on a free port, and a checksum
comparison of the served bytes, the restored disk and the source disk. Always holds: the
server is stopped and the folder removed however the demo ends; any step that fails stops
the demo with exit 1 and says which. ``tests/e2e`` reuses the helpers below.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICKSTART = HERE / "quickstart"
BCDR = Path(sys.executable).with_name("bcdr")
MIB = 1 << 20
NOTE = b"an order placed after the first restore point\n" * 200


class DemoFailed(Exception):
    """A step did not do what the README says."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(MIB):
            h.update(chunk)
    return h.hexdigest()


def download(url: str, dest: Path) -> str:
    """GET ``url`` into ``dest``; its sha256 (HTTPError for a refused request)."""
    h = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=30) as resp, open(dest, "wb") as out:
        while chunk := resp.read(MIB):
            h.update(chunk)
            out.write(chunk)
    return h.hexdigest()


class Cli:
    """Runs ``bcdr`` in one working directory as a subprocess, echoing when asked."""

    def __init__(self, workdir: Path, env: dict[str, str], echo: bool = True) -> None:
        self.workdir, self.env, self.echo = workdir, env, echo

    def __call__(self, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
        if self.echo:
            print(f"$ bcdr {' '.join(_short(a) for a in args)}", flush=True)
        proc = subprocess.run(
            [str(BCDR), *args],
            cwd=self.workdir,
            env=self.env,
            text=True,
            capture_output=True,
            timeout=300,
        )
        if self.echo:
            sys.stdout.write(_short(proc.stdout))
            sys.stderr.write(proc.stderr)
        if proc.returncode not in ok:
            raise DemoFailed(
                f"`bcdr {' '.join(args)}` exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
            )
        return proc

    def output(self, name: str) -> str:
        proc = subprocess.run(
            [str(BCDR), "output", "-raw", name],
            cwd=self.workdir,
            env=self.env,
            text=True,
            capture_output=True,
            timeout=60,
        )
        if proc.returncode != 0:
            raise DemoFailed(f"`bcdr output -raw {name}` failed: {proc.stderr}")
        return proc.stdout.strip()


_SUB = re.compile(r"/subscriptions/[0-9a-fA-F-]{36}")


def _short(text: str) -> str:
    """Ids shortened for the echo: /subscriptions/<uuid>/... becomes /subscriptions/…/..."""
    return _SUB.sub("/subscriptions/…", text)


def prepare(workdir: Path, size_mib: int | None = None) -> None:
    """Copy the quickstart into ``workdir`` and make its images there."""
    shutil.copytree(QUICKSTART, workdir, dirs_exist_ok=True)
    args = [sys.executable, "make_images.py"]
    if size_mib is not None:
        args += ["--size-mib", str(size_mib)]
    subprocess.run(args, cwd=workdir, check=True, capture_output=True, timeout=120)


def cli_env(port: int) -> dict[str, str]:
    """The environment of every step: the quickstart's serve_url points at ``port``."""
    env = dict(os.environ)
    env["BCDR_VAR_serve_url"] = f"http://127.0.0.1:{port}"
    env.pop("BCDR_FABRIC_HOME", None)
    return env


@contextmanager
def serving(workdir: Path, port: int, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """`bcdr serve -port PORT` in a subprocess, ready when yielded; stopped afterwards."""
    proc = subprocess.Popen(
        [str(BCDR), "serve", "-no-color", "-port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "Serving" not in line:
            proc.kill()
            _, err = proc.communicate(timeout=30)
            raise DemoFailed(f"bcdr serve did not start: {line}{err}")
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
        else:
            proc.communicate()


def tampered(url: str) -> str:
    """The SAS URL with the last character of its signature changed."""
    return url[:-1] + ("A" if url[-1] != "A" else "B")


def run(workdir: Path, say: Callable[[str], None] = print, size_mib: int | None = None) -> dict:
    """The quickstart's steps in ``workdir``; what they showed, for the caller to check."""
    port = free_port()
    bcdr = Cli(workdir, cli_env(port))
    facts: dict = {}
    say("==> 1. Make the disk images (python make_images.py)")
    prepare(workdir, size_mib)
    say("\n==> 2. Create the VM, its disks and the first restore point")
    bcdr("init", "-no-color")
    bcdr("plan", "-no-color")
    bcdr("apply", "-auto-approve", "-no-color")
    again = bcdr("plan", "-detailed-exitcode", "-no-color")
    facts["second_plan_clean"] = "No changes." in again.stdout
    say("\n==> 3. Write to web-data1 as the guest would, and see the drift")
    (workdir / "note.txt").write_bytes(NOTE)
    data1 = bcdr.output("data1_disk_id")
    bcdr("platform", "disk", "write", data1, "--offset", "1MiB", "--input", "note.txt")
    facts["drift_after_write"] = bcdr("drift", "-no-color", ok=(0, 2)).returncode
    say("\n==> 4. A second restore point: only the written block is snapshotted")
    shutil.copy(workdir / "steps" / "02-second-restore-point.hcl", workdir)
    facts["plan_second"] = bcdr("plan", "-no-color").stdout
    bcdr("apply", "-auto-approve", "-no-color")
    stored = json.loads(bcdr("output", "-json", "second_disk_restore_points").stdout)
    facts["second_bytes_stored"] = {
        k.rsplit("/", 1)[-1]: v["bytes_stored"] for k, v in stored.items()
    }
    say("\n==> 5. Restore web-data1 as it was at 'second', and read it back over a SAS URL")
    shutil.copy(workdir / "steps" / "03-restore-and-read.hcl", workdir)
    bcdr("apply", "-auto-approve", "-no-color")
    with serving(workdir, port, bcdr.env):
        say(f"$ bcdr serve -port {port} &   (listening)")
        url = bcdr.output("sas_url")
        say('$ curl -o served.img "$(bcdr output -raw sas_url)"')
        facts["served"] = download(url, workdir / "served.img")
        try:
            download(tampered(url), workdir / "refused.img")
            facts["tampered_status"] = 200
        except urllib.error.HTTPError as exc:
            facts["tampered_status"] = exc.code
            exc.close()
        say(f"a tampered SAS token gets HTTP {facts['tampered_status']}")
    bcdr("platform", "disk", "export", data1, "--output", "data1-now.img")
    restored = bcdr.output("restored_disk_id")
    bcdr("platform", "disk", "export", restored, "--output", "restored.img")
    facts["source"] = sha256_file(workdir / "data1-now.img")
    facts["restored"] = sha256_file(workdir / "restored.img")
    say(f"web-data1 now            sha256 {facts['source']}")
    say(f"served over the SAS URL  sha256 {facts['served']}")
    say(f"restored disk            sha256 {facts['restored']}")
    return facts


def main() -> None:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bcdr-demo-") as tmp:
        try:
            facts = run(Path(tmp) / "quickstart")
        except DemoFailed as exc:
            print(f"\ndemo failed: {exc}", file=sys.stderr)
            raise SystemExit(1) from None
    if not facts["second_plan_clean"]:
        raise SystemExit("demo failed: the plan after apply was not clean")
    if facts["tampered_status"] != 403:
        raise SystemExit("demo failed: a tampered SAS token was not refused")
    if not facts["source"] == facts["served"] == facts["restored"]:
        raise SystemExit("demo failed: checksums differ")
    print("\nWhat the demo did:")
    print("  - imported three disks from generated images, created a VM, a restore point")
    print("    collection and a full first restore point; a second plan said 'No changes.'")
    print(f"  - wrote {len(NOTE)} bytes into web-data1 with `bcdr platform disk write`;")
    print(f"    `bcdr drift` exited {facts['drift_after_write']} (2: changed outside bcdr)")
    stored = ", ".join(f"{k} {v:,} bytes" for k, v in facts["second_bytes_stored"].items())
    print(f"  - the second restore point stored only the written block: {stored}")
    print("  - restored web-data1 from it and served it over a SAS URL (a tampered token got")
    print(f"    HTTP {facts['tampered_status']})")
    print("checksums match")
    print(f"\nDemo complete in {time.monotonic() - started:.0f} s.")


if __name__ == "__main__":
    main()

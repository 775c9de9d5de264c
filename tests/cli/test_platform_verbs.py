"""``serve``, ``verify`` and ``gc`` through the CLI against a real (empty) embedded fabric."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from importlib.metadata import version
from pathlib import Path

import pytest

from core.fabric import Fabric

MAIN = "from engine.cli.app import main; main()"


@pytest.fixture
def fabric_home(tmp_path: Path) -> Path:
    home = tmp_path / "fabric"
    Fabric.open(home).close()
    return home


def test_verify_and_gc_on_an_empty_fabric(bcdr, fabric_home):
    verified = bcdr("verify", "-home", str(fabric_home), "-sample", "50", "-no-color")
    assert verified.exit_code == 0, verified.output
    assert "Checked 0 blocks (0 B), 0 packs and 0 manifests." in verified.output
    assert "No problems found." in verified.output
    collected = bcdr("gc", "-no-color", env={"BCDR_FABRIC_HOME": str(fabric_home)})
    assert collected.exit_code == 0, collected.output
    assert "Deleted 0 unreferenced blocks, freed 0 B." in collected.output


def test_verify_rejects_a_bad_sample(bcdr, fabric_home):
    result = bcdr("verify", "-home", str(fabric_home), "-sample", "0")
    assert result.exit_code == 2
    assert "-sample" in result.output


def test_verbs_without_a_fabric_say_what_to_do(bcdr, workdir):
    for verb in ("verify", "gc", "serve"):
        result = bcdr(verb, "-no-color")
        assert result.exit_code == 1, (verb, result.output)
        assert "Error: no embedded platform at" in result.output
        assert str(workdir / ".bcdr" / "fabric") in result.output
        assert "Traceback" not in result.output


def test_serve_answers_http_and_stops_on_ctrl_c(fabric_home, tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            MAIN,
            "-chdir",
            str(tmp_path),
            "serve",
            "-home",
            str(fabric_home),
            "-port",
            "0",
            "-no-color",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"Serving disk restore points at (http://127\.0\.0\.1:\d+)", first)
        assert match, (first, proc.stderr.read() if proc.poll() is not None else "")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(match.group(1) + "/no-such-disk?sig=SECRET", timeout=10)
        refused.value.close()
        assert refused.value.code == 403
        assert refused.value.headers["x-ms-error-code"] == "AuthenticationFailed"
        # issue 10.12: the server names its version
        assert refused.value.headers["Server"] == f"bcdr/{version('bcdr')}"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, (out, err)
    assert "Stopped." in out
    # issue 10.12: one access line per request (method, path, status, bytes), never the query
    assert re.search(r"^\S+Z 127\.0\.0\.1 GET /no-such-disk 403 \d+$", err, re.M), err
    assert "SECRET" not in out + err and "sig=" not in out + err


def test_serve_speaks_https_with_a_certificate(fabric_home, tmp_path):
    import ssl

    from tests.core.test_sas_server import self_signed

    cert, key = self_signed(tmp_path)
    args = ["serve", "-home", str(fabric_home), "-port", "0", "-cert", "cert.pem", "-key"]
    proc = subprocess.Popen(
        [sys.executable, "-c", MAIN, "-chdir", str(tmp_path), *args, "key.pem", "-no-color"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        match = re.search(r"Serving disk restore points at (https://127\.0\.0\.1:\d+)", first)
        assert match, (first, proc.stderr.read() if proc.poll() is not None else "")
        trusting = ssl.create_default_context(cafile=str(cert))
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(match.group(1) + "/a/b/c", timeout=10, context=trusting)
        refused.value.close()
        assert refused.value.code == 403
        assert refused.value.headers["x-ms-error-code"] == "AuthenticationFailed"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, (out, err)
    assert re.search(r"^\S+Z 127\.0\.0\.1 GET /a/b/c 403 \d+$", err, re.M), err


def test_serve_refuses_a_certificate_it_cannot_read(bcdr, fabric_home, workdir):
    result = bcdr("serve", "-home", str(fabric_home), "-port", "0", "-cert", "nope.pem")
    assert result.exit_code == 1, result.output
    assert "Error: cannot serve HTTPS" in result.output
    assert f"cannot read {workdir / 'nope.pem'}: no such file" in result.output
    assert "Traceback" not in result.output

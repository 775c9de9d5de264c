"""Bad requests to ``bcdr serve``: none is answered with data, none crashes the server.

One folder applies four disks, a VM, a restore point and two SAS grants and runs
``bcdr serve``; a second folder with its own fabric (its own signing key) makes a grant too.
Then requests go over real HTTP: a tampered or missing signature, a start or expiry moved,
widened permissions or resource, one disk's token on another disk, the other fabric's token
and signature (wrong key), correctly signed grants that ended before now or start tomorrow
(made through the core), a revoked grant, and oversized or malformed fields (a Range of
5,000 digits, a URL of 100 KB, a header line of 100 KB, hundreds of headers). Counted as
failures: any bad request answered 2xx, a range not answered as HTTP says (416 past the
end, 206 clamped, 400 malformed), a valid
request not answered 200 after the bad ones, a traceback or a token in the server's log.
"""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from .cli import BCDR, Folder, MiB, Outcome, write_image

SPEC = """
provider "platform" {
  serve_url = "%(url)s"
}

resource "resource_group" "g" {
  name     = "sas"
  location = "eastus"
}

resource "managed_disk" "disk" {
  for_each       = toset(["a", "b", "c", "d"])
  name           = each.key
  resource_group = resource_group.g.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "${each.key}.img"
}

resource "virtual_machine" "vm" {
  name           = "vm"
  resource_group = resource_group.g.name
  location       = "eastus"
  os_type        = "linux"
  os_distro      = "ubuntu-22.04"
  os_disk_id     = managed_disk.disk["a"].id
  data_disk_ids  = [for k in ["b", "c", "d"] : managed_disk.disk[k].id]
}

resource "restore_point_collection" "c" {
  name           = "c"
  resource_group = resource_group.g.name
  location       = "eastus"
  source_vm_id   = virtual_machine.vm.id
}

resource "restore_point" "rp" {
  name          = "rp"
  collection_id = restore_point_collection.c.id
}

resource "disk_access" "a" {
  disk_restore_point_id = "${restore_point.rp.id}/diskRestorePoints/a"
  duration_seconds      = 3600
}

resource "disk_access" "b" {
  disk_restore_point_id = "${restore_point.rp.id}/diskRestorePoints/b"
  duration_seconds      = 3600
}

output "url_a" {
  value     = disk_access.a.sas_url
  sensitive = true
}

output "url_b" {
  value     = disk_access.b.sas_url
  sensitive = true
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _setup(path: Path, port: int) -> Folder:
    work = Folder(path)
    path.mkdir(parents=True, exist_ok=True)
    for seed, name in enumerate("abcd"):
        write_image(path / f"{name}.img", MiB // 4, seed=seed + 11)
    (path / "main.hcl").write_text(SPEC % {"url": f"http://127.0.0.1:{port}"})
    ran = work.run("apply", "-auto-approve", "-no-color")
    if ran.code != 0:
        raise RuntimeError(f"the SAS spec does not apply: {ran.text}")
    return work


def _url(work: Folder, name: str) -> str:
    ran = work.run("output", "-raw", name)
    if ran.code != 0 or "sig=" not in ran.out:
        raise RuntimeError(f"no SAS URL in output {name}: {ran.text}")
    return ran.out.strip()


def _target(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def _with(url: str, **fields: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(fields)
    return parts.path + "?" + urlencode(query, safe="/:")


def _request(port: int, target: str, headers: dict[str, str] | None = None) -> int:
    """The status of one GET, or 0 when the server closed without an answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.putrequest("GET", target, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except (http.client.HTTPException, OSError):
        return 0
    finally:
        conn.close()


def _bad_requests(url_a: str, url_b: str, url_other: str) -> dict[str, tuple[str, dict]]:
    sig = dict(parse_qsl(urlsplit(url_a).query))["sig"]
    forged = sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB")
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    a = _target(url_a)
    return {
        "tampered signature": (_with(url_a, sig=forged), {}),
        "no signature": (_with(url_a, sig=""), {}),
        "start moved into the future": (_with(url_a, st=future), {}),
        "expiry moved later": (_with(url_a, se=future), {}),
        "widened permissions": (_with(url_a, sp="rw"), {}),
        "widened resource": (_with(url_a, sr="c"), {}),
        "one disk's token on another disk": (
            urlsplit(url_b).path + "?" + urlsplit(url_a).query,
            {},
        ),
        "the other fabric's token": (_target(url_other), {}),
        "the other fabric's signature": (
            urlsplit(url_a).path + "?" + urlsplit(url_other).query,
            {},
        ),
        "no query": (urlsplit(url_a).path, {}),
        "URL of 100 KB": (a + "&pad=" + "a" * 100_000, {}),
        "header line of 100 KB": (a, {"X-Pad": "b" * 100_000}),
        "500 headers": (a, {f"X-H{i}": "v" for i in range(500)}),
    }


# a range starting past the end is unsatisfiable (416); one ending past it is clamped to the
# end (206, as RFC 9110 and Azure answer); a malformed one is a bad request (400)
RANGES = {
    "Range starting at a 5,000-digit offset": ({"Range": "bytes=" + "9" * 5000 + "-"}, {416}),
    "x-ms-range starting at a 5,000-digit offset": (
        {"x-ms-range": "bytes=" + "9" * 5000 + "-"},
        {416},
    ),
    "x-ms-range ending at a 5,000-digit offset": ({"x-ms-range": "bytes=0-" + "9" * 5000}, {206}),
    "Range past the end": ({"Range": "bytes=999999999-"}, {416}),
    "malformed x-ms-range": ({"x-ms-range": "bytes=a-b"}, {400, 416}),
}


def run(n: int, seed: int, tmp: Path) -> Outcome:
    out = Outcome("bad SAS requests", 0, {})
    port = _free_port()
    work = _setup(tmp / "served", port)
    url_a, url_b = _url(work, "url_a"), _url(work, "url_b")
    url_other = _url(_setup(tmp / "other", _free_port()), "url_a")
    sig = dict(parse_qsl(urlsplit(url_a).query))["sig"]

    log_path = tmp / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(BCDR), "serve", "-no-color", "--host", "127.0.0.1", "--port", str(port)],
            cwd=work.path,
            env=work.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_serving(port)
            if _request(port, _target(url_a)) != 200:
                raise RuntimeError("the valid SAS URL is not served")
            answers: dict[str, int] = {}
            for what, (target, headers) in _bad_requests(url_a, url_b, url_other).items():
                answers[what] = _request(port, target, headers)
            expired, early = _grants_out_of_time(work, port)
            answers["signed, ended before now"] = _request(port, expired)
            answers["signed, starts tomorrow"] = _request(port, early)
            for what, status in answers.items():
                if 200 <= status < 300:
                    out.fail("bad requests accepted", f"{what}: {status}")
            for what, (headers, expected) in RANGES.items():
                answers[what] = status = _request(port, _target(url_a), headers)
                if status not in expected:
                    out.fail("ranges answered wrongly", f"{what}: {status}, not {expected}")
            if _request(port, _target(url_a)) != 200:
                out.fail("valid request refused after the bad ones")
            _rewrite(work, _without_a)
            answers["revoked"] = _request(port, _target(url_a))
            if 200 <= answers["revoked"] < 300:
                out.fail("bad requests accepted", f"revoked: {answers['revoked']}")
            out.trials = len(answers)
            out.figures["statuses seen"] = " ".join(sorted({str(v) for v in answers.values()}))
        finally:
            server.terminate()
            server.wait(timeout=20)
    text = log_path.read_text(errors="replace")
    out.failures["tracebacks in the server log"] = text.count("Traceback (most recent call")
    out.failures.setdefault("bad requests accepted", 0)
    if sig in text:
        out.fail("token in the server log")
    return out


def _wait_serving(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("bcdr serve did not start")


def _grants_out_of_time(work: Folder, port: int) -> tuple[str, str]:
    """Request targets of two correctly signed grants: one expired, one not yet started."""
    from core.access import Access
    from core.disks import Disks
    from core.fabric import Fabric
    from core.restorepoints import RestorePoints

    fabric = Fabric.open(work.path / ".bcdr" / "fabric")
    try:
        rps = RestorePoints(fabric, Disks(fabric))
        access = Access(fabric, rps, base_url=f"http://127.0.0.1:{port}")
        (rp,) = rps.list()
        drps = {d.id.rsplit("/", 1)[-1]: d.id for d in rp.disk_restore_points}
        now = time.time()
        expired = access.grant(drps["c"], 60, now=now - 3600).url
        early = access.grant(drps["d"], 60, now=now + 3600).url
        rps.close()
    finally:
        fabric.close()
    return _target(expired), _target(early)


def _without_a(spec: str) -> str:
    spec = re.sub(r'resource "disk_access" "a" \{.*?\n\}\n', "", spec, flags=re.S)
    return re.sub(r'output "url_a" \{.*?\n\}\n', "", spec, flags=re.S)


def _rewrite(work: Folder, change: Callable[[str], str]) -> None:
    """Change the served folder's spec and apply it."""
    path = work.path / "main.hcl"
    path.write_text(change(path.read_text()))
    ran = work.run("apply", "-auto-approve", "-no-color")
    if ran.code != 0:
        raise RuntimeError(f"changing the grants failed: {ran.text}")

"""Remote state benchmark: what a state on Azure Blob (Azurite) costs per apply step.

```
python bench/remote_state.py [--sizes 50,300] [--repeat 3] [--quick] [--json FILE] [--tmp DIR]
```

For each size N it writes N independent ``bcdr_data`` resources and runs, interleaved,
``apply -auto-approve -parallelism 1`` (N steps one after another) from a fresh state in a
folder with the local state and in a folder whose ``bcdr`` block names a backend
``azurerm`` on an Azurite started for the run; the remote-state overhead per step is the
difference of the medians over N. Then it times the parts of that overhead in-process, on
the state the remote apply left: ``StateStore.serialize`` of the state, one upload of it
(Put Blob under the lease, as each commit does), one download, and a lease taken and given
back (acquire, holder metadata, clear, release), a refused attempt to take it while it is
held (in-process), and a refused ``bcdr plan`` of a second folder while the first holds the
lock (a whole CLI process, start-up and the Azure SDK's import included). Each step
commits twice (its intent before the provider is called, its result after), so the
expected overhead per step is two serialize-and-uploads.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (  # noqa: E402
    CommandFailed,
    fmt_ratio,
    fmt_seconds,
    format_table,
    human_bytes,
    run_measured,
)

CONTAINER, KEY = "tfstate", "bench.bcdr"


def bcdr_command() -> list[str]:
    script = Path(sys.executable).parent / "bcdr"
    return [str(script)] if script.exists() else [sys.executable, "-m", "engine.cli"]


def write_config(directory: Path, n: int, backend: str = "") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    blocks = [f'resource "bcdr_data" "r{i}" {{\n  input = "{i}"\n}}\n' for i in range(n)]
    (directory / "main.hcl").write_text(backend + "\n".join(blocks))


def backend_block(endpoint: str) -> str:
    return (
        f'bcdr {{\n  backend "azurerm" {{\n    endpoint       = "{endpoint}"\n'
        f'    container_name = "{CONTAINER}"\n    key            = "{KEY}"\n  }}\n}}\n\n'
    )


def cli(args: list[str], cwd: Path, env: dict[str, str], expect: int = 0):
    run = run_measured([*bcdr_command(), *args], cwd=cwd, env=env, check=False)
    if run.returncode != expect:
        tail = "\n".join((run.stdout + run.stderr).strip().splitlines()[-12:])
        raise CommandFailed(f"bcdr {' '.join(args)} exited {run.returncode} in {cwd}:\n{tail}")
    return run


def fresh(work: Path) -> None:
    """Forget the state of a previous round: the local files, or the blob."""
    shutil.rmtree(work / ".bcdr" / "cache", ignore_errors=True)
    for name in ("state.db", "state.db.backup", "state.db-wal", "state.db-shm"):
        (work / ".bcdr" / name).unlink(missing_ok=True)


def median_of(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def cpu_of(fn, repeat: int) -> float:
    """Median CPU seconds of this process (the client's share: SDK, HTTP, hashing)."""
    samples = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        samples.append(time.process_time() - start)
    return statistics.median(samples)


def import_cost(repeat: int) -> float:
    """Median seconds a process spends importing the Azure SDK (median of both, subtracted)."""
    bare = [run_measured([sys.executable, "-c", "pass"]).seconds for _ in range(repeat * 3)]
    sdk = [
        run_measured([sys.executable, "-c", "import azure.storage.blob"]).seconds
        for _ in range(repeat * 3)
    ]
    return statistics.median(sdk) - statistics.median(bare)


def parts(endpoint: str, repeat: int) -> dict[str, float | int]:
    """The pieces of one remote commit, timed in this process on the bench's state."""
    from azblob import Container
    from state import AzureBlobBackend, StateLocked

    backend = AzureBlobBackend(endpoint, CONTAINER, KEY)
    container = Container(endpoint, CONTAINER)
    out: dict[str, float | int] = {}
    with backend.holding("bench") as _held:
        store = backend.open()
        image = store.serialize()
        out["image bytes"] = len(image)
        out["serialize"] = median_of(store.serialize, repeat * 10)
        out["upload (Put Blob under the lease)"] = median_of(
            lambda: backend.upload(store), repeat * 5
        )
        out["upload, client CPU"] = cpu_of(lambda: backend.upload(store), repeat * 5)
        out["download"] = median_of(lambda: container.get(KEY), repeat * 5)
        store.close()
        other = AzureBlobBackend(endpoint, CONTAINER, KEY)

        def refused() -> None:
            try:
                with other.holding("plan"):
                    raise CommandFailed("a held lease was taken twice")
            except StateLocked:
                pass

        out["refusal, in-process"] = median_of(refused, repeat * 3)

    def lease_round() -> None:
        with backend.holding("bench"):
            pass

    out["lease taken and given back"] = median_of(lease_round, repeat * 3)
    return out


HOLD = """
import sys
from state import AzureBlobBackend
backend = AzureBlobBackend(sys.argv[1], sys.argv[2], sys.argv[3])
with backend.holding("apply"):
    print("held", flush=True)
    sys.stdin.readline()
"""


def refused_plan(work: Path, endpoint: str, env: dict[str, str], repeat: int) -> float:
    """Median seconds of a ``bcdr plan`` refused because another process holds the lease."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, endpoint, CONTAINER, KEY],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert holder.stdout is not None and holder.stdin is not None
    holder.stdout.readline()
    try:
        runs = [cli(["plan", "-no-color"], work, env, expect=1) for _ in range(repeat)]
        for run in runs:
            if "is locked" not in run.stderr:
                raise CommandFailed(f"the plan was not refused by the lock:\n{run.stderr}")
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    return statistics.median(r.seconds for r in runs)


def measure(sizes: list[int], repeat: int, tmp: Path) -> dict:
    from azblob import BlobNotFound, Container
    from tests.azurite import Azurite

    azurite = Azurite(tmp / "azurite").start()
    try:
        env = dict(os.environ)
        env.update(azurite.env)
        os.environ.update(azurite.env)
        Container(azurite.endpoint, CONTAINER).create()
        data: dict = {"sizes": {}}
        for n in sizes:
            local, remote = tmp / f"local{n}", tmp / f"remote{n}"
            write_config(local, n)
            write_config(remote, n, backend_block(azurite.endpoint))
            cli(["init", "-no-color"], local, env)
            cli(["init", "-no-color"], remote, env)
            times: dict[str, list[float]] = {"local": [], "remote": []}
            for _ in range(repeat):
                for name, work in (("local", local), ("remote", remote)):
                    fresh(work)
                    if name == "remote":
                        with contextlib.suppress(BlobNotFound):
                            Container(azurite.endpoint, CONTAINER).delete_blob(KEY)
                    run = cli(
                        ["apply", "-auto-approve", "-parallelism", "1", "-no-color"], work, env
                    )
                    if f"{n} added" not in run.stdout:
                        raise CommandFailed(f"the apply did not add {n}:\n{run.stdout[-800:]}")
                    times[name].append(run.seconds)
            med = {k: statistics.median(v) for k, v in times.items()}
            data["sizes"][n] = {
                "apply local s": med["local"],
                "apply remote s": med["remote"],
                "samples": times,
                "per step overhead s": (med["remote"] - med["local"]) / n,
                "parts": parts(azurite.endpoint, repeat),
                "refused plan s": refused_plan(remote, azurite.endpoint, env, repeat),
            }
            shutil.rmtree(local)
            shutil.rmtree(remote)
        data["sdk import s"] = import_cost(repeat)
        return data
    finally:
        azurite.stop()


def report(data: dict) -> None:
    sizes = data["sizes"]
    rows = []
    for n, f in sizes.items():
        rows.append(
            [
                f"{n:,}",
                fmt_seconds(f["apply local s"]),
                fmt_seconds(f["apply remote s"]),
                fmt_ratio(f["apply remote s"] / f["apply local s"]),
                f"{f['per step overhead s'] * 1000:.1f} ms",
                fmt_seconds(f["refused plan s"]),
            ]
        )
    headers = ["steps", "apply, local", "apply, remote", "ratio", "overhead/step", "refused plan"]
    print(format_table(headers, rows))
    ns = sorted(sizes)
    if len(ns) > 1:
        a, b = sizes[ns[0]], sizes[ns[-1]]
        extra = (b["apply remote s"] - b["apply local s"]) - (
            a["apply remote s"] - a["apply local s"]
        )
        per_step = extra / (ns[-1] - ns[0])
        fixed = (a["apply remote s"] - a["apply local s"]) - per_step * ns[0]
        data["marginal per step s"], data["fixed per apply s"] = per_step, fixed
        print(
            f"\nMarginal overhead per step ({ns[0]} -> {ns[-1]} steps): {per_step * 1000:.1f} ms;"
            f" fixed per apply: {fmt_seconds(fixed)} (of which importing the Azure SDK "
            f"{fmt_seconds(data['sdk import s'])})."
        )
    print("\nWhere a remote commit's time goes (in-process medians; 2 commits per step):")
    rows = []
    for n, f in sizes.items():
        p = f["parts"]
        upload = p["upload (Put Blob under the lease)"]
        rows.append(
            [
                f"{n:,}",
                human_bytes(p["image bytes"]),
                f"{p['serialize'] * 1000:.2f} ms",
                f"{upload * 1000:.1f} ms",
                f"{p['upload, client CPU'] * 1000:.1f} ms",
                f"{p['download'] * 1000:.1f} ms",
                f"{p['lease taken and given back'] * 1000:.1f} ms",
                f"{p['refusal, in-process'] * 1000:.1f} ms",
                f"{2 * (p['serialize'] + upload) * 1000:.1f} ms",
            ]
        )
    headers = [
        "steps", "image", "serialize", "upload", "its client CPU", "download", "lease round",
        "refusal", "2 commits",
    ]  # fmt: skip
    print(format_table(headers, rows))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="50,300", help="comma-separated step counts")
    p.add_argument("--quick", action="store_true", help="one size of 10 steps, 1 repeat")
    p.add_argument("--repeat", type=int, default=3, help="applies per folder; median shown")
    p.add_argument("--json", type=Path, help="write the results as JSON to this file")
    p.add_argument("--tmp", type=Path, help="scratch directory (default: the system's)")
    args = p.parse_args()
    sizes = [10] if args.quick else [int(x) for x in args.sizes.split(",")]
    repeat = 1 if args.quick else args.repeat
    tmp = Path(tempfile.mkdtemp(prefix="bcdr-remote-bench-", dir=args.tmp))
    try:
        data = measure(sizes, repeat, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(data)
    if args.json:
        args.json.write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The peers' runs: restic and borg (content-defined or fixed chunks) on the same images.

``PeerRuns`` is a mixin of ``snapshot.Bench``: it uses the bench's ``tmp``, ``image`` and
``day2`` paths, its ``result`` method and its ``problems`` list.

Always holds: a peer is timed as whole commands (its bare start-up is measured beside), in a
scratch directory of its own that is removed afterwards; its restore is compared with the
day-2 image before its figure is kept; a peer that is not installed is reported, not faked.
"""

from __future__ import annotations

import os
import shutil

from common import dir_bytes, run_measured
from image import _check_same, _overwrite


class PeerRuns:
    """What ``Bench`` does for each peer named on the command line."""

    def measure_peer(self, name: str, rep: int) -> None:
        binary = "borg" if name.startswith("borg") else "restic"
        if shutil.which(binary) is None:
            if rep == 0:
                self.problems.append(
                    f"{binary} is not installed, skipped: apt-get install restic borgbackup"
                )
            return
        work = self.tmp / f"{name}-{rep}"
        src, out_dir, repo = work / "src", work / "out", work / "repo"
        src.mkdir(parents=True)
        out_dir.mkdir()
        shutil.copyfile(self.image, src / "disk.img")
        if binary == "restic":
            env = os.environ | {
                "RESTIC_PASSWORD": "bench",
                "RESTIC_REPOSITORY": str(repo),
                "RESTIC_CACHE_DIR": str(work / "cache"),
            }
            start = ["restic", "version"]
            init = ["restic", "init", "-q"]
            backup = [["restic", "backup", "-q", "--host", "bench", "disk.img"]] * 2
            restore = ["restic", "restore", "latest", "-q", "--target", out_dir]
        else:
            env = os.environ | {
                "BORG_BASE_DIR": str(work / "base"),
                "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes",
                "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes",
            }
            chunker = ["--chunker-params", "fixed,65536"] if name == "borg-fixed" else []
            start = ["borg", "--version"]
            init = ["borg", "init", "--encryption=none", repo]
            backup = [["borg", "create", *chunker, f"{repo}::{day}", "disk.img"] for day in "12"]
            restore = ["borg", "extract", f"{repo}::2"]
        run = run_measured(start, env=env)
        self.result(f"{name} (process start)", name, "start").add(run.seconds, run.peak_rss)
        run_measured(init, env=env)
        run = run_measured(backup[0], cwd=src, env=env)
        first = self.result(f"{name} first backup", name, "first")
        first.add(run.seconds, run.peak_rss)
        first.store_bytes = dir_bytes(repo)
        _overwrite(src / "disk.img", self.day2)
        run = run_measured(backup[1], cwd=src, env=env)
        second = self.result(f"{name} second backup", name, "second")
        second.add(run.seconds, run.peak_rss)
        second.store_bytes = dir_bytes(repo)
        second.store_growth = second.store_bytes - (first.store_bytes or 0)
        run = run_measured(restore, cwd=out_dir, env=env)
        self.result(f"{name} restore", name, "restore").add(run.seconds, run.peak_rss)
        restored = next(p for p in out_dir.rglob("disk.img") if p.is_file())
        _check_same(restored, self.day2, f"{name} restore", full=rep == 0)
        shutil.rmtree(work)

"""Two commands at once on one state: apply/apply, apply/plan, apply/drift.

One folder holds a spec of ``bcdr_data`` resources whose inputs carry a generation number
(``-var gen=N``), so every apply rewrites every resource, one state transaction per step.
Each trial starts an apply, then after a random 0–0.4 s the second command. Exactly one of
them may hold the lock; the other must be refused at once (while the holder still runs, so
it did not wait for the lock), naming the holder's pid. Counted as failures: a holder that
did not finish (aborted), a refusal that came only after the holder ended or does not name
the holder, both or neither running, and a state afterwards whose resources carry more
than one generation (interleaved writes) or not the winner's. How fast a refusal comes is
a figure (the slowest, and how many took over 1 s: a whole process start on a loaded
machine can), not a failure.
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

from .cli import Folder, Outcome

RESOURCES = 600

SPEC = """
variable "gen" {
  type    = number
  default = 0
}

resource "bcdr_data" "r" {
  count = %d
  input = {
    gen   = var.gen
    index = count.index
  }
}
"""

SECOND = {
    "apply": ("apply", "-auto-approve", "-no-color"),
    "plan": ("plan", "-no-color"),
    "drift": ("drift", "-no-color"),
}


def _generations(work: Folder) -> set[int]:
    shown = work.json("show", "-json")
    assert isinstance(shown, dict)
    resources = shown.get("values", {}).get("root_module", {}).get("resources", [])
    return {r["values"]["input"]["gen"] for r in resources}


def _refused(text: str) -> bool:
    return bool(re.search(r"lock", text, re.IGNORECASE))


def run(n: int, seed: int, tmp: Path) -> Outcome:
    rng = random.Random(seed)
    out = Outcome("two commands at once", n * len(SECOND), {})
    work = Folder(tmp / "concurrent")
    work.path.mkdir(parents=True, exist_ok=True)
    (work.path / "main.hcl").write_text(SPEC % RESOURCES)
    first = work.run("apply", "-auto-approve", "-no-color", "-var", "gen=0")
    if first.code != 0:
        raise RuntimeError(f"the concurrency spec does not apply: {first.text}")
    out.figures["holder apply seconds"] = round(first.seconds, 2)
    slowest_refusal = 0.0
    gen = applied = 0
    for kind, args in SECOND.items():
        for _ in range(n):
            gen += 1
            holder = work.start("apply", "-auto-approve", "-no-color", "-var", f"gen={gen}")
            time.sleep(rng.uniform(0, 0.4))
            extra = ("-var", f"gen={gen + 100000}") if kind == "apply" else ()
            started = time.perf_counter()
            second = work.start(*args, *extra)
            s_out, s_err = second.communicate(timeout=120)
            s_seconds = time.perf_counter() - started
            holder_still_ran = holder.poll() is None
            h_out, h_err = holder.communicate(timeout=120)
            s_text, h_text = s_out + s_err, h_out + h_err
            if "Traceback" in s_text + h_text or "internal error" in s_text + h_text:
                out.fail("tracebacks", s_text + h_text)
            s_refused = second.returncode != 0 and _refused(s_text)
            h_refused = holder.returncode != 0 and _refused(h_text)
            if s_refused == h_refused:
                out.fail(
                    "not exactly one refused",
                    f"{kind}: holder {holder.returncode} {h_text}\nsecond {second.returncode} "
                    f"{s_text}",
                )
                continue
            refused, refused_text, winner = (
                (second, s_text, holder) if s_refused else (holder, h_text, second)
            )
            if winner.returncode != 0:
                out.fail("holder aborted", f"{kind}: {h_text if s_refused else s_text}")
            if str(winner.pid) not in refused_text:
                out.fail("refusal does not name the holder", refused_text)
            if s_refused:
                slowest_refusal = max(slowest_refusal, s_seconds)
                if not holder_still_ran:
                    out.fail("refused only after the holder ended", f"{kind}: {s_seconds:.2f} s")
                if s_seconds > 1.0:
                    out.figures["refusals over 1 s"] = (
                        int(out.figures.get("refusals over 1 s", 0)) + 1
                    )
            else:
                out.figures["second command took the lock first"] = (
                    int(out.figures.get("second command took the lock first", 0)) + 1
                )
            if kind == "apply":
                applied = gen if s_refused else gen + 100000
            elif s_refused:
                applied = gen
            # (when the read-only command took the lock first, the apply was refused and
            # the state keeps the generation before it)
            gens = _generations(work)
            if gens != {applied}:
                out.fail("interleaved writes", f"{kind}: generations {sorted(gens)[:5]}")
    out.figures["slowest refusal seconds"] = round(slowest_refusal, 3)
    return out

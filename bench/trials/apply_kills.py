"""kill -9 of ``bcdr apply`` (and of ``bcdr destroy``) at a random moment.

Each trial copies a small platform spec (a group, an imported and an empty disk, a VM, a
collection, a restore point and a SAS grant) into its own folder, starts the command, kills
it with SIGKILL after a delay drawn uniformly from the command's own measured duration, and
then runs the same command once more. Counted as failures: the second run not converging
(non-zero exit), a plan afterwards that is not "No changes." (or, after a destroy, a state or
platform that is not empty), platform objects no state entry names (phantoms), state entries
whose object is gone (lost), a store that does not verify, and any traceback.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

from .cli import Folder, MiB, Outcome, fresh_copy, ids_in, write_image

SPEC = """
provider "platform" {
  serve_url = "http://127.0.0.1:9"
}

resource "resource_group" "g" {
  name     = "faults"
  location = "eastus"
}

resource "managed_disk" "os" {
  name           = "os"
  resource_group = resource_group.g.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "images/os.img"
}

resource "managed_disk" "data" {
  name           = "data"
  resource_group = resource_group.g.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "images/data.img"
}

resource "virtual_machine" "vm" {
  name           = "vm"
  resource_group = resource_group.g.name
  location       = "eastus"
  os_type        = "linux"
  os_distro      = "ubuntu-22.04"
  power_state    = "running"
  os_disk_id     = managed_disk.os.id
  data_disk_ids  = [managed_disk.data.id]
}

resource "restore_point_collection" "c" {
  name           = "c"
  resource_group = resource_group.g.name
  location       = "eastus"
  source_vm_id   = virtual_machine.vm.id
}

resource "restore_point" "rp" {
  name             = "rp"
  collection_id    = restore_point_collection.c.id
  consistency_mode = "CrashConsistent"
}

resource "disk_access" "read" {
  disk_restore_point_id = "${restore_point.rp.id}/diskRestorePoints/${managed_disk.data.name}"
  access                = "Read"
  duration_seconds      = 3600
}
"""


def template(root: Path, image_mib: int = 2) -> Path:
    """The spec and its images, written once; every trial copies it."""
    tpl = root / "template"
    tpl.mkdir(parents=True, exist_ok=True)
    (tpl / "main.hcl").write_text(SPEC)
    write_image(tpl / "images" / "os.img", image_mib * MiB, seed=1)
    write_image(tpl / "images" / "data.img", image_mib * MiB, seed=2)
    return tpl


def _platform_ids(work: Folder) -> set[str]:
    objects = work.json("platform", "list", "-json")
    assert isinstance(objects, list)
    return {o["id"].lower() for o in objects}


def _state_ids(work: Folder) -> set[str]:
    return ids_in(work.json("show", "-json"))


def _check_tracked(work: Folder, out: Outcome, trial: int) -> None:
    """Platform list ≡ state: nothing on the platform the state does not name, and back."""
    on_platform, in_state = _platform_ids(work), _state_ids(work)
    phantom = on_platform - in_state
    if phantom:
        out.fail("phantom objects", f"trial {trial}: {sorted(phantom)}")
    listed_types = {i.rsplit("/", 2)[-2] for i in on_platform}
    lost = {i for i in in_state - on_platform if i.rsplit("/", 2)[-2] in listed_types}
    lost = {i for i in lost if "/diskrestorepoints/" not in i}
    if lost:
        out.fail("lost objects", f"trial {trial}: {sorted(lost)}")


def _verify(work: Folder, out: Outcome, trial: int) -> None:
    ran = work.run("verify", "-no-color")
    if ran.code != 0:
        out.fail("store does not verify", f"trial {trial}: {ran.text}")


def _kill_at_random(work: Folder, args: tuple[str, ...], span: float, rng: random.Random) -> str:
    proc = work.start(*args)
    delay = rng.uniform(0, span)
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    return "killed" if killed else f"finished ({proc.returncode})"


def run(n: int, seed: int, tmp: Path) -> Outcome:
    rng = random.Random(seed)
    tpl = template(tmp)
    out = Outcome("kill -9 of apply/destroy", n, {})
    apply = ("apply", "-auto-approve", "-no-color")
    destroy = ("destroy", "-auto-approve", "-no-color")

    # the duration of a whole apply and destroy, so kills land anywhere inside them
    probe = Folder(fresh_copy(tpl, tmp / "probe"))
    first = probe.run(*apply)
    if first.code != 0:
        raise RuntimeError(f"the fault spec does not apply: {first.text}")
    gone = probe.run(*destroy)
    if gone.code != 0:
        raise RuntimeError(f"the fault spec does not destroy: {gone.text}")
    out.figures["apply seconds"] = round(first.seconds, 2)
    out.figures["destroy seconds"] = round(gone.seconds, 2)

    killed = 0
    for trial in range(n):
        work = Folder(fresh_copy(tpl, tmp / f"trial-{trial % 4}"))
        destroying = trial % 3 == 2
        if destroying:
            setup = work.run(*apply)
            if setup.code != 0:
                out.fail("setup apply failed", setup.text)
                continue
            span, args = gone.seconds, destroy
        else:
            span, args = first.seconds, apply
        killed += _kill_at_random(work, args, span, rng) == "killed"
        again = work.run(*args)
        if again.traceback:
            out.fail("tracebacks", f"trial {trial}: {again.text}")
        if again.code != 0:
            out.fail("did not converge in one run", f"trial {trial} ({args[0]}): {again.text}")
            continue
        if destroying:
            left = work.json("platform", "list", "-json")
            state = work.run("state", "list")
            if left or state.out.strip():
                out.fail("destroy left objects", f"trial {trial}: {left} {state.out}")
        else:
            plan = work.run("plan", "-detailed-exitcode", "-no-color")
            if plan.code != 0:
                out.fail("plan not clean after converging", f"trial {trial}: {plan.text}")
            _check_tracked(work, out, trial)
        _verify(work, out, trial)
    out.figures["killed mid-run"] = killed
    return out

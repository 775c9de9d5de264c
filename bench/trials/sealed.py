"""A state with a key holds no sensitive value in plaintext, and a wrong key changes nothing.

One folder with ``BCDR_STATE_KEY`` applies a spec where a sensitive variable reaches a
``bcdr_data`` input, a value derived from it (a function call and a template), a key vault
secret and a sensitive output, beside a SAS grant whose URL is sensitive; a saved plan is
written too. Then every file under ``.bcdr/`` (state, its WAL and backups, the fabric
outside its sealed key store) and the plan file are searched for each plaintext, and so is
everything ``apply``, ``show``, ``state show``, ``output`` and ``plan`` print. Last, a wrong key is
tried: it must be refused and leave every state file byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path

from .cli import Folder, MiB, Outcome, write_image

SECRET = "s3cr3t-" + secrets.token_hex(8)

SPEC = """
variable "password" {
  type      = string
  sensitive = true
}

locals {
  shouted = upper(var.password)
}

resource "bcdr_data" "direct" {
  input = var.password
}

resource "bcdr_data" "derived" {
  input = {
    url  = "https://db.example/${local.shouted}"
    kept = "plain"
  }
}

resource "resource_group" "g" {
  name     = "sealed"
  location = "eastus"
}

resource "key_vault" "kv" {
  name           = "kv-sealed"
  resource_group = resource_group.g.name
  location       = "eastus"

  access_policy {
    object_id          = "current-user"
    secret_permissions = ["get", "list", "set", "delete"]
  }
}

resource "key_vault_secret" "pw" {
  name         = "db-password"
  key_vault_id = key_vault.kv.id
  value        = var.password
}

resource "managed_disk" "d" {
  name           = "d"
  resource_group = resource_group.g.name
  location       = "eastus"
  create_option  = "Import"
  source_uri     = "d.img"
}

resource "virtual_machine" "vm" {
  name           = "vm"
  resource_group = resource_group.g.name
  location       = "eastus"
  os_type        = "linux"
  os_distro      = "ubuntu-22.04"
  os_disk_id     = managed_disk.d.id
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

resource "disk_access" "read" {
  disk_restore_point_id = "${restore_point.rp.id}/diskRestorePoints/${managed_disk.d.name}"
  duration_seconds      = 600
}

output "password" {
  value     = bcdr_data.derived.output.url
  sensitive = true
}

output "sas_url" {
  value     = disk_access.read.sas_url
  sensitive = true
}
"""


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.glob("state.db*"))
    }


def run(n: int, seed: int, tmp: Path) -> Outcome:
    out = Outcome("sealed state", n, {})
    key = secrets.token_hex(32)
    work = Folder(tmp / "sealed", {"BCDR_STATE_KEY": key, "BCDR_VAR_password": SECRET})
    work.path.mkdir(parents=True, exist_ok=True)
    (work.path / "main.hcl").write_text(SPEC)
    write_image(work.path / "d.img", 1 * MiB, seed=seed)
    applied = work.run("apply", "-auto-approve", "-no-color")
    if applied.code != 0:
        raise RuntimeError(f"the sealed spec does not apply: {applied.text}")
    sas = work.run("output", "-raw", "sas_url").out.strip()
    sig = re.search(r"sig=([^&]+)", sas)
    if not sig:
        raise RuntimeError(f"no SAS signature in the sas_url output: {sas!r}")
    plaintexts = {
        "the sensitive variable": SECRET.encode(),
        "a value derived from it": SECRET.upper().encode(),
        "the SAS signature": sig.group(1).encode(),
    }
    # (``output -json`` and ``output -raw`` print sensitive values on purpose, as Terraform's)
    commands = {
        "apply": None,
        "plan -out": ("plan", "-no-color", "-out", "saved.tfplan"),
        "show": ("show", "-no-color"),
        "show -json": ("show", "-json"),
        "state show": ("state", "show", "bcdr_data.derived"),
        "state show (grant)": ("state", "show", "disk_access.read"),
        "output": ("output", "-no-color"),
        "plan -refresh-only": ("plan", "-refresh-only", "-no-color"),
        "plan -json": ("plan", "-json"),
    }
    printed = {
        name: applied.text if args is None else work.run(*args).text
        for name, args in commands.items()
    }
    files = [p for p in (work.path / ".bcdr").rglob("*") if p.is_file()]
    files.append(work.path / "saved.tfplan")
    for what, secret in plaintexts.items():
        for p in files:
            if secret in p.read_bytes():
                out.fail(f"plaintext in files: {what}", str(p.relative_to(work.path)))
        for name, text in printed.items():
            if secret.decode() in text:
                out.fail(f"printed: {what}", f"by {name}")
    out.failures.setdefault("plaintext in files", 0)
    out.figures["files searched"] = len(files)

    state_dir = work.path / ".bcdr"
    before = _digest(state_dir)
    wrong = Folder(work.path, {"BCDR_STATE_KEY": secrets.token_hex(32)})
    for args in (("plan", "-no-color"), ("apply", "-auto-approve", "-no-color")):
        ran = wrong.run(*args, "-var", f"password={SECRET}")
        if ran.code == 0 or "key" not in ran.text.lower():
            out.fail("wrong key not refused", ran.text)
        if ran.traceback:
            out.fail("tracebacks", ran.text)
    if _digest(state_dir) != before:
        out.fail("wrong key changed the state files")
    out.failures.setdefault("wrong key not refused", 0)
    return out

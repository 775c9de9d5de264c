"""``bcdr platform``: act on the embedded platform directly, the way ``az`` acts on Azure.

The group is assembled here from the commands of ``inventory``, ``images``, ``keys`` and
``blobs``.
"""

from __future__ import annotations

from providers.platform.cli import blobs, images, inventory, keys
from sdk.cli import DashGroup

platform_group = DashGroup(
    name="platform",
    help="Act on the embedded platform directly, like `az` on Azure (to rehearse drift and "
    "recovery). Each change shows in `bcdr drift`; `bcdr apply` puts it back.",
    commands=[
        inventory.list_cmd,
        inventory.show,
        images.disk,
        inventory.vm,
        inventory.tag,
        inventory.delete,
        keys.whoami,
        keys.subscription,
        keys.key,
        keys.recover,
        keys.purge,
        images.recover_files,
        blobs.blob,
    ],
)

"""Workspaces: several states for one configuration, as Terraform's ``terraform workspace``.

Each backend keeps the ``default`` workspace where its state always was and every other
one beside it: the local file ``.bcdr/state.db`` and ``.bcdr/workspaces/NAME/state.db``;
the blob ``KEY`` and ``KEYenv:NAME`` (the azurerm backend's names). A backend makes the
backend of another workspace (``workspace``) and lists those holding a state
(``workspace_names``).

Always holds: a workspace name is letters, digits, ``-`` and ``_`` (so no path or blob
name can be made of one); ``default`` is always listed, first.
"""

from __future__ import annotations

import re

DEFAULT = "default"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,90}$")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a workspace's, or None."""
    if not _NAME.match(name):
        return (
            f"{name!r} is not a workspace name: use letters, digits, - and _ (at most 90), "
            "for example staging or dr-west"
        )
    return None


def listed(names: list[str]) -> list[str]:
    """``default`` first, then the others by name, each once."""
    return [DEFAULT, *sorted({n for n in names if n != DEFAULT and _NAME.match(n)})]

"""Resource schemas: the arguments and computed attributes of each resource type.

What a provider declares and the engine checks configurations against. Always holds: a
schema is immutable plain data; nothing here calls a provider.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

Validator = Callable[[Any], str | None]
"""Returns ``None`` when the value is fine, else a message that says what to do."""


@dataclass(frozen=True)
class Attribute:
    """One argument or computed attribute of a resource type.

    ``type`` is an HCL type constraint string: ``string``, ``number``, ``bool``, ``any``,
    ``list(string)``, ``map(string)``, ``set(string)``, ``list(number)``... A nested block
    (``network { ... }``) has ``block`` set to its schema and ``nesting`` to ``single``
    (value: a dict or None) or ``list`` (value: a list of dicts). ``derived_from`` names
    the arguments a computed attribute's value is made from: it is sensitive whenever one
    of them is (``bcdr_data``'s ``output`` from ``input``).

    ``allowed`` lists the only values a string argument (or each element of a list of
    strings) takes, an enum such as a region or a SKU: the engine refuses any other value at
    ``validate`` with the closest allowed one as did-you-mean. ``normalize`` maps a value to
    the form it is compared in (Azure's region names ignore case and spaces: ``"East US"``
    is ``eastus``).

    ``observed`` marks a computed attribute the platform changes by itself as time goes by
    (a protected VM's ``recovery_points``, appended to by every scheduled backup): a refresh
    records its new value, but a change to it alone is not drift (``bcdr drift`` and the
    plan's "changed outside" note leave it out).
    """

    type: str = "string"
    required: bool = False
    optional: bool = False
    computed: bool = False
    force_new: bool = False
    sensitive: bool = False
    default: Any = None
    description: str = ""
    validators: tuple[Validator, ...] = ()
    allowed: tuple[str, ...] = ()
    normalize: Callable[[str], str] | None = None
    block: Schema | None = None
    nesting: Literal["single", "list"] | None = None
    derived_from: tuple[str, ...] = ()
    observed: bool = False


@dataclass(frozen=True)
class Schema:
    """A resource type's (or a nested block's) attributes, with what its reference page says.

    ``version`` is the schema version recorded with each instance in state. ``rules`` lists
    the ids of the platform rules the type enforces (``RP-5``, ``KV-1``; see the rule table),
    and ``example`` is a complete, valid configuration that uses the type (its resource
    blocks and whatever they refer to): both go into ``docs/resources/<type>.md``, and a
    test runs ``bcdr validate`` on every example.
    """

    attributes: dict[str, Attribute]
    version: int = 0
    description: str = ""
    rules: tuple[str, ...] = ()
    example: str = ""

    def sensitive_attributes(self, marked: Iterable[str] = ()) -> list[str]:
        """Top-level attributes that are sensitive: by the schema, those ``marked`` (set
        from a sensitive value) and those derived from a marked one."""
        given = set(marked)
        if not given:
            return sorted([k for k, a in self.attributes.items() if a.sensitive])
        return sorted(
            [
                k
                for k, a in self.attributes.items()
                if a.sensitive or k in given or not given.isdisjoint(a.derived_from)
            ]
        )

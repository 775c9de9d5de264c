"""The ``bcdr { backend "TYPE" { ... } }`` settings block: where the state lives.

Like Terraform's ``terraform { backend ... }``: one ``backend`` block in one ``bcdr`` block
of the configuration, whose type and attributes are those ``state.BACKEND_TYPES`` declares.
Always holds: every value is a literal string, never a reference, a variable or a function
call (the backend is needed before anything is evaluated); an unknown type or attribute, a
missing required one or a value of another kind is a diagnostic with file:line and what to
write instead, all of them reported together; a credential is never an attribute (it comes
from the environment).
"""

from __future__ import annotations

from engine.configmodel import BackendBlock, Block
from engine.expr import references
from engine.exprnodes import EvalError
from engine.schemacheck import suggest
from sdk.diagnostics import Diagnostic, error

_USAGE = 'bcdr {\n  backend "TYPE" {\n    NAME = "VALUE"\n  }\n}'


def decode_settings(block: Block, d: list[Diagnostic]) -> list[BackendBlock]:
    """The backends one ``bcdr`` block declares (at most one), problems appended to ``d``."""
    from state import BACKEND_TYPES

    for attr in block.body.attributes.values():
        d.append(
            error(
                f'Unsupported argument "{attr.name}" in the bcdr block',
                f"the bcdr block holds a backend block only:\n{_USAGE}",
                attr.range,
            )
        )
    found: list[BackendBlock] = []
    for nested in block.body.blocks:
        if nested.type != "backend":
            d.append(
                error(
                    f'Unsupported block type "{nested.type}" in the bcdr block',
                    f"{suggest(nested.type, ['backend'])} The bcdr block holds a backend "
                    f"block only:\n{_USAGE}".lstrip(),
                    nested.range,
                )
            )
            continue
        if len(nested.labels) != 1:
            d.append(
                error(
                    f"A backend block needs 1 label (its type), found {len(nested.labels)}",
                    f'write backend "TYPE" {{ ... }}; the types are: {", ".join(BACKEND_TYPES)}',
                    nested.range,
                )
            )
            continue
        if found:
            d.append(
                error(
                    "Duplicate backend configuration",
                    f"a configuration has one backend; the first is at {found[0].range}",
                    nested.range,
                )
            )
            continue
        backend = _decode_backend(nested, d)
        if backend is not None:
            found.append(backend)
    return found


def _decode_backend(block: Block, d: list[Diagnostic]) -> BackendBlock | None:
    from state import BACKEND_TYPES

    kind = block.labels[0]
    spec = BACKEND_TYPES.get(kind)
    if spec is None:
        d.append(
            error(
                f'Unknown backend type "{kind}"',
                f"{suggest(kind, list(BACKEND_TYPES))} The backend types are: ".lstrip()
                + ", ".join(BACKEND_TYPES)
                + "; without a bcdr block the state is the local file .bcdr/state.db",
                block.range,
            )
        )
        return None
    before = len(d)
    allowed = (*spec.required, *spec.optional)
    for nested in block.body.blocks:
        d.append(
            error(
                f'Unexpected block "{nested.type}" in backend "{kind}"',
                f'a backend block holds NAME = "VALUE" lines only:\n{spec.example}',
                nested.range,
            )
        )
    values: dict[str, str] = {}
    for name, attr in block.body.attributes.items():
        if name not in allowed:
            d.append(
                error(
                    f'Unsupported argument "{name}" in backend "{kind}"',
                    f"{suggest(name, list(allowed))} Allowed here: ".lstrip()
                    + ", ".join(allowed)
                    + ". The credential is read from the environment "
                    "(AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT and "
                    "AZURE_STORAGE_KEY, or ARM_ACCESS_KEY), never from the configuration.",
                    attr.range,
                )
            )
            continue
        refs = references(attr.expr)
        if refs:
            d.append(
                error(
                    "Variables may not be used here",
                    f'backend "{kind}" is read before anything is evaluated, so "{name}" '
                    f"must be a literal string; it refers to {refs[0].kind} "
                    f"{refs[0].subject}. Write the value itself.",
                    refs[0].range or attr.range,
                )
            )
            continue
        from engine.expr import static_value

        try:
            value = static_value(attr.expr)
        except EvalError as err:
            d.append(error(f'Invalid value for "{name}"', err.detail, err.range or attr.range))
            continue
        if not isinstance(value, str) or not value.strip():
            d.append(
                error(
                    f'"{name}" in backend "{kind}" must be a non-empty string',
                    f'write {name} = "VALUE"; found {value!r}',
                    attr.range,
                )
            )
            continue
        values[name] = value
    missing = [n for n in spec.required if n not in block.body.attributes]
    if missing:
        names = ", ".join(f'"{n}"' for n in missing)
        d.append(
            error(
                f"Missing required argument{'s' if len(missing) > 1 else ''} {names} in "
                f'backend "{kind}"',
                f"the {kind} backend needs all of {', '.join(spec.required)}:\n{spec.example}",
                block.range,
            )
        )
    if len(d) > before:
        return None
    return BackendBlock(kind, values, block.range)

"""Spec files → ``Config``: load a directory of ``*.hcl`` files, with all its problems.

All ``*.hcl`` files of a directory (sorted, not subdirectories, not ``*.auto.hcl``) form
one configuration. Each file is parsed by ``engine/hcltree.py`` (the only module that
imports python-hcl2) and decoded by ``engine/configdecode.py`` into the dataclasses of
``engine/configmodel.py`` (import them from there), through the parse cache of
``engine/parsecache.py``. Always holds: user mistakes come back as diagnostics, all of
them at once, each with file:line; never as an exception; and a configuration whose files
are all in the parse cache is loaded without importing the parser (``parse_body`` is
imported from ``engine/hcltree.py`` on first use, PEP 562).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.configdecode import decode_file
from engine.configmodel import (
    BodyAttribute,
    Config,
    FileParts,
)
from engine.exprnodes import Expr
from engine.parsecache import cache_dir, cache_key, prune_cache, read_cache, write_cache
from engine.providerconfig import duplicate
from engine.refactor import validate_refactoring
from sdk.diagnostics import Diagnostic, Diagnostics, SourceRange, error

if TYPE_CHECKING:
    from engine.hcltree import parse_body

__all__ = [
    "check_syntax",
    "load_attribute_file",
    "load_config",
    "parse_body",
    "parse_expression",
    "spec_files",
]


def __getattr__(name: str) -> Any:
    if name == "parse_body":
        from engine.hcltree import parse_body

        return parse_body
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_syntax(text: str, filename: str = "<input>") -> None:
    """Raise ValueError("file:line: ...") when ``text`` is not valid HCL (used by fmt)."""
    from engine.hcltree import parse_body

    _, diags = parse_body(text, filename)
    # a duplicate argument is a meaning problem, not a layout one: fmt leaves it to validate
    problems = [d for d in diags.errors() if not d.summary.startswith("Duplicate argument")]
    if problems:
        d = problems[0]
        raise ValueError(f"{d.range}: {d.summary} ({d.detail})")


def parse_expression(text: str, filename: str = "<value>") -> tuple[Expr | None, Diagnostics]:
    """Parse a single expression (for ``-var name=EXPR``)."""
    from engine.hcltree import parse_body

    body, diags = parse_body(f"value = {text}\n", filename)
    if body is None or "value" not in body.attributes or len(body.attributes) != 1:
        if not diags.has_errors:
            diags.append(error(f"{filename}: not a single expression", "", None))
        return None, diags
    return body.attributes["value"].expr, diags


def _load_file(
    path: Path, filename: str, cache: Path | None, used: set[str] | None = None
) -> FileParts:
    data = path.read_bytes()
    entry: Path | None = None
    if cache is not None:
        entry = cache / f"{cache_key(data, filename)}.pickle"
        if used is not None:
            used.add(entry.name)
        hit = read_cache(entry)
        if hit is not None:
            return hit
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        parts = FileParts()
        line = data[: err.start].count(b"\n") + 1
        parts.diagnostics.append(
            error(
                f"{filename} is not UTF-8 text",
                "save the file as UTF-8",
                SourceRange(filename, line),
            )
        )
        return parts
    parts = decode_file(text, filename)
    if entry is not None:
        write_cache(entry, parts)
    return parts


def spec_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """The directory's spec files and its variable files (``*.auto.hcl`` and
    ``*.auto.hcl.json``, read in one order by name, as Terraform reads its two kinds)."""
    all_hcl = sorted(p for p in Path(directory).glob("*.hcl") if p.is_file())
    specs = [p for p in all_hcl if not p.name.endswith(".auto.hcl")]
    auto = [p for p in all_hcl if p.name.endswith(".auto.hcl")]
    auto += [p for p in Path(directory).glob("*.auto.hcl.json") if p.is_file()]
    return specs, sorted(auto, key=lambda p: p.name)


def _dup(kind: str, name: str, first: SourceRange, again: SourceRange) -> Diagnostic:
    return error(
        f'Duplicate {kind} "{name}"',
        f"it is declared at {first} and again at {again}; rename or remove one of them",
        again,
    )


def load_config(directory: Path, *, cache: bool = True) -> tuple[Config, Diagnostics]:
    """Load every spec file of ``directory`` into one Config, with all problems found."""
    directory = Path(directory)
    diags = Diagnostics()
    specs, auto = spec_files(directory)
    config = Config(
        dir=directory,
        files=[p.name for p in specs],
        providers={},
        variables={},
        locals={},
        resources={},
        outputs={},
        var_files=[p.name for p in auto],
    )
    if not directory.is_dir():
        diags.append(error(f"No such directory: {directory}", "run bcdr in a spec directory"))
        return config, diags
    if not specs:
        diags.append(
            error(
                f"No *.hcl spec files in {directory}",
                "create main.hcl with your resources, or run bcdr in the spec directory",
            )
        )
    # the cache lives in .bcdr/, which init or an apply makes: a plan in a fresh folder
    # writes nothing (only .bcdr/'s owners create it)
    where = cache_dir(directory) if cache and (directory / ".bcdr").is_dir() else None
    used: set[str] = set()
    for path in specs:
        try:
            parts = _load_file(path, path.name, where, used)
        except OSError as err:
            diags.append(error(f"Cannot read {path.name}: {err.strerror}", "check the file"))
            continue
        diags.extend(parts.diagnostics)
        config.backend_known = config.backend_known and parts.parsed
        config.backend_problems.extend(parts.settings_problems)
        for b in parts.backends:
            if config.backend is not None:
                problem = error(
                    "Duplicate backend configuration",
                    f"a configuration has one backend; the first is at {config.backend.range}",
                    b.range,
                )
                diags.append(problem)
                config.backend_problems.append(problem)
            else:
                config.backend = b
        for p in parts.providers:
            if p.address in config.providers:
                diags.append(duplicate(p, config.providers[p.address].range))
            else:
                config.providers[p.address] = p
        for v in parts.variables:
            if v.name in config.variables:
                diags.append(_dup("variable", v.name, config.variables[v.name].range, v.range))
            else:
                config.variables[v.name] = v
        for loc in parts.locals:
            if loc.name in config.locals:
                first = config.locals[loc.name].range
                diags.append(_dup("local value", loc.name, first, loc.range))
            else:
                config.locals[loc.name] = loc
        for r in parts.resources:
            if r.addr in config.resources:
                first = config.resources[r.addr].range
                diags.append(_dup("resource", str(r.addr), first, r.range))
            else:
                config.resources[r.addr] = r
        for o in parts.outputs:
            if o.name in config.outputs:
                diags.append(_dup("output", o.name, config.outputs[o.name].range, o.range))
            else:
                config.outputs[o.name] = o
        for c in parts.checks:
            if c.name in config.checks:
                diags.append(_dup("check", c.name, config.checks[c.name].range, c.range))
            else:
                config.checks[c.name] = c
        config.moved.extend(parts.moved)
        config.removed.extend(parts.removed)
        config.imports.extend(parts.imports)
    diags.extend(validate_refactoring(config))
    if where is not None and where.is_dir():
        prune_cache(where, used)
    diags.sort(key=lambda d: (d.range.filename, d.range.line) if d.range else ("", 0))
    return config, diags


def load_attribute_file(path: Path, filename: str) -> tuple[dict[str, BodyAttribute], Diagnostics]:
    """Read a variable-value file (``*.auto.hcl``, ``-var-file``): NAME = VALUE lines only."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}, Diagnostics(
            [error(f"Variable file {filename} does not exist", "check the -var-file path")]
        )
    except (OSError, UnicodeDecodeError) as err:
        return {}, Diagnostics([error(f"Cannot read variable file {filename}: {err}", "")])
    from engine.hcltree import parse_body

    body, diags = parse_body(text, filename)
    if body is None:
        return {}, diags
    for block in body.blocks:
        diags.append(
            error(
                f'Unexpected block "{block.type}" in variable file {filename}',
                "a variable file holds only NAME = VALUE lines",
                block.range,
            )
        )
    return body.attributes, diags

"""yamlencode and yamldecode, the one module over PyYAML (imported when first called,
so start-up does not load it).

Always holds: ``yamlencode`` prints as Terraform does: block style, keys sorted, every
string double-quoted, numbers, bools and null plain, no line wrapping; ``yamldecode``
reads one YAML 1.2-like document into plain values (keys as strings, timestamps as their
text), follows aliases, and refuses a recursive alias, an unknown tag or several
documents with a ``FunctionError`` naming the line.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from engine.functions.args import FunctionError, as_string
from engine.numbers import format_number


@cache
def _codec() -> tuple[type, type]:
    """PyYAML's dumper and loader, set up the way Terraform reads and writes YAML."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    def string(dumper: yaml.SafeDumper, data: str) -> Any:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')

    def number(dumper: yaml.SafeDumper, data: float) -> Any:
        return dumper.represent_scalar("tag:yaml.org,2002:float", format_number(data))

    Dumper.add_representer(str, string)
    Dumper.add_representer(float, number)

    class Loader(yaml.SafeLoader):
        pass

    # timestamps stay strings, as Terraform reads them
    Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Dumper, Loader


def f_yamlencode(value: Any) -> str:
    import yaml

    dumper, _ = _codec()
    text = yaml.dump(
        value,
        Dumper=dumper,
        default_flow_style=False,
        sort_keys=True,
        allow_unicode=True,
        width=1 << 30,
    )
    return text.removesuffix("...\n")


def _plain(value: Any, seen: frozenset[int] = frozenset()) -> Any:
    if isinstance(value, list | dict):
        if id(value) in seen:
            raise FunctionError("the YAML has a recursive alias (an anchor used inside itself)")
        seen = seen | {id(value)}
        if isinstance(value, list):
            return [_plain(v, seen) for v in value]
        return {
            as_string(k, "key") if k is not None else "null": _plain(v, seen)
            for k, v in value.items()
        }
    if isinstance(value, bytes):
        raise FunctionError("the YAML holds binary data (!!binary), which has no HCL type")
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def f_yamldecode(text: Any) -> Any:
    import yaml

    _, loader = _codec()
    try:
        value = yaml.load(as_string(text), Loader=loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" on line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise FunctionError(f"invalid YAML{where}: {problem}") from None
    return _plain(value)

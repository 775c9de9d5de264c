"""``dynamic`` blocks: decoded, checked, expanded at plan and apply, as Terraform does.

Real spec files, a real state file, the builtin provider and the test provider with one
more type, ``test_rules``: a list of ``rule`` blocks (each with a list of ``target``
blocks), an optional single ``primary`` block, and ``test_needs`` with a required list
block ``need``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.config import load_config
from engine.configmodel import DynamicBlock
from engine.fmt import format_source
from engine.parsecache import cache_dir, cache_key, read_cache
from engine.planner import validate
from engine.registry import Registry
from providers.builtin.data import provider as builtin_provider
from providers.defaults import plan_from_schema
from sdk import Attribute, PlanRequest, PlanResponse, Schema
from sdk.values import UNKNOWN
from tests.engine.testprovider import THING, TestProvider, Workspace

TARGET = Schema({"host": Attribute(type="string", required=True)})
RULE = Schema(
    {
        "port": Attribute(type="number", required=True),
        "proto": Attribute(type="string", optional=True, default="tcp"),
        "target": Attribute(block=TARGET, nesting="list", optional=True),
    }
)
PRIMARY = Schema({"zone": Attribute(type="string", required=True)})
RULES = Schema(
    {
        "name": Attribute(type="string", required=True),
        "rule": Attribute(block=RULE, nesting="list", optional=True),
        "primary": Attribute(block=PRIMARY, nesting="single", optional=True),
        "id": Attribute(type="string", computed=True),
        "fingerprint": Attribute(type="string", computed=True),
    }
)
NEEDS = Schema(
    {
        "name": Attribute(type="string", required=True),
        "need": Attribute(block=TARGET, nesting="list", required=True),
        "id": Attribute(type="string", computed=True),
        "fingerprint": Attribute(type="string", computed=True),
    }
)
SCHEMAS = {"test_thing": THING, "test_rules": RULES, "test_needs": NEEDS}


class RulesProvider(TestProvider):
    """The test provider, serving ``test_rules`` and ``test_needs`` beside ``test_thing``."""

    __test__ = False

    def schemas(self) -> dict[str, Schema]:
        return dict(SCHEMAS)

    def plan(self, req: PlanRequest) -> PlanResponse:
        if req.type_name == "test_thing":
            return super().plan(req)
        return plan_from_schema(SCHEMAS[req.type_name], req.prior_state, req.proposed)


@pytest.fixture
def rws(tmp_path: Path):
    w = Workspace(tmp_path)
    w.provider = RulesProvider()
    w.registry = Registry([builtin_provider(), w.provider])
    yield w
    w.state.close()


def _after(plan: Any, address: str) -> dict[str, Any]:
    return next(c for c in plan.changes if c.address == address).after


def _errors(diags: Any) -> list[tuple[str, str]]:
    return [(d.summary, str(d.range)) for d in diags.errors()]


def _load_errors(tmp_path: Path, text: str) -> list[tuple[str, str, str]]:
    (tmp_path / "main.hcl").write_text(text)
    _, diags = load_config(tmp_path, cache=False)
    return [(d.summary, str(d.range), d.detail) for d in diags.errors()]


# ------------------------------------------------------------------ expansion


def test_a_list_makes_one_block_per_element_with_the_label_as_iterator(rws):
    rws.write(
        """
resource "test_rules" "r" {
  name = "r"
  dynamic "rule" {
    for_each = [80, 443]
    content {
      port  = rule.value
      proto = "p${rule.key}"
    }
  }
}
"""
    )
    plan = rws.ok_plan()
    assert _after(plan, "test_rules.r")["rule"] == [
        {"port": 80, "proto": "p0", "target": []},
        {"port": 443, "proto": "p1", "target": []},
    ]
    assert rws.apply(plan).ok
    assert rws.state.get("test_rules.r").attributes["rule"][1]["port"] == 443
    assert not rws.ok_plan().has_changes  # the same blocks again: no changes


def test_a_map_and_an_object_iterate_by_sorted_key_with_a_named_iterator(rws):
    rws.write(
        """
variable "ports" {
  default = { web = 80, db = 5432 }
}
resource "test_rules" "m" {
  name = "m"
  dynamic "rule" {
    for_each = var.ports
    iterator = p
    content {
      port  = p.value
      proto = p.key
    }
  }
}
resource "test_rules" "o" {
  name = "o"
  dynamic "rule" {
    for_each = { b = { port = 2, proto = "udp" }, a = { port = 1, proto = "tcp" } }
    iterator = spec
    content {
      port  = spec.value.port
      proto = "${spec.key}-${spec.value.proto}"
    }
  }
}
"""
    )
    plan = rws.ok_plan()
    rules = [(r["proto"], r["port"]) for r in _after(plan, "test_rules.m")["rule"]]
    assert rules == [("db", 5432), ("web", 80)]
    rules = [(r["proto"], r["port"]) for r in _after(plan, "test_rules.o")["rule"]]
    assert rules == [("a-tcp", 1), ("b-udp", 2)]


def test_a_set_makes_one_block_per_distinct_element(rws):
    rws.write(
        """
resource "test_rules" "s" {
  name = "s"
  dynamic "rule" {
    for_each = toset(["9", "8", "9"])
    content {
      port = rule.value
    }
  }
}
"""
    )
    assert [r["port"] for r in _after(rws.ok_plan(), "test_rules.s")["rule"]] == [8, 9]


def test_nested_dynamic_blocks_see_the_outer_iterator(rws):
    rws.write(
        """
locals {
  services = {
    web = { port = 80, hosts = ["a", "b"] }
    db  = { port = 5432, hosts = ["c"] }
  }
}
resource "test_rules" "n" {
  name = "n"
  rule {
    port = 1
  }
  dynamic "rule" {
    for_each = local.services
    iterator = svc
    content {
      port = svc.value.port
      dynamic "target" {
        for_each = svc.value.hosts
        content {
          host = "${svc.key}-${target.value}-${target.key}"
        }
      }
    }
  }
}
"""
    )
    rules = _after(rws.ok_plan(), "test_rules.n")["rule"]
    assert [(r["port"], r["target"]) for r in rules] == [
        (1, []),  # the written block first, in source order
        (5432, [{"host": "db-c-0"}]),
        (80, [{"host": "web-a-0"}, {"host": "web-b-1"}]),
    ]


def test_a_dynamic_block_inside_a_written_block_of_a_repeated_resource(rws):
    rws.write(
        """
resource "test_rules" "w" {
  for_each = { web = ["a", "b"], db = [] }
  name     = each.key
  rule {
    port = 1
    dynamic "target" {
      for_each = each.value
      content {
        host = "${each.key}.${target.value}"
      }
    }
  }
}
"""
    )
    plan = rws.ok_plan()
    assert _after(plan, 'test_rules.w["web"]')["rule"][0]["target"] == [
        {"host": "web.a"},
        {"host": "web.b"},
    ]
    assert _after(plan, 'test_rules.w["db"]')["rule"][0]["target"] == []


def test_an_empty_for_each_makes_no_block_and_a_single_block_takes_one(rws):
    rws.write(
        """
resource "test_rules" "e" {
  name = "e"
  dynamic "rule" {
    for_each = []
    content {
      port = rule.value
    }
  }
  dynamic "primary" {
    for_each = ["z1"]
    content {
      zone = primary.value
    }
  }
}
"""
    )
    after = _after(rws.ok_plan(), "test_rules.e")
    assert after["rule"] == [] and after["primary"] == {"zone": "z1"}


def test_content_refers_to_resources_and_iterators_are_not_references(rws):
    rws.write(
        """
resource "test_thing" "a" {
  name = "a"
}
resource "test_rules" "d" {
  name = "d"
  dynamic "rule" {
    for_each = [1]
    content {
      port  = rule.value
      proto = test_thing.a.name
    }
  }
}
"""
    )
    assert not validate(rws.config(), rws.registry, {}).has_errors
    plan = rws.ok_plan()
    change = next(c for c in plan.changes if c.address == "test_rules.d")
    assert change.dependencies == ["test_thing.a"]
    assert change.after["rule"] == [{"port": 1, "proto": "a", "target": []}]


def test_a_for_each_known_only_after_apply_makes_the_whole_block_list_unknown(rws):
    rws.write(
        """
resource "test_thing" "a" {
  name = "a"
}
resource "test_rules" "u" {
  name = "u"
  rule {
    port = 1
  }
  dynamic "rule" {
    for_each = split("-", test_thing.a.fingerprint)
    content {
      port  = length(rule.value)
      proto = rule.value
    }
  }
}
"""
    )
    assert not validate(rws.config(), rws.registry, {}).has_errors
    plan = rws.ok_plan()
    assert _after(plan, "test_rules.u")["rule"] is UNKNOWN  # not the written one alone
    assert rws.apply(plan).ok  # fingerprint "fp-a": two blocks made at apply
    rules = rws.state.get("test_rules.u").attributes["rule"]
    assert [(r["port"], r["proto"]) for r in rules] == [(1, "tcp"), (2, "fp"), (1, "a")]
    assert not rws.ok_plan().has_changes


def test_a_list_of_known_length_makes_its_blocks_with_unknown_values(rws):
    rws.write(
        """
resource "test_thing" "a" {
  name = "a"
}
resource "test_rules" "k" {
  name = "k"
  dynamic "rule" {
    for_each = [test_thing.a.fingerprint, "b"]
    content {
      port  = rule.key
      proto = rule.value
    }
  }
}
"""
    )
    rules = _after(rws.ok_plan(), "test_rules.k")["rule"]
    assert [(r["port"], r["proto"]) for r in rules] == [(0, UNKNOWN), (1, "b")]


def test_a_sensitive_value_in_content_marks_the_block(rws):
    rws.write(
        """
variable "proto" {
  default   = "s3cret"
  sensitive = true
}
resource "test_rules" "x" {
  name = "x"
  dynamic "rule" {
    for_each = [1]
    content {
      port  = rule.value
      proto = var.proto
    }
  }
}
"""
    )
    change = next(c for c in rws.ok_plan().changes if c.address == "test_rules.x")
    assert change.sensitive_attrs == ["rule"]


# ------------------------------------------------------------------ evaluation errors


def test_a_sensitive_for_each_is_refused(rws):
    rws.write(
        """
variable "ports" {
  default   = [80]
  sensitive = true
}
resource "test_rules" "x" {
  name = "x"
  dynamic "rule" {
    for_each = var.ports
    content {
      port = rule.value
    }
  }
}
"""
    )
    _, diags = rws.plan()
    (d,) = diags.errors()
    assert (d.summary, str(d.range)) == ("Invalid dynamic for_each value", "main.hcl:9")
    assert "sensitive" in d.detail and "nonsensitive()" in d.detail
    assert "80" not in d.detail


@pytest.mark.parametrize(
    ("value", "what"), [('"80,443"', "a string value"), ("null", "a null value"), ("3", "a number")]
)
def test_a_for_each_that_is_not_a_collection_is_an_error(rws, value, what):
    rws.write(
        f"""
resource "test_rules" "x" {{
  name = "x"
  dynamic "rule" {{
    for_each = {value}
    content {{
      port = 1
    }}
  }}
}}
"""
    )
    _, diags = rws.plan()
    (d,) = diags.errors()
    assert (d.summary, str(d.range)) == ("Invalid dynamic for_each value", "main.hcl:5")
    assert f"cannot use {what}" in d.detail and "An iterable collection is required" in d.detail


def test_too_many_single_blocks_and_too_few_required_ones(rws):
    rws.write(
        """
resource "test_rules" "x" {
  name = "x"
  dynamic "primary" {
    for_each = ["z1", "z2"]
    content {
      zone = primary.value
    }
  }
}
resource "test_needs" "y" {
  name = "y"
  dynamic "need" {
    for_each = []
    content {
      host = need.value
    }
  }
}
"""
    )
    want = [
        ('Insufficient "need" blocks', "main.hcl:13"),
        ('Too many "primary" blocks', "main.hcl:4"),
    ]
    assert sorted(_errors(validate(rws.config(), rws.registry, {}))) == want  # known for_each
    _, diags = rws.plan()
    assert sorted(_errors(diags)) == want


def test_content_values_are_checked_against_the_block_schema(rws):
    rws.write(
        """
resource "test_rules" "x" {
  name = "x"
  dynamic "rule" {
    for_each = ["http"]
    content {
      port = rule.value
    }
  }
}
"""
    )
    _, diags = rws.plan()
    assert [d.summary for d in diags.errors()] == ['Invalid value for "port"']


# ------------------------------------------------------------------ static checks


def test_validate_judges_dynamic_blocks_against_the_schema(rws):
    rws.write(
        """
resource "test_rules" "x" {
  name = "x"
  dynamic "rules" {
    for_each = [1]
    content {
      port = rules.value
    }
  }
  dynamic "rule" {
    for_each = [1]
    labels   = ["a"]
    content {
      prot = "tcp"
    }
  }
}
resource "test_needs" "y" {
  name = "y"
  dynamic "need" {
    for_each = ["h"]
    content {
      host = need.value
    }
  }
}
"""
    )
    diags = validate(rws.config(), rws.registry, {})
    got = {d.summary: (str(d.range), d.detail) for d in diags.errors()}
    assert set(got) == {
        'Unsupported block type "rules"',
        "Extraneous dynamic block label",
        'Unsupported argument "prot"',
        'Missing required argument "port"',
    }  # a dynamic "need" stands for the required need blocks
    assert got['Unsupported block type "rules"'][0] == "main.hcl:4"
    assert 'Did you mean "rule"?' in got['Unsupported block type "rules"'][1]
    assert "a dynamic block cannot make one" in got['Unsupported block type "rules"'][1]
    assert got["Extraneous dynamic block label"][0] == "main.hcl:10"
    assert got['Unsupported argument "prot"'][0] == "main.hcl:14"


def test_a_written_nested_block_with_a_label_is_an_error(rws):
    rws.write('resource "test_rules" "x" {\n  name = "x"\n  rule "a" {\n    port = 1\n  }\n}\n')
    diags = validate(rws.config(), rws.registry, {})
    assert _errors(diags) == [("Extraneous label for rule", "main.hcl:3")]


BAD = {
    "content missing": (
        'dynamic "rule" {\n    for_each = [1]\n  }',
        "Missing dynamic content block",
        "main.hcl:3",
    ),
    "two contents": (
        'dynamic "rule" {\n    for_each = [1]\n    content {\n    }\n    content {\n    }\n  }',
        "Extraneous dynamic content block",
        "main.hcl:7",
    ),
    "for_each missing": (
        'dynamic "rule" {\n    content {\n    }\n  }',
        'Missing required argument "for_each"',
        "main.hcl:3",
    ),
    "quoted iterator": (
        'dynamic "rule" {\n    for_each = [1]\n    iterator = "r"\n    content {\n    }\n  }',
        "Invalid dynamic iterator name",
        "main.hcl:5",
    ),
    "traversal iterator": (
        'dynamic "rule" {\n    for_each = [1]\n    iterator = r.x\n    content {\n    }\n  }',
        "Invalid dynamic iterator name",
        "main.hcl:5",
    ),
    "argument outside content": (
        'dynamic "rule" {\n    for_each = [1]\n    port = 1\n    content {\n    }\n  }',
        'Unsupported argument "port" in a dynamic block',
        "main.hcl:5",
    ),
    "other block in dynamic": (
        'dynamic "rule" {\n    for_each = [1]\n    target {\n    }\n    content {\n    }\n  }',
        'Unsupported block type "target" in a dynamic block',
        "main.hcl:5",
    ),
    "no label": (
        "dynamic {\n    for_each = [1]\n    content {\n    }\n  }",
        "A dynamic block needs 1 label, found 0",
        "main.hcl:3",
    ),
    "dynamic lifecycle": (
        'dynamic "lifecycle" {\n    for_each = [1]\n    content {\n    }\n  }',
        'Unsupported block type "lifecycle" in a dynamic block',
        "main.hcl:3",
    ),
    "dynamic in lifecycle": (
        'lifecycle {\n    dynamic "ignore_changes" {\n      for_each = [1]\n'
        "      content {\n      }\n    }\n  }",
        'Unexpected block "dynamic" in lifecycle',
        "main.hcl:4",
    ),
    "nested dynamic without content": (
        'dynamic "rule" {\n    for_each = [1]\n    content {\n      port = 1\n'
        '      dynamic "target" {\n        for_each = [1]\n      }\n    }\n  }',
        "Missing dynamic content block",
        "main.hcl:7",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_malformed_dynamic_block_is_an_error_with_its_line(tmp_path, case):
    inner, summary, where = BAD[case]
    text = f'\nresource "test_rules" "x" {{\n  {inner}\n}}\n'
    errors = _load_errors(tmp_path, text)
    assert [(s, w) for s, w, _ in errors] == [(summary, where)]
    assert errors[0][2]  # says what to do


def test_the_quoted_iterator_error_says_to_drop_the_quotes(tmp_path):
    text = (
        'resource "test_rules" "x" {\n  dynamic "rule" {\n    for_each = [1]\n'
        '    iterator = "r"\n    content {\n    }\n  }\n}\n'
    )
    ((_, _, detail),) = _load_errors(tmp_path, text)
    assert "write iterator = r without quotes" in detail


# ------------------------------------------------------------------ cache and fmt


def test_the_parse_cache_keeps_the_decoded_dynamic_blocks(tmp_path):
    (tmp_path / ".bcdr").mkdir()  # a folder bcdr worked in keeps its parse cache
    text = (
        'resource "test_rules" "x" {\n  name = "x"\n  dynamic "rule" {\n'
        "    for_each = var.ports\n    iterator = p\n    content {\n      port = p.value\n"
        "    }\n  }\n}\n"
    )
    (tmp_path / "main.hcl").write_text(text)
    cold, _ = load_config(tmp_path)
    entry = cache_dir(tmp_path) / f"{cache_key(text.encode(), 'main.hcl')}.pickle"
    cached = read_cache(entry)
    assert cached is not None
    (res,) = cached.resources
    (dyn,) = res.body.blocks
    assert isinstance(dyn, DynamicBlock)
    assert (dyn.type, dyn.iterator, str(dyn.range)) == ("rule", "p", "main.hcl:3")
    assert [(r.kind, r.subject) for r in res.references] == [("var", "ports")]  # not p.value
    warm, _ = load_config(tmp_path)
    (again,) = warm.resources.values()
    assert isinstance(again.body.blocks[0], DynamicBlock)
    assert again.body.blocks[0].content.attributes.keys() == {"port"}


def test_fmt_lays_out_dynamic_blocks_like_any_block():
    text = (
        'resource "test_rules" "x" {\nname = "x"\ndynamic "rule" {\nfor_each = [1]\n'
        'iterator = r\ncontent {\nport = r.value\nproto = "tcp"\n}\n}\n}\n'
    )
    want = (
        'resource "test_rules" "x" {\n  name = "x"\n  dynamic "rule" {\n    for_each = [1]\n'
        '    iterator = r\n    content {\n      port  = r.value\n      proto = "tcp"\n'
        "    }\n  }\n}\n"
    )
    assert format_source(text) == want
    assert format_source(want) == want

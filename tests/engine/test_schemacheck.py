"""Schema checks of resource bodies: names, required, computed, blocks, types, validators."""

from __future__ import annotations

from pathlib import Path

from engine.config import load_config
from engine.schemacheck import check_body, check_values, suggest
from sdk import Attribute, Schema
from sdk.addrs import ResourceAddr
from sdk.diagnostics import SourceRange
from sdk.values import UNKNOWN
from tests.engine.testprovider import THING

WHERE = SourceRange("main.hcl", 1)


def _body(tmp_path: Path, inner: str):
    (tmp_path / "main.hcl").write_text(f'resource "test_thing" "x" {{\n{inner}}}\n')
    cfg, diags = load_config(tmp_path, cache=False)
    assert not diags.has_errors, [d.summary for d in diags]
    return cfg.resources[ResourceAddr("test_thing", "x")].body


def test_suggest_closest_name():
    assert suggest("nmae", ["name", "size"]) == ' Did you mean "name"?'
    assert suggest("zzzzz", ["name", "size"]) == ""


def test_unknown_argument_and_missing_required(tmp_path):
    body = _body(tmp_path, '  nmae = "a"\n')
    diags = check_body(THING, body, "test_thing.x", WHERE)
    got = {d.summary: d for d in diags}
    assert set(got) == {'Unsupported argument "nmae"', 'Missing required argument "name"'}
    assert str(got['Unsupported argument "nmae"'].range) == "main.hcl:2"
    assert 'Did you mean "name"?' in got['Unsupported argument "nmae"'].detail


def test_computed_attribute_cannot_be_set(tmp_path):
    body = _body(tmp_path, '  name = "a"\n  fingerprint = "x"\n')
    (d,) = check_body(THING, body, "test_thing.x", WHERE)
    assert d.summary == 'Cannot set computed attribute "fingerprint"'


def test_blocks_unknown_repeated_and_nested_required(tmp_path):
    body = _body(
        tmp_path,
        '  name = "a"\n  netwrk {\n  }\n  network {\n    subnet = "s"\n  }\n  network {\n  }\n',
    )
    summaries = sorted(d.summary for d in check_body(THING, body, "test_thing.x", WHERE))
    assert summaries == [
        'Missing required argument "subnet"',
        'Too many "network" blocks',
        'Unsupported block type "netwrk"',
    ]


def test_values_converted_and_type_errors_reported():
    values = {"name": "a", "size": "5", "tags": {"k": 1}, "zone": UNKNOWN}
    ranges = {"size": SourceRange("main.hcl", 3)}
    out, diags = check_values(THING, values, ranges, "test_thing.x", WHERE)
    assert not diags
    assert out["size"] == 5 and out["tags"] == {"k": "1"} and out["zone"] is UNKNOWN
    _, diags = check_values(THING, {"name": "a", "size": "big"}, ranges, "test_thing.x", WHERE)
    (d,) = diags
    assert d.summary == 'Invalid value for "size"' and str(d.range) == "main.hcl:3"


def test_validators_run_on_known_values_only():
    _, diags = check_values(THING, {"name": "a", "kind": "z"}, {}, "test_thing.x", WHERE)
    assert [d.detail for d in diags] == ["main.hcl:1: test_thing.x.kind: kind must be a or b"]
    _, diags = check_values(THING, {"name": "a", "kind": UNKNOWN}, {}, "test_thing.x", WHERE)
    assert not diags


def test_required_null_is_an_error():
    _, diags = check_values(THING, {"name": None}, {}, "test_thing.x", WHERE)
    assert [d.summary for d in diags] == ['Required argument "name" is null']


REGIONISH = Schema(
    {
        "region": Attribute(
            required=True,
            allowed=("eastus", "westeurope"),
            normalize=lambda v: v.lower().replace(" ", ""),
        ),
        "label": Attribute(optional=True),
    }
)


def test_allowed_values_refuse_others_with_did_you_mean():
    _, diags = check_values(REGIONISH, {"region": "eastuss"}, {}, "t.x", WHERE)
    (d,) = diags
    assert d.summary == 'Invalid value for "region"'
    assert d.detail == (
        'main.hcl:1: t.x.region: "eastuss" is not an allowed value. Did you mean "eastus"? '
        "Use one of: eastus, westeurope"
    )
    # compared in the normalized form; an unknown value is judged at apply
    for fine in ("East US", "westeurope", UNKNOWN):
        assert not check_values(REGIONISH, {"region": fine}, {}, "t.x", WHERE)[1], fine


def test_a_bool_for_a_string_argument_is_a_type_error():
    _, diags = check_values(REGIONISH, {"region": "eastus", "label": True}, {}, "t.x", WHERE)
    assert [(d.summary, d.detail) for d in diags] == [
        (
            'Incorrect attribute value type for "label"',
            'main.hcl:1: t.x.label must be a string, not a bool; write it in quotes: label = "..."',
        )
    ]
    # numbers still convert, as in Terraform
    out, diags = check_values(REGIONISH, {"region": "eastus", "label": 5}, {}, "t.x", WHERE)
    assert not diags and out["label"] == "5"


def test_a_cached_configuration_is_checked_and_graphed_without_walking_its_expressions(
    tmp_path, monkeypatch
):
    """A resource's references and the nodes the static checks judge are made when its
    file is decoded and kept by the parse cache: a warm command's checks and graph walk no
    expression tree (none is walked at all here), and find the same as a cold one."""
    import engine.graph
    import engine.schemacheck
    from engine.registry import Registry
    from engine.schemacheck import check_config
    from providers.builtin.data import provider

    (tmp_path / ".bcdr").mkdir()  # a folder bcdr worked in keeps its parse cache
    (tmp_path / "main.hcl").write_text(
        'resource "bcdr_data" "a" {\n  input = upper("x")\n}\n'
        'resource "bcdr_data" "b" {\n  input = [bcdr_data.a.id, length(bcdr_data.a.nope)]\n}\n'
        'resource "bcdr_data" "c" {\n  input = bcdr_data.b.output\n  count = 2\n}\n'
    )
    registry = Registry([provider()])

    def found(checks):
        graph = checks.graph
        edges = {str(a): sorted(map(str, graph.dependencies(a))) for a in graph.nodes()}
        return [(d.summary, str(d.range)) for d in checks.findings], edges

    cold, _ = load_config(tmp_path)
    want = found(check_config(cold, registry))
    assert want == (
        [("Unsupported attribute", "main.hcl:5")],
        {"bcdr_data.a": [], "bcdr_data.b": ["bcdr_data.a"], "bcdr_data.c": ["bcdr_data.b"]},
    )

    walked = []
    monkeypatch.setattr(engine.graph, "references", lambda e, *bound: walked.append(e) or [])
    monkeypatch.setattr(engine.schemacheck, "_sites", lambda es: walked.append(es) or [])
    warm, _ = load_config(tmp_path)
    assert found(check_config(warm, registry)) == want
    assert walked == []
    load_config(tmp_path, cache=False)  # without the cache, decoding walks every body:
    assert len(walked) == 4 + 3  # the references of 4 expressions (c's count too), 3 sites

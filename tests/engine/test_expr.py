"""Expression evaluation: one golden case per feature, UNKNOWN propagation, errors."""

from __future__ import annotations

import pickle

import pytest

from engine.config import parse_expression
from engine.expr import evaluate, evaluate_marked, literal, references
from engine.exprnodes import EvalContext, EvalError, Reference
from sdk.addrs import ResourceAddr
from sdk.values import UNKNOWN, mark, mark_paths, unmark

RESOURCES = {
    ResourceAddr("bcdr_data", "one"): {"id": "d-1", "output": {"x": 1}},
    ResourceAddr("bcdr_data", "many"): [{"id": "m-0"}, {"id": "m-1"}],
    ResourceAddr("bcdr_data", "keyed"): {"a": {"id": "k-a"}, "b": {"id": "k-b"}},
    ResourceAddr("bcdr_data", "later"): {"id": UNKNOWN, "name": "later"},
}


def _resources(addr: ResourceAddr):
    return RESOURCES[addr]


def ctx(**kw) -> EvalContext:
    base = dict(
        variables={
            "name": "web",
            "n": 3,
            "tags": {"env": "prod", "team": "dr"},
            "zones": ["a", "b", "c"],
            "nothing": None,
            "flag": True,
            "unk": UNKNOWN,
            "objs": [{"id": 1, "k": "x"}, {"id": 2, "k": "y"}],
        },
        locals={"prefix": "bcdr"},
        resources=_resources,
        path_module="/specs",
        path_cwd="/here",
    )
    base.update(kw)
    return EvalContext(**base)


def ev(text: str, context: EvalContext | None = None):
    expr, diags = parse_expression(text, "test.hcl")
    assert expr is not None, [d.summary for d in diags]
    return evaluate(expr, context or ctx())


GOLDEN = [
    # literals
    ("1", 1),
    ("1.5", 1.5),
    ("-2", -2),
    ("true", True),
    ("null", None),
    ('"plain"', "plain"),
    (r'"tab\there \"q\" \\ \u00e9"', 'tab\there "q" \\ é'),
    # templates
    ('"${var.name}-${var.n}"', "web-3"),
    ('"${var.n}"', 3),  # a lone interpolation keeps its type
    ('"$${literal}"', "${literal}"),
    ('"%{if var.flag}on%{else}off%{endif}"', "on"),
    ('"%{for z in var.zones}${z};%{endfor}"', "a;b;c;"),
    ('"${true}/${1.0}/${2.5}"', "true/1/2.5"),
    ('"%{for z in var.zones ~}\n  ${z}\n%{~ endfor ~}  end"', "abcend"),
    ('"${var.n}${var.n}"', "33"),
    # collections
    ("[1, 2, 3]", [1, 2, 3]),
    ("[]", []),
    ('{a = 1, "b" = 2, (var.name) = 3}', {"a": 1, "b": 2, "web": 3}),
    ("{a: 1}", {"a": 1}),
    # references
    ("var.tags", {"env": "prod", "team": "dr"}),
    ("local.prefix", "bcdr"),
    ("bcdr_data.one.id", "d-1"),
    ("bcdr_data.one.output.x", 1),
    ("bcdr_data.many[1].id", "m-1"),
    ('bcdr_data.keyed["b"].id', "k-b"),
    ("path.module", "/specs"),
    ("path.cwd", "/here"),
    # index and attribute
    ("var.zones[0]", "a"),
    ('var.tags["env"]', "prod"),
    ("var.zones.1", "b"),
    # splat
    ("bcdr_data.many[*].id", ["m-0", "m-1"]),
    ("var.objs.*.k", ["x", "y"]),
    ("var.nothing[*]", []),
    ("bcdr_data.one[*].id", ["d-1"]),
    # operators
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("7 / 2", 3.5),
    ("8 / 2", 4),
    ("7 % 3", 1),
    ("10 - 4 - 3", 3),
    ("-var.n", -3),
    ("!var.flag", False),
    ("1 < 2 && 2 >= 2", True),
    ("1 > 2 || false", False),
    ('var.name == "web"', True),
    ("1 == 1.0", True),
    ('1 == "1"', False),
    ("[1, 2] == [1, 2]", True),
    ("var.tags != {}", True),
    ('var.n > 2 ? "big" : "small"', "big"),
    # for expressions
    ("[for z in var.zones : upper(z)]", ["A", "B", "C"]),
    ('[for z in var.zones : z if z != "b"]', ["a", "c"]),
    ("[for i, z in var.zones : i]", [0, 1, 2]),
    ('{for k, v in var.tags : k => "${v}!"}', {"env": "prod!", "team": "dr!"}),
    ("{for o in var.objs : o.k => o.id}", {"x": 1, "y": 2}),
    ('{for z in ["a", "b", "a"] : z => z...}', {"a": ["a", "a"], "b": ["b"]}),
    # functions, with ... expansion
    ("max([1, 5, 3]...)", 5),
    ('join("-", var.zones)', "a-b-c"),
    ('try(var.tags["missing"], "fallback")', "fallback"),
    ("try(var.tags.env, 1)", "prod"),
    ('can(var.tags["missing"])', False),
    ("can(var.tags.env)", True),
    ('try(var.tags["missing"], null)', None),
]


@pytest.mark.parametrize(("text", "want"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden(text, want):
    got = ev(text)
    assert got == want
    assert type(got) is type(want)


def test_heredoc_and_trimmed_heredoc():
    from engine.config import parse_body

    body, diags = parse_body(
        'a = <<EOT\nhello ${var.name}\n  "quoted" \\n\nEOT\nb = <<-EOT\n    x\n      y\n    EOT\n',
        "h.hcl",
    )
    assert not diags
    assert evaluate(body.attributes["a"].expr, ctx()) == 'hello web\n  "quoted" \\n\n'
    assert evaluate(body.attributes["b"].expr, ctx()) == "x\n  y\n"


def test_heredoc_with_directives_and_escapes():
    from engine.config import parse_body

    text = "a = <<EOT\n%{ for z in var.zones }- ${z} $${not}\n%{ endfor ~}\nEOT\n"
    body, diags = parse_body(text, "h.hcl")
    assert not diags
    assert evaluate(body.attributes["a"].expr, ctx()) == "- a ${not}\n- b ${not}\n- c ${not}\n"


def test_count_and_each():
    c = ctx(count_index=2, has_each=True, each_key="k", each_value={"v": 1})
    assert ev('"${count.index}-${each.key}-${each.value.v}"', c) == "2-k-1"


@pytest.mark.parametrize(
    "text",
    [
        "var.unk",
        "var.unk + 1",
        '"x-${var.unk}"',
        "var.unk == 1",
        "1 == var.unk",
        "[var.unk] == [1]",
        'var.unk ? "a" : "b"',
        "!var.unk",
        "-var.unk",
        "var.unk.attr",
        "var.unk[0]",
        "var.zones[var.unk]",
        "bcdr_data.later.id",
        'upper("${bcdr_data.later.id}")',
        "upper(var.unk)",
        "[for z in var.unk : z]",
        "[for z in var.zones : z if var.unk]",
        "{for z in var.zones : var.unk => z}",
        "var.unk[*].id",
        'format("%s", var.unk)',
    ],
)
def test_unknown_propagates(text):
    assert ev(text) is UNKNOWN


def test_unknown_inside_collections_keeps_shape():
    assert ev("[var.unk, 1]") == [UNKNOWN, 1]
    assert ev("length([var.unk, 1])") == 2
    assert ev("length(bcdr_data.later)") == 2
    assert ev("keys(bcdr_data.later)") == ["id", "name"]
    assert ev("merge(bcdr_data.later, {a = 1})") == {"id": UNKNOWN, "name": "later", "a": 1}
    assert ev("concat([var.unk], [2])") == [UNKNOWN, 2]
    assert ev('{ a = var.unk }["a"]') is UNKNOWN
    assert ev("[{id = var.unk}][*].id") == [UNKNOWN]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"a" + 1', "left operand: a number is required"),
        ("true * 2", "left operand: a number is required"),
        ('1 < "x"', "right operand: a number is required"),
        ("1 / 0", "Division by zero"),
        ("!1", "unary operand: a bool is required"),
        ('-"x"', "unary operand: a number is required"),
        ('1 ? "a" : "b"', "not a bool"),
        ("1 && true", "left operand: a bool is required"),
        ("var.missing", 'undeclared input variable "missing"'),
        ("local.missing", 'undeclared local value "missing"'),
        ("bcdr_data.nope.id", 'undeclared resource "bcdr_data.nope"'),
        ("count.index", "outside a resource with count"),
        ("each.key", "outside a resource with for_each"),
        ("path.nowhere", "path.module"),
        ("somename", 'Unknown name "somename"'),
        ("var.zones[5]", "Invalid index"),
        ("var.zones[5]", "index 5 is out of range for a list of 3 elements"),
        ("[][0]", "the list has no elements"),
        ('var.tags["nope"]', 'no key "nope"'),
        ("var.tags.nope", 'no attribute named "nope"'),
        ("var.zones.name", 'Cannot get attribute "name" of a list'),
        ("var.nothing.x", "null"),
        ('"x${var.zones}"', "Cannot include a list in a string template"),
        ('"x${var.nothing}"', "null value in a string"),
        ("nosuchfn(1)", 'unknown function "nosuchfn"'),
        ("upper(1, 2)", "Function upper takes exactly 1 argument, but is given 2"),
        ("upper()", "Not enough function arguments"),
        ("uper(1)", 'Did you mean "upper"?'),
        ('{for z in ["a", "a"] : z => z}', 'Duplicate key "a"'),
        ("[for z in 5 : z]", "Cannot iterate over a number"),
        ("try(var.missing, local.missing)", "no argument could be evaluated"),
        ("max(1...)", "expansion needs a list"),
    ],
)
def test_errors_are_eval_errors_with_range(text, message):
    with pytest.raises(EvalError) as info:
        ev(text)
    assert message.lower() in (info.value.summary + info.value.detail).lower()
    assert info.value.range is not None and info.value.range.filename == "test.hcl"


def test_error_range_points_at_the_line():
    from engine.config import parse_body

    body, _ = parse_body("a = 1\nb = [\n  1,\n  var.nope,\n]\n", "m.hcl")
    with pytest.raises(EvalError) as info:
        evaluate(body.attributes["b"].expr, ctx())
    assert str(info.value.range) == "m.hcl:4"


def test_references_are_collected_and_for_locals_excluded():
    expr, _ = parse_expression(
        '"${var.a}" == local.b ? bcdr_data.x.id : [for v in var.list : v.id if v != '
        "count.index][each.key] + length(bcdr_data.y[*].id) + path.module",
        "r.hcl",
    )
    refs = references(expr)
    got = {(r.kind, r.subject if isinstance(r.subject, str) else str(r.subject)) for r in refs}
    assert got == {
        ("var", "a"),
        ("local", "b"),
        ("resource", "bcdr_data.x"),
        ("var", "list"),
        ("count", "index"),
        ("each", "key"),
        ("resource", "bcdr_data.y"),
        ("path", "module"),
    }
    assert all(isinstance(r, Reference) and r.range.filename == "r.hcl" for r in refs)
    res = [r for r in refs if r.kind == "resource"]
    assert res[0].subject == ResourceAddr("bcdr_data", "x")


def test_for_local_shadows_resource_type_name():
    expr, _ = parse_expression("[for bcdr_data in var.zones : bcdr_data.x]", "r.hcl")
    assert [r.kind for r in references(expr)] == ["var"]


def test_literal_and_pickle_round_trip():
    from sdk.diagnostics import SourceRange

    lit = literal({"a": [1]}, SourceRange("x.hcl", 3))
    assert evaluate(lit, ctx()) == {"a": [1]}
    expr, _ = parse_expression('[for z in var.zones : "${z}-${var.name}"]', "p.hcl")
    again = pickle.loads(pickle.dumps(expr))
    assert evaluate(again, ctx()) == ["a-web", "b-web", "c-web"]


def test_locals_may_be_a_callable():
    def lazy(name):
        if name == "x":
            return 42
        raise KeyError(name)

    assert ev("local.x + 1", ctx(locals=lazy)) == 43
    with pytest.raises(EvalError, match="undeclared local"):
        ev("local.y", ctx(locals=lazy))


# ------------------------------------------------------------ sensitive marks (EXT-4)

MARKED = {
    "secret": mark("s3cret"),
    "plain": "open",
    "obj": {"id": "i-1", "token": mark("t0k")},
    "items": [{"id": 1, "pw": mark("a")}, {"id": 2, "pw": mark("b")}],
    "flag": mark(True),
    "smap": mark({"k": "v"}),
}


def ev_marked(text: str):
    expr, diags = parse_expression(text, "test.hcl")
    assert expr is not None, [d.summary for d in diags]
    return evaluate_marked(expr, ctx(variables={**MARKED, "unk": UNKNOWN}))


@pytest.mark.parametrize(
    "text, want",
    [
        ("var.secret", "s3cret"),
        ('"x-${var.secret}"', "x-s3cret"),
        ("upper(var.secret)", "S3CRET"),
        ('var.secret == "s3cret"', True),
        ("length(var.secret) + 1", 7),
        ('var.flag ? "yes" : "no"', "yes"),
        ('true ? var.secret : "no"', "s3cret"),
        ('var.unk ? var.secret : "no"', UNKNOWN),
        ("[for c in [var.secret] : c]", ["s3cret"]),
        ('{ a = var.secret, b = "x" }', {"a": "s3cret", "b": "x"}),
        ("var.obj.token", "t0k"),
        ("var.obj", {"id": "i-1", "token": "t0k"}),
        ("var.items[*].pw", ["a", "b"]),
        ('{ k = "v" }[var.secret == "" ? "k" : "k"]', "v"),
        ("jsonencode(var.obj)", '{"id":"i-1","token":"t0k"}'),
        ("try(var.secret, 1)", "s3cret"),
        ('sensitive("plain")', "plain"),
    ],
)
def test_a_value_computed_from_a_marked_value_is_marked(text, want):
    assert ev_marked(text) == (want, True)


@pytest.mark.parametrize(
    "text, want",
    [
        ("var.plain", "open"),
        ("var.obj.id", "i-1"),
        ("var.items[0].id", 1),
        ("var.items[*].id", [1, 2]),
        ('false ? var.secret : "no"', "no"),
        ("nonsensitive(upper(var.secret))", "S3CRET"),
        ('"${var.plain}!"', "open!"),
    ],
)
def test_a_value_not_computed_from_a_marked_value_is_not_marked(text, want):
    assert ev_marked(text) == (want, False)


def test_marks_never_reach_a_function_or_the_result():
    value, marked = ev_marked("merge(var.obj, { more = var.items })")
    assert marked
    assert value == {
        "id": "i-1",
        "token": "t0k",
        "more": [{"id": 1, "pw": "a"}, {"id": 2, "pw": "b"}],
    }
    assert unmark(value) == (value, False)


def test_a_function_error_on_a_sensitive_argument_does_not_quote_it():
    with pytest.raises(EvalError) as err:
        ev_marked("tonumber(var.secret)")
    assert err.value.summary == "tonumber(): invalid sensitive argument"
    assert "s3cret" not in f"{err.value.summary} {err.value.detail}"
    with pytest.raises(EvalError, match='not "open"'):
        ev_marked("tonumber(var.plain)")


def test_mark_paths_marks_what_the_state_seals_and_nothing_else():
    value = {"id": "x", "net": {"pw": "p", "ip": "1"}, "members": [{"t": "a"}, {"t": "b"}]}
    marked = mark_paths(value, ["net.pw", "members.*.t", "missing.path"])
    assert marked["net"]["pw"] == mark("p") and marked["net"]["ip"] == "1"
    assert [m["t"] for m in marked["members"]] == [mark("a"), mark("b")]
    assert unmark(marked) == (value, True)
    assert unmark(value)[0] is value  # nothing marked: no copy
    assert mark_paths(UNKNOWN, ["id"]) is UNKNOWN


@pytest.mark.parametrize("text", ["{ a = 1 }[var.secret]", "var.smap.nope", 'var.smap["x"]'])
def test_a_failed_traversal_of_a_sensitive_value_does_not_quote_it(text):
    with pytest.raises(EvalError) as err:
        ev_marked(text)
    assert err.value.summary == "Invalid traversal of a sensitive value"
    assert "s3cret" not in err.value.detail and '"k"' not in err.value.detail


def test_a_failed_traversal_of_an_unmarked_container_says_what_is_there():
    with pytest.raises(EvalError, match="Invalid index") as info:
        ev_marked("var.items[5]")
    assert "out of range for a list of 2" in info.value.detail

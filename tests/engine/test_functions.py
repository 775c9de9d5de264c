"""The function registry: a golden case per function, errors, UNKNOWN, type conversion."""

from __future__ import annotations

import pytest

from engine.config import parse_expression
from engine.expr import evaluate
from engine.exprnodes import EvalContext, EvalError
from engine.functions import FUNCTIONS, TypeConstraint, convert, parse_type
from sdk.values import UNKNOWN


def _no_resources(addr):
    raise KeyError(addr)


def ev(text: str, module: str = "."):
    expr, diags = parse_expression(text, "f.hcl")
    assert expr is not None, [d.summary for d in diags]
    ctx = EvalContext(
        variables={"unk": UNKNOWN, "m": {"a": 1, "b": 2}},
        locals={},
        resources=_no_resources,
        path_module=module,
    )
    return evaluate(expr, ctx)


GOLDEN = [
    ('length("héllo")', 5),
    ("length([1, 2])", 2),
    ("length({a = 1})", 1),
    ('lookup({a = 1}, "a")', 1),
    ('lookup({a = 1}, "b", 7)', 7),
    ("merge({a = 1, b = 1}, {b = 2}, null)", {"a": 1, "b": 2}),
    ("concat([1], [], [2, 3])", [1, 2, 3]),
    ('format("%s-%d-%q-%v", "a", 42, "q", [1])', 'a-42-"q"-[1]'),
    ('format("%5.2f|%-4s|%04d|%t|%%", 3.14159, "ab", 7, true)', " 3.14|ab  |0007|true|%"),
    ('format("%x %X %o %b %e", 255, 255, 8, 5, 1500)', "ff FF 10 101 1.500000e+03"),
    ('join(", ", ["a", "b"])', "a, b"),
    ('split(",", "a,b,,c")', ["a", "b", "", "c"]),
    ('lower("AbC")', "abc"),
    ('upper("AbC")', "ABC"),
    ('replace("a-b-c", "-", "_")', "a_b_c"),
    ('replace("disk01", "/[0-9]+/", "N")', "diskN"),
    ("tolist([1, 2])", [1, 2]),
    ('toset(["b", "a", "b"])', ["a", "b"]),
    ("tomap({a = 1})", {"a": 1}),
    # unification reaches into collections: one element type for the lists, one type per
    # attribute for objects with the same attributes, one element type for the others
    ('tomap({a = [1], b = ["x"]})', {"a": ["1"], "b": ["x"]}),
    (
        'tomap({a = {x = 1, y = true}, b = {x = "y", y = true}})',
        {"a": {"x": "1", "y": True}, "b": {"x": "y", "y": True}},
    ),
    ('tolist([[1, true], ["x"]])', [["1", "true"], ["x"]]),
    ('tomap({a = {x = 1}, b = {y = "z"}})', {"a": {"x": "1"}, "b": {"y": "z"}}),
    ("keys({b = 1, a = 2})", ["a", "b"]),
    ("values({b = 1, a = 2})", [2, 1]),
    ('contains(["a", "b"], "b")', True),
    ("contains([1, 2], 3)", False),
    ('element(["a", "b", "c"], 4)', "b"),
    ("range(3)", [0, 1, 2]),
    ("range(1, 7, 2)", [1, 3, 5]),
    ("range(5, 0, -2)", [5, 3, 1]),
    ("min(3, 1, 2)", 1),
    ("max(3, 1, 2)", 3),
    ('coalesce(null, "", "x")', "x"),
    ("jsonencode({a = [1, true, null]})", '{"a":[1,true,null]}'),
    ('jsondecode("{\\"a\\": [1, 2]}")', {"a": [1, 2]}),
    ('trimspace("  x \\n")', "x"),
    ("abs(-3)", 3),
    ("tostring(5)", "5"),
    ("tostring(true)", "true"),
    ('tonumber("42")', 42),
    ('tonumber("1.5")', 1.5),
    ("flatten([[1, [2]], 3, []])", [1, 2, 3]),
    ("distinct([1, 2, 1, 3, 2])", [1, 2, 3]),
    ('startswith("disk-01", "disk")', True),
    ('endswith("disk-01", "02")', False),
    ('substr("hello world", 6, 5)', "world"),
    ('substr("hello", 1, -1)', "ello"),
    ('sort(["b", "c", "a"])', ["a", "b", "c"]),
    ('zipmap(["a", "b"], [1, 2])', {"a": 1, "b": 2}),
    ('sha256("abc")', "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ('base64encode("bcdr")', "YmNkcg=="),
    ('base64decode("YmNkcg==")', "bcdr"),
    ('try(tonumber("x"), 0)', 0),
    ('can(tonumber("x"))', False),
    ("ceil(1.2)", 2),
    ("floor(1.8)", 1),
]


@pytest.mark.parametrize(("text", "want"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_function_golden(text, want):
    assert ev(text) == want


def test_every_required_function_is_registered():
    required = (
        "length lookup merge concat format join split lower upper replace tolist toset "
        "tomap keys values contains element range min max coalesce try file jsonencode "
        "jsondecode trimspace abs tostring tonumber can flatten distinct startswith endswith "
        "substr sort zipmap sha256 base64encode base64decode"
    ).split()
    assert set(required) <= set(FUNCTIONS)


def test_file_reads_relative_to_path_module(tmp_path):
    (tmp_path / "script.sh").write_text("echo hi\n", encoding="utf-8")
    assert ev('file("script.sh")', module=str(tmp_path)) == "echo hi\n"


def test_file_missing_names_the_file(tmp_path):
    with pytest.raises(EvalError) as info:
        ev('file("missing.txt")', module=str(tmp_path))
    assert "missing.txt" in info.value.summary
    assert str(info.value.range) == "f.hcl:1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('lookup({a = 1}, "b")', 'no key "b"'),
        ("merge([1])", "must be a map"),
        ('concat("a")', "must be a list"),
        ('format("%d", "x")', "must be a number"),
        ('format("%s %s", "a")', "not enough arguments"),
        ('format("%s", "a", "b")', "too many arguments"),
        ("element([], 0)", "empty list"),
        ("coalesce(null)", "no non-null"),
        ('jsondecode("{")', "invalid JSON"),
        ('tonumber("abc")', "must be a number"),
        ('zipmap(["a"], [])', "1 keys but 0 values"),
        ("length(5)", "cannot take the length of a number"),
        ('join(",", "a")', "must be a list"),
        ("range(1, 2, 0)", "step must not be zero"),
        ('tomap({a = [1], b = "x"})', "must be of one type, not list and string"),
        ("tolist([{a = 1}, {a = true}])", "must be of one type, not bool and number"),
    ],
)
def test_function_errors(text, message):
    with pytest.raises(EvalError) as info:
        ev(text)
    assert message in info.value.summary
    assert info.value.range is not None


@pytest.mark.parametrize(
    "text",
    [
        "upper(var.unk)",
        'join(",", [var.unk])',
        "jsonencode({a = var.unk})",
        "toset([var.unk])",
        'lookup(var.unk, "a")',
        "keys(var.unk)",
        "length(var.unk)",
        'format("%s", var.unk)',
    ],
)
def test_unknown_arguments_make_unknown_results(text):
    assert ev(text) is UNKNOWN


def test_unknown_aware_functions_keep_known_parts():
    assert ev("length([var.unk, var.unk])") == 2
    assert ev('lookup({a = var.unk, b = 1}, "b")') == 1
    assert ev("values({a = var.unk})") == [UNKNOWN]
    assert ev("coalesce(1, var.unk)") == 1


# ---------------------------------------------------------------- types


@pytest.mark.parametrize(
    "text",
    [
        "string",
        "number",
        "bool",
        "any",
        "list(string)",
        "set(number)",
        "map(list(string))",
        "object({a = string, b = optional(number)})",
        "tuple([string, number])",
    ],
)
def test_type_round_trips_through_text(text):
    assert str(parse_type(text)) == text


@pytest.mark.parametrize("text", ["strng", "list(", "object({a})", "list(string) x", ""])
def test_bad_types_are_value_errors(text):
    with pytest.raises(ValueError):
        parse_type(text)


CONVERSIONS = [
    ("number", "5", 5),
    ("number", "2.5", 2.5),
    ("string", 5, "5"),
    ("string", True, "true"),
    ("bool", "true", True),
    ("list(number)", ["1", 2], [1, 2]),
    ("set(string)", ["b", "a", "b"], ["a", "b"]),
    ("map(number)", {"a": "1"}, {"a": 1}),
    ("object({a = string, b = optional(number)})", {"a": 1}, {"a": "1", "b": None}),
    ("tuple([string, number])", [1, "2"], ["1", 2]),
    ("any", {"x": [1]}, {"x": [1]}),
    ("string", None, None),
]


@pytest.mark.parametrize(("type_text", "value", "want"), CONVERSIONS)
def test_convert(type_text, value, want):
    assert convert(value, parse_type(type_text)) == want


@pytest.mark.parametrize(
    ("type_text", "value", "message"),
    [
        ("number", "abc", 'expected a number, got the string "abc"'),
        ("bool", 1, "expected a bool, got a number"),
        ("string", [1], "expected a string, got a list"),
        ("list(number)", [1, "x"], "at [1]"),
        ("map(number)", {"k": "x"}, 'at ["k"]'),
        ("object({a = string})", {}, 'attribute "a" is required'),
        ("object({a = string})", {"a": "x", "z": 1}, 'unexpected attribute "z"'),
        ("tuple([string])", ["a", "b"], "tuple of 1 elements"),
    ],
)
def test_convert_errors_say_where_and_why(type_text, value, message):
    with pytest.raises(ValueError) as info:
        convert(value, parse_type(type_text))
    assert message in str(info.value)


def test_type_constraint_is_hashable_value():
    assert parse_type("list(string)") == TypeConstraint("list", TypeConstraint("string"))

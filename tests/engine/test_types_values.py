"""Types and values as Terraform's cty has them: exact numbers and their text, operand
conversions, conditional result types, ``optional(T, default)`` and ``for_each`` over a
list."""

from __future__ import annotations

import pytest

from engine.config import parse_expression
from engine.evaluate import for_each_problem
from engine.expr import type_from_expr
from engine.exprnodes import EvalError, Literal
from engine.exprops import Conditional
from engine.numbers import format_number, parse_number
from engine.render.common import format_value
from engine.typeconv import convert
from tests.engine.test_expr import ctx, ev

ARITHMETIC = [
    ("0.1 + 0.2", 0.3),
    ("0.3 - 0.1", 0.2),
    ("0.1 * 3", 0.3),
    ("2.5 * 2", 5),
    ("6 / 3", 2),
    ("10 / 4", 2.5),
    ("1 / 3", 1 / 3),
    ("-7 % 3", -1),  # Go's truncated modulo: the sign of the dividend
    ("7 % -3", 1),
    ("-7.5 % 2", -1.5),
    ("2.0", 2),
    ("1e20", 10**20),
    ("9007199254740993 + 0", 9007199254740993),  # beyond a float's 53 bits, exactly
    ("1.5 < 1.50", False),
    ("0.1 + 0.2 == 0.3", True),
    ("-(0.1 + 0.2)", -0.3),
]


@pytest.mark.parametrize(("text", "want"), ARITHMETIC)
def test_arithmetic_is_exact_as_in_terraform(text, want):
    got = ev(text)
    assert got == want
    assert type(got) is type(want)  # 5, not 5.0: values stay plain ints and floats


PRINTED = [
    ('"${2.0}"', 2),  # one interpolation keeps its type
    ('"v${2.0}"', "v2"),
    ('"x${1e20}"', "x100000000000000000000"),
    ('"${0.1 + 0.2}"', 0.3),
    ('"n=${0.1 + 0.2}"', "n=0.3"),
    ("jsonencode([2.0, 1e20, 0.1 + 0.2, 1.5e-7])", "[2,100000000000000000000,0.3,0.00000015]"),
    ('jsonencode({"a" = 2.50})', '{"a":2.5}'),
    ("tostring(2.0)", "2"),
    ('format("%v", 5.0)', "5"),
]


@pytest.mark.parametrize(("text", "want"), PRINTED)
def test_numbers_print_in_their_shortest_text(text, want):
    assert ev(text) == want


def test_number_text_round_trips_and_the_plan_prints_no_exponent():
    for n in (2.0, 0.3, 1e20, 1.5e-7, -0.1, 123456.789, 1e-300, 5e300, 10**25):
        assert parse_number(format_number(n)) == n
        assert "e" not in format_number(n)
    assert format_value(2.0) == "2" and format_value(1e20) == "100000000000000000000"
    assert format_value(0.1 + 0.2) == "0.30000000000000004"  # a float from elsewhere: as is


def test_a_number_literal_too_large_is_a_syntax_error():
    expr, diags = parse_expression("1e400 / 2", "t.hcl")
    assert expr is None
    assert [d.summary for d in diags] == ["Invalid number 1e400"]


CONVERTED = [
    ('"5" + 1', 6),
    ('1 + "2.5"', 3.5),
    ('"10" / "4"', 2.5),
    ('"3" < 10', True),  # as numbers, not as strings
    ('-"2"', -2),
    ('"true" && true', True),
    ('"false" || false', False),
    ('!"false"', True),
    ('"5" == 5', False),  # == never converts
    ('"5" != 5', True),
    ("5 == 5.0", True),
    ('"true" == true', False),
    ('"true" ? "y" : "n"', "y"),
]


@pytest.mark.parametrize(("text", "want"), CONVERTED)
def test_operators_convert_their_operands_as_terraform(text, want):
    assert ev(text) == want


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ('1 < "x"', "Unsuitable value for right operand: a number is required."),
        ('"a" + 1', "Unsuitable value for left operand: a number is required."),
        ("true * 2", "Unsuitable value for left operand: a number is required."),
        ('true && "yes"', "Unsuitable value for right operand: a bool is required."),
        ("1 + var.nothing", "Unsuitable value for right operand: argument must not be null."),
        ("[1] + 1", "Unsuitable value for left operand: a number is required."),
    ],
)
def test_an_operand_that_does_not_convert_is_an_invalid_operand(text, detail):
    with pytest.raises(EvalError) as info:
        ev(text)
    assert info.value.summary.endswith("Invalid operand")
    assert info.value.detail == detail
    assert info.value.range.filename == "test.hcl"


CONDITIONALS = [
    ('true ? 1 : "a"', "1"),
    ('false ? 1 : "a"', "a"),
    ('true ? "a" : 1', "a"),
    ('true ? true : "a"', "true"),
    ("true ? 1 : 2.5", 1),
    ('true ? 1 : "${var.n}x"', "1"),  # a template is a string
    ('true ? 1 : "${var.n}"', 1),  # one interpolation: its type is the reference's
    ("true ? 1 : tostring(var.n)", "1"),
    ('true ? 1 : (false ? "a" : "b")', "1"),
    ("true ? 1 : var.name", 1),  # not known without evaluating: no unification
    ("true ? 1 : null", 1),
    ("true ? 1 : 1 / 0", 1),  # the branch not chosen is never evaluated
    ("false ? local.missing : 2", 2),
    ("var.flag ? 2.0 : 3", 2),
]


@pytest.mark.parametrize(("text", "want"), CONDITIONALS)
def test_conditional_results_unify_as_terraform(text, want):
    got = ev(text)
    assert got == want and type(got) is type(want)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("true ? 1 : false", "The 'true' value is number, but the 'false' value is bool."),
        ("false ? true : 1 + 1", "The 'true' value is bool, but the 'false' value is number."),
        ("var.flag ? 1 : var.n > 2", "The 'true' value is number, but the 'false' value is bool."),
    ],
)
def test_a_number_against_a_bool_is_inconsistent(text, detail):
    with pytest.raises(EvalError) as info:
        ev(text)
    assert info.value.summary.endswith("Inconsistent conditional result types")
    assert info.value.detail.endswith(detail)


def _chain(depth: int, nested_in_else: bool) -> str:
    text = '"end"'
    for i in range(depth):
        text = f"(var.flag ? {i} : {text})" if nested_in_else else f'(var.flag ? {text} : "{i}")'
    return text


@pytest.mark.parametrize("nested_in_else", [False, True])
def test_25_nested_conditionals_evaluate_each_chosen_branch_once(monkeypatch, nested_in_else):
    counts = {"conditional": 0, "literal": 0}
    conditional_ev, literal_ev = Conditional._ev, Literal._ev

    def counting_conditional(self, e):
        counts["conditional"] += 1
        return conditional_ev(self, e)

    def counting_literal(self, e):
        counts["literal"] += 1
        return literal_ev(self, e)

    monkeypatch.setattr(Conditional, "_ev", counting_conditional)
    monkeypatch.setattr(Literal, "_ev", counting_literal)
    got = ev(_chain(25, nested_in_else))
    if nested_in_else:  # var.flag is true: the outermost one picks 24 and goes no deeper;
        # its other branch is typed without evaluating it (a string, from "end")
        assert got == "24" and counts == {"conditional": 1, "literal": 1}
    else:  # down to the innermost "end"; each string "i" beside it is typed, not evaluated
        assert got == "end" and counts == {"conditional": 25, "literal": 1}


def _type(text: str):
    expr, diags = parse_expression(text, "variables.hcl")
    assert expr is not None, [d.summary for d in diags]
    return type_from_expr(expr)


def test_optional_attributes_take_their_defaults_nested_too():
    t = _type(
        "object({name = string, size = optional(number, 64), tier = optional(string),"
        " backup = optional(object({enabled = optional(bool, true), days = optional(number, 7)}),"
        ' {}), disks = optional(list(object({lun = number, cache = optional(string, "None")})),'
        " [])})"
    )
    assert convert({"name": "vm"}, t) == {
        "name": "vm",
        "size": 64,
        "tier": None,  # optional(T): null
        "backup": {"enabled": True, "days": 7},  # the default {} gets its own defaults
        "disks": [],
    }
    given = {
        "name": "vm",
        "size": "128",
        "tier": None,
        "backup": {"days": 30},
        "disks": [{"lun": 0}],
    }
    assert convert(given, t) == {
        "name": "vm",
        "size": 128,
        "tier": None,
        "backup": {"enabled": True, "days": 30},
        "disks": [{"lun": 0, "cache": "None"}],
    }
    with pytest.raises(ValueError, match='attribute "name" is required'):
        convert({"size": 1}, t)


def test_optional_defaults_must_be_constants_of_the_attributes_type():
    with pytest.raises(EvalError, match="must be a literal"):
        _type("object({a = optional(string, var.name)})")
    with pytest.raises(EvalError, match='default of "a" does not fit number'):
        _type('object({a = optional(number, "many")})')
    assert str(_type("object({a = optional(number, 2)})")) == "object({a = optional(number, 2)})"


@pytest.mark.parametrize(
    ("text", "given"),
    [
        ('["a", "b"]', "tuple"),
        ("toset([1, 2])", "set of number"),
        ('"a"', "string"),
        ("3", "number"),
    ],
)
def test_for_each_refuses_what_is_not_a_map_or_a_set_of_strings(text, given):
    problem = for_each_problem(ev(text, ctx()))
    assert problem.startswith(
        'The given "for_each" argument value is unsuitable: the "for_each" argument must be a '
        f"map, or set of strings, and you have provided a value of type {given}."
    )
    assert ("toset(" in problem) == text.startswith(("[", "toset"))

"""Functions that read files, the clock or the marks, and the RE2 syntax of regex: against
real folders under tmp_path, with the evaluation's planning flag and plan time."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import bcrypt
import pytest

from engine.config import parse_expression
from engine.expr import evaluate, evaluate_marked
from engine.exprnodes import EvalContext, EvalError
from sdk.values import UNKNOWN, mark


def _no_resources(addr):
    raise KeyError(addr)


def ev(text: str, folder: Path | str = ".", **ctx_args):
    expr, diags = parse_expression(text, "f.hcl")
    assert expr is not None, [d.summary for d in diags]
    ctx = EvalContext(
        variables={"secret": mark("s3cret"), "plain": "x", "unk": UNKNOWN},
        locals={},
        resources=_no_resources,
        path_cwd=str(folder),
        **ctx_args,
    )
    return evaluate(expr, ctx)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """The folder of Terraform's fileset examples."""
    (tmp_path / "files" / "subdirectory").mkdir(parents=True)
    (tmp_path / "files" / "hello.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "files" / "world.txt").write_text("world", encoding="utf-8")
    (tmp_path / "files" / "subdirectory" / "anotherfile.txt").write_text("x", encoding="utf-8")
    return tmp_path


# ---------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('basename("foo/bar/baz.txt")', "baz.txt"),
        ('basename("foo/bar/")', "bar"),
        ('basename("")', "."),
        ('dirname("foo/bar/baz.txt")', "foo/bar"),
        ('dirname("baz.txt")', "."),
        ('dirname("/baz.txt")', "/"),
        ('pathexpand("/etc/resolv.conf")', "/etc/resolv.conf"),
        ('pathexpand("~user/x")', "~user/x"),
    ],
)
def test_path_text_functions_as_terraforms_examples(text, want):
    assert ev(text) == want


def test_pathexpand_expands_the_home_folder(monkeypatch):
    monkeypatch.setenv("HOME", "/home/steve")
    assert ev('pathexpand("~/.ssh/id_rsa")') == "/home/steve/.ssh/id_rsa"
    assert ev('pathexpand("~")') == "/home/steve"


def test_abspath_is_under_the_specs_folder(tmp_path):
    assert ev('abspath("a/../b/c.txt")', tmp_path) == str(tmp_path / "b" / "c.txt")
    assert ev('abspath("/etc/x")', tmp_path) == "/etc/x"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('fileset(".", "files/*.txt")', ["files/hello.txt", "files/world.txt"]),
        ('fileset(".", "files/{hello,world}.txt")', ["files/hello.txt", "files/world.txt"]),
        ('fileset("files", "*")', ["hello.txt", "world.txt"]),
        (
            'fileset("files", "**")',
            ["hello.txt", "subdirectory/anotherfile.txt", "world.txt"],
        ),
        ('fileset("files", "**/*file.txt")', ["subdirectory/anotherfile.txt"]),
        ('fileset("files", "h?llo.[t]xt")', ["hello.txt"]),
        ('fileset("nowhere", "*")', []),
    ],
)
def test_fileset_as_terraforms_examples(files, text, want):
    assert ev(text, files) == want


def test_file_reading_functions_read_bytes_relative_to_the_specs_folder(files):
    data = b"hello"
    assert ev('filebase64("files/hello.txt")', files) == base64.b64encode(data).decode()
    assert ev('filesha256("files/hello.txt")', files) == hashlib.sha256(data).hexdigest()
    assert ev('filemd5("files/hello.txt")', files) == hashlib.md5(data).hexdigest()
    assert (
        ev('filebase64sha512("files/hello.txt")', files)
        == base64.b64encode(hashlib.sha512(data).digest()).decode()
    )


def test_a_missing_file_names_it(files):
    with pytest.raises(EvalError) as info:
        ev('filesha256("files/nope.txt")', files)
    assert info.value.summary == 'filesha256(): no file "files/nope.txt"'
    assert str(info.value.range) == "f.hcl:1"


# ---------------------------------------------------------------- templatefile

BACKENDS = "%{ for addr in ip_addrs ~}\nbackend ${addr}:${port}\n%{ endfor ~}\n"
BACKENDS_JSON = '${jsonencode({"backends": [for addr in ip_addrs : "${addr}:${port}"]})}'
VARS = '{ port = 8080, ip_addrs = ["10.0.0.1", "10.0.0.2"] }'


def test_templatefile_as_terraforms_examples(tmp_path):
    (tmp_path / "backends.tftpl").write_text(BACKENDS, encoding="utf-8")
    (tmp_path / "backends.json.tftpl").write_text(BACKENDS_JSON, encoding="utf-8")
    want = "backend 10.0.0.1:8080\nbackend 10.0.0.2:8080\n"
    assert ev(f'templatefile("backends.tftpl", {VARS})', tmp_path) == want
    want_json = '{"backends":["10.0.0.1:8080","10.0.0.2:8080"]}'
    assert ev(f'templatefile("backends.json.tftpl", {VARS})', tmp_path) == want_json


def test_templatefile_with_if_and_a_literal_file(tmp_path):
    (tmp_path / "t.tftpl").write_text("%{ if on }yes%{ else }no%{ endif }", encoding="utf-8")
    (tmp_path / "plain.txt").write_text("no interpolation\n", encoding="utf-8")
    assert ev('templatefile("t.tftpl", { on = true })', tmp_path) == "yes"
    assert ev('templatefile("t.tftpl", { on = false })', tmp_path) == "no"
    assert ev('templatefile("plain.txt", {})', tmp_path) == "no interpolation\n"


def test_templatefile_is_unknown_when_a_variable_is(tmp_path):
    (tmp_path / "t.tftpl").write_text("${x}", encoding="utf-8")
    assert ev('templatefile("t.tftpl", { x = var.unk })', tmp_path) is UNKNOWN


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("${missing}", 't.tftpl:1: Unknown name "missing"'),
        ('${templatefile("t.tftpl", {})}', "cannot be called from inside a template"),
        ("${", "t.tftpl: Invalid template"),
    ],
)
def test_templatefile_mistakes_name_the_template(tmp_path, template, message):
    (tmp_path / "t.tftpl").write_text(template, encoding="utf-8")
    with pytest.raises(EvalError) as info:
        ev('templatefile("t.tftpl", { port = 1 })', tmp_path)
    assert message in info.value.summary
    assert str(info.value.range) == "f.hcl:1"


def test_a_template_sees_only_its_variables(tmp_path):
    (tmp_path / "t.tftpl").write_text("${plain}", encoding="utf-8")
    with pytest.raises(EvalError) as info:
        ev('templatefile("t.tftpl", { port = 1 })', tmp_path)
    assert "only the variables it is given (port)" in info.value.detail


# ---------------------------------------------------------------- clock and randomness

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")


@pytest.mark.parametrize("text", ["timestamp()", "uuid()", 'bcrypt("x")'])
def test_functions_of_a_new_value_each_call_are_unknown_while_planning(text):
    assert ev(text, planning=True) is UNKNOWN
    assert ev(text) is not UNKNOWN


def test_a_mistake_in_an_unknown_call_is_still_reported_while_planning():
    with pytest.raises(EvalError) as info:
        ev('bcrypt(tonumber("many"))', planning=True)
    assert info.value.summary == 'tonumber(): the argument must be a number, not "many"'


def test_timestamp_and_uuid_when_applying():
    assert RFC3339.match(ev("timestamp()"))
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", ev("uuid()")
    )
    assert ev("uuid()") != ev("uuid()")


def test_plantimestamp_is_the_plans_time_through_the_evaluation():
    when = "2024-05-01T10:00:00Z"
    assert ev("plantimestamp()", planning=True, plan_time=when) == when
    assert ev('timeadd(plantimestamp(), "24h")', plan_time=when) == "2024-05-02T10:00:00Z"
    assert RFC3339.match(ev("plantimestamp()"))  # no plan: now


def test_bcrypt_hashes_as_go_does_and_verifies():
    hashed = ev('bcrypt("hello world")')
    assert hashed.startswith("$2a$10$") and len(hashed) == 60
    assert bcrypt.checkpw(b"hello world", hashed.encode())
    assert ev('bcrypt("hello world", 4)').startswith("$2a$04$")


# ---------------------------------------------------------------- marks and types


def test_issensitive_says_whether_a_value_is_marked_and_is_not_itself_marked():
    expr, _ = parse_expression("issensitive(var.secret)", "f.hcl")
    ctx = EvalContext(variables={"secret": mark("s")}, locals={}, resources=_no_resources)
    assert evaluate_marked(expr, ctx) == (True, False)
    assert ev("issensitive(var.plain)") is False
    assert ev('issensitive(sensitive("x"))') is True
    assert ev("issensitive(nonsensitive(var.secret))") is False


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('type("a")', "string"),
        ("type(1)", "number"),
        ("type(true)", "bool"),
        ("type(null)", "dynamic"),
        ('type([1, "a"])', "tuple([number, string])"),
        ("type({b = 1, a = [true]})", "object({a = tuple([bool]), b = number})"),
    ],
)
def test_type_names_the_type_as_terraforms_console(text, want):
    assert ev(text) == want


def test_jsonencode_escapes_as_go_does_and_sorts_keys():
    assert ev('jsonencode({b = "<a&b>", a = 2.0})') == '{"a":2,"b":"\\u003ca\\u0026b\\u003e"}'


# ---------------------------------------------------------------- RE2 syntax


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('regex("\\\\d+", "a١٢3")', "3"),  # \d is ASCII only, as in RE2
        ('regex("a$", "a\\n") == "a"', None),  # $ is the end of the text
        ('regexall("(?m)^\\\\w+$", "ab\\ncd")', ["ab", "cd"]),
        ('regex("[[:upper:]]+", "abCDe")', "CD"),
        ('regex("\\\\Qa.b\\\\E", "xa.by")', "a.b"),
        ('regex("(?<year>\\\\d{4})", "in 2019")', {"year": "2019"}),
        ('regex("(a)|(b)", "b")', [None, "b"]),
        ('replace("2019-02-01", "/(\\\\d+)-(\\\\d+)-(\\\\d+)/", "$3.$2.$1")', "01.02.2019"),
        ('replace("ab", "/(?P<x>a)/", "[$${x}]$$")', "[a]$b"),
    ],
)
def test_regex_follows_re2(text, want):
    if want is None:
        with pytest.raises(EvalError, match="did not match"):
            ev(text)
    else:
        assert ev(text) == want


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        ("(a)\\\\1", "backreference"),
        ("a(?=b)", "look-ahead"),
        ("(?<=a)b", "look-behind"),
        ("a*+", "possessive"),
        ("\\\\pL", "\\\\p"),
        ("(?U)a+", "ungreedy"),
        ("[[:nope:]]", "[:nope:]"),
    ],
)
def test_regex_refuses_what_re2_does_not_have(pattern, what):
    with pytest.raises(EvalError) as info:
        ev(f'regex("{pattern}", "ab")')
    assert what.replace("\\\\", "\\") in info.value.summary
    assert "rewrite the pattern" in info.value.detail


def test_regex_mixing_named_and_unnamed_groups_is_refused():
    with pytest.raises(EvalError, match="mixes named and unnamed"):
        ev('regex("(?P<a>x)(y)", "xy")')


# ---------------------------------------------------------------- try and can


@pytest.mark.parametrize(
    "text", ['try(uppr("a"), "b")', 'can(uppr("a"))', 'try(upper("a", "b"), "c")']
)
def test_try_and_can_do_not_hide_a_call_the_configuration_gets_wrong(text):
    with pytest.raises(EvalError) as info:
        ev(text)
    assert info.value.summary in ('Call to unknown function "uppr"', "Too many function arguments")
    assert str(info.value.range) == "f.hcl:1"

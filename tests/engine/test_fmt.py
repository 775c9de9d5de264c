"""``format_source``: the canonical layout, comment preservation, idempotence, errors."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import parse_body
from engine.expr import static_value
from engine.fmt import format_source

MESSY = """\


# leading comment
variable "x" {
type = string
    default = "a"
  description="hello # not a comment"\t\t
}
resource "bcdr_data" "a" {
  input = {
      name = "x"
   longer_name = "${upper("}")}"
  }
  h = <<-EOT
      keep   me
        as written
    EOT
  count = 2 # two
  // line comment
  x = [
  1,
  2,
  ]
  nested {
  deep = true
  }
}



resource "bcdr_data" "b" {
}
"""

CANONICAL = """\
# leading comment
variable "x" {
  type        = string
  default     = "a"
  description = "hello # not a comment"
}

resource "bcdr_data" "a" {
  input = {
    name        = "x"
    longer_name = "${upper("}")}"
  }
  h = <<-EOT
      keep   me
        as written
  EOT
  count = 2 # two
  // line comment
  x = [
    1,
    2,
  ]
  nested {
    deep = true
  }
}

resource "bcdr_data" "b" {
}
"""


def test_messy_file_gets_canonical_layout():
    assert format_source(MESSY) == CANONICAL


def test_canonical_is_a_fixed_point():
    assert format_source(CANONICAL) == CANONICAL


def test_blank_line_inserted_between_top_level_blocks():
    got = format_source('locals {\n  a = 1\n}\noutput "o" {\n  value = local.a\n}')
    assert got == 'locals {\n  a = 1\n}\n\noutput "o" {\n  value = local.a\n}\n'


def test_alignment_runs_break_at_blank_lines_and_comments():
    src = "locals {\n  a = 1\n  bbb = 2\n\n  cc = 3\n  # note\n  dddd = 4\n  e = 5\n}\n"
    want = "locals {\n  a   = 1\n  bbb = 2\n\n  cc = 3\n  # note\n  dddd = 4\n  e    = 5\n}\n"
    assert format_source(src) == want


def test_multi_line_argument_is_not_aligned_and_ends_the_run():
    # terraform fmt aligns only arguments whose value ends on their line: `tags = {` keeps
    # one space, and the run after it starts afresh.
    src = 'r {\n  name = "a"\n  source_uri = "b"\n  tags = {\n    role = "x"\n  }\n  s = 1\n}\n'
    want = (
        'r {\n  name       = "a"\n  source_uri = "b"\n  tags = {\n    role = "x"\n  }\n  s = 1\n}\n'
    )
    assert format_source(src) == want
    assert format_source("r {\n  a    = [\n    1,\n  ]\n}\n") == "r {\n  a = [\n    1,\n  ]\n}\n"


def test_block_comment_kept_verbatim():
    src = 'locals {\n/* keep\n      this   */\n  a = "b"\n}\n'
    assert format_source(src) == 'locals {\n  /* keep\n      this   */\n  a = "b"\n}\n'


def test_syntax_error_raises_value_error_with_line():
    with pytest.raises(ValueError, match=r"main\.hcl:2"):
        format_source("locals {\n  a = = 1\n}\n", "main.hcl")
    with pytest.raises(ValueError, match=r"<input>:4"):
        format_source("locals {\n  a = 1\n  b = [\n}\n")


def test_duplicate_arguments_are_formatted_not_refused():
    assert format_source("locals {\na = 1\na = 2\n}") == "locals {\n  a = 1\n  a = 2\n}\n"


def test_empty_input():
    assert format_source("\n\n") == ""


# ---------------------------------------------------------------- property: idempotent

names = st.sampled_from(["a", "name", "size_gb", "location", "x-y", "tags"])
scalars = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.sampled_from(['"s"', '"with # hash"', '"a ${1 + 2} b"', "true", "null", '"}{"']),
)


@st.composite
def values(draw, depth=0):
    if depth >= 2 or draw(st.booleans()):
        return draw(scalars)
    if draw(st.booleans()):
        items = draw(st.lists(values(depth + 1), max_size=3))
        if draw(st.booleans()):
            return "[" + ", ".join(items) + "]"
        return "[\n" + "".join(f"{draw(pad)}{i},\n" for i in items) + draw(pad) + "]"
    keys = draw(st.lists(names, max_size=3, unique=True))
    items = [f"{k} = {draw(values(depth + 1))}" for k in keys]
    if draw(st.booleans()) and items:
        return "{ " + ", ".join(items) + " }"
    return "{\n" + "".join(f"{draw(pad)}{i}\n" for i in items) + draw(pad) + "}"


pad = st.sampled_from(["", " ", "  ", "    ", "\t"])
blank = st.sampled_from(["", "\n", "\n\n"])


@st.composite
def documents(draw):
    out = []
    for i in range(draw(st.integers(1, 3))):
        out.append(draw(blank))
        if draw(st.booleans()):
            out.append(f"{draw(pad)}# comment {i}\n")
        out.append(f'{draw(pad)}resource "t" "r{i}" {{\n')
        for name in draw(st.lists(names, max_size=4, unique=True)):
            out.append(draw(blank))
            out.append(f"{draw(pad)}{name}{draw(pad)}= {draw(values())}\n")
        if draw(st.booleans()):
            out.append(f"{draw(pad)}inner {{\n{draw(pad)}k = 1\n{draw(pad)}}}\n")
        out.append(f"{draw(pad)}}}\n")
    return "".join(out)


def _values_of(text: str) -> list:
    body, diags = parse_body(text, "p.hcl")
    assert body is not None and not diags.has_errors, [d.summary for d in diags]
    return [
        (b.labels, {k: static_value(a.expr) for k, a in b.body.attributes.items()})
        for b in body.blocks
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_format_is_idempotent_and_keeps_meaning(doc):
    once = format_source(doc)
    assert format_source(once) == once
    assert _values_of(once) == _values_of(doc)
    assert once.endswith("\n") and "\n\n\n" not in once
    assert all(line == line.rstrip() for line in once.split("\n"))

"""yamltext.py: YAML parsing with positions, and its defences against hostile input."""
from __future__ import annotations

import pytest

from conftest import peak_memory
from jmo_schedule.core.yamltext import MAX_DEPTH, YamlSyntaxError, dump_yaml, dump_yaml_stream, parse_documents


def test_values_and_positions() -> None:
    (doc,) = parse_documents("a:\n  b: [1, x]\n  c: 'q'\n")
    assert doc.value == {"a": {"b": [1, "x"], "c": "q"}}
    assert doc.marks[("a", "b", 1)] == (2, 10)
    assert doc.key_marks[("a", "c")] == (3, 3)
    assert doc.marks[("a", "c")] == (3, 6)
    # Unknown deeper paths fall back to the nearest ancestor.
    assert doc.where(("a", "b", 7)) == (2, 6)
    assert doc.where(("a", "zz"), key=True) == (1, 1)  # the key `a`


def test_stream_of_documents() -> None:
    docs = parse_documents("a: 1\n---\nb: 2\n---\n")
    assert [d.value for d in docs] == [{"a": 1}, {"b": 2}, None]
    assert docs[1].line == 3


def test_yaml_1_1_scalars_and_timestamps_stay_text() -> None:
    (doc,) = parse_documents("a: yes\nb: 0o17\nc: 2025-10-29T02:00:00Z\nd: ~\ne: 1.5\nf: '0 2 * * *'\n")
    assert doc.value == {"a": True, "b": "0o17", "c": "2025-10-29T02:00:00Z", "d": None, "e": 1.5, "f": "0 2 * * *"}


def test_merge_keys() -> None:
    (doc,) = parse_documents("base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  y: 3\n")
    assert doc.value["thing"] == {"x": 1, "y": 3}


def test_merge_of_a_scalar_is_an_error() -> None:
    with pytest.raises(YamlSyntaxError, match="'<<' merges only mappings"):
        parse_documents("a: &a 1\nb:\n  <<: *a\n")


def test_duplicate_keys() -> None:
    with pytest.raises(YamlSyntaxError) as exc:
        parse_documents("a: 1\nb: 2\na: 3\n")
    assert (exc.value.message, exc.value.line, exc.value.column) == ("duplicate key 'a' (first at line 1)", 3, 1)


def test_complex_keys_are_refused() -> None:
    with pytest.raises(YamlSyntaxError, match="a mapping key must be a plain value"):
        parse_documents("? [a, b]\n: 1\n")


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !!python/object/apply:os.system ['true']\n", "tag:yaml.org,2002:python/object/apply:os.system"),
        ("a: !!python/name:os.system x\n", "tag:yaml.org,2002:python/name:os.system"),
        ("a: !custom {b: 1}\n", "!custom"),
        ("a: !!binary aGVsbG8=\n", "tag:yaml.org,2002:binary"),
    ],
)
def test_other_tags_are_refused(text: str, tag: str) -> None:
    with pytest.raises(YamlSyntaxError) as exc:
        parse_documents(text)
    assert exc.value.message == f"unsupported YAML tag {tag!r}"
    assert exc.value.line == 1


def test_standard_tags_are_fine() -> None:
    assert parse_documents("a: !!str 5\nb: !!map {c: !!seq [1]}\n")[0].value == {"a": "5", "b": {"c": [1]}}


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        # int() refuses more than 4300 digits; no field takes more than 64 bits.
        ("a: " + "9" * 5000 + "\n", "the number '999999999999'... (5000 characters) is too large for any field", 4),
        ("a: [1, -" + "9" * 30 + "]\n", "the number '-99999999999'... (31 characters) is too large for any field", 8),
        ("a: 0x" + "f" * 40 + "\n", "the number '0xffffffffff'... (42 characters) is too large for any field", 4),
        ("a: 9223372036854775808\n", "the number '9223372036854775808' is too large for any field", 4),
        ("a: 0x_\n", "cannot read '0x_' as a number (quote it to make it text)", 4),
        ("{\"a\": " + "1" * 5000 + "}\n", "the number '111111111111'... (5000 characters) is too large for any field", 7),
    ],
)
def test_numbers_no_field_can_hold_are_located_errors(text: str, message: str, column: int) -> None:
    with pytest.raises(YamlSyntaxError) as exc:
        parse_documents(text)
    assert (exc.value.message, exc.value.line, exc.value.column) == (message, 1, column)


def test_the_largest_numbers_that_fit() -> None:
    assert parse_documents("a: [9223372036854775807, -9223372036854775807, 1_000, 1e400]\n")[0].value == {
        "a": [9223372036854775807, -9223372036854775807, 1000, "1e400"]}


def test_unknown_alias() -> None:
    with pytest.raises(YamlSyntaxError) as exc:
        parse_documents("a: *nope\n")
    assert (exc.value.message, exc.value.line, exc.value.column) == ("unknown alias *nope", 1, 4)


def test_malformed_yaml_has_a_position() -> None:
    with pytest.raises(YamlSyntaxError) as exc:
        parse_documents("a: [1, 2\nb: }\n")
    assert exc.value.message == "invalid YAML: did not find expected ',' or ']'"
    assert (exc.value.line, exc.value.column) == (2, 2)


def test_nesting_deeper_than_the_limit() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5)) + "  " * (MAX_DEPTH + 5) + "v: 1\n"
    with pytest.raises(YamlSyntaxError) as exc:
        parse_documents(text)
    assert exc.value.message == f"nesting deeper than {MAX_DEPTH} levels"
    assert exc.value.line == MAX_DEPTH + 1


def test_very_deep_flow_nesting_is_bounded() -> None:
    with pytest.raises(YamlSyntaxError) as exc:
        parse_documents("[" * 100_000 + "]" * 100_000)
    assert "nesting" in exc.value.message


def _bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_stops_early_in_bounded_memory() -> None:
    parse_documents("a: 1\n")  # the parser's imports are not the bomb's
    with pytest.raises(YamlSyntaxError) as exc, peak_memory() as peak:
        parse_documents(_bomb(10))  # 10^10 values if expanded
    assert exc.value.message == "aliases expand to more than 2,000,000 values (an alias bomb?); refusing to load"
    assert exc.value.line == 7
    assert peak[0] < 2**20  # bytes: aliases are counted and shared, never copied


def test_a_few_aliases_are_fine() -> None:
    (doc,) = parse_documents(_bomb(3))
    assert len(doc.value["a2"]) == 10 and doc.value["a2"][0][0] == ["x"] * 10


def test_dump_is_block_style_and_stable() -> None:
    data = {"b": 1, "a": {"list": ["x", "y"], "s": "0 2 * * *", "u": "é"}}
    text = dump_yaml(data)
    assert text == "b: 1\na:\n  list:\n  - x\n  - y\n  s: 0 2 * * *\n  u: é\n"
    assert dump_yaml(data) == text
    assert parse_documents(text)[0].value == data


def test_dump_stream() -> None:
    assert dump_yaml_stream([{"a": 1}, {"b": 2}]) == "---\na: 1\n---\nb: 2\n"

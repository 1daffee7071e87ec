from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from jmo_schedule.generators.yaml_emit import Commented, Literal, dump, scalar
from yaml_readers import RESERVED_WORDS, read_back


def test_plain_quoted_and_reserved() -> None:
    assert scalar("ubuntu-latest") == "ubuntu-latest"
    assert scalar("on") == "'on'" and scalar("Yes") == "'Yes'" and scalar("null") == "'null'"
    assert scalar("0123") == "'0123'" and scalar("1e5") == "'1e5'"
    assert scalar("a: b") == "'a: b'" and scalar("it's") == "'it''s'"
    assert scalar("a\nb") == '"a\\nb"'
    assert scalar("x\u2028y") == '"x\\u2028y"'
    assert scalar(True) == "true" and scalar(3) == "3" and scalar(None) == "null"


def test_document_shape() -> None:
    doc = {
        "on": {"workflow_dispatch": {}},
        "jobs": {"a": {"steps": [
            {"uses": Commented("x/y@" + "0" * 40, "v1.2.3"), "with": {"k": False}},
            {"run": Literal("echo 1\necho 2\n")},
        ], "entrypoint": [""], "empty": []}},
    }
    assert dump(doc) == (
        "on:\n  workflow_dispatch: {}\n\n"
        "jobs:\n  a:\n    steps:\n"
        "      - uses: x/y@0000000000000000000000000000000000000000  # v1.2.3\n"
        "        with:\n          k: false\n"
        "      - run: |\n          echo 1\n          echo 2\n"
        "    entrypoint: [\"\"]\n    empty: []\n"
    )


@pytest.mark.parametrize("word", RESERVED_WORDS)
def test_reserved_words_are_quoted(word: str) -> None:
    assert scalar(word) == f"'{word}'"
    assert read_back(dump({"root": {word: [word]}})) == [{"root": {word: [word]}}] * 3


TEXT = st.text(max_size=30)
WORDS = st.one_of(TEXT, st.sampled_from(RESERVED_WORDS))


@given(st.dictionaries(WORDS, st.one_of(WORDS, st.lists(WORDS, max_size=3), st.integers(), st.booleans()), max_size=5))
@example({"on": "", "Off": ["yes"], "~": None})  # found by hypothesis: a nested `on` read back as True
@example({word: [word] for word in RESERVED_WORDS})
def test_any_text_round_trips(data: dict[str, Any]) -> None:
    assert read_back(dump({"root": data})) == [{"root": data}] * 3


def test_comments_cannot_add_a_line() -> None:
    text = dump({"uses": Commented("a/b@v1", "v1\u2028c: 1\x85d: 2\ne: 3")})
    assert text == "uses: a/b@v1  # v1\\u2028c: 1\\x85d: 2\\ne: 3\n"
    assert read_back(text) == [{"uses": "a/b@v1"}] * 3

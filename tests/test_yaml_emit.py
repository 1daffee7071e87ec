from __future__ import annotations

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from jmo_schedule.workflow_generators.yaml_emit import Commented, Literal, dump, scalar


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


TEXT = st.text(max_size=30)


@given(st.dictionaries(TEXT, st.one_of(TEXT, st.lists(TEXT, max_size=3), st.integers(), st.booleans()), max_size=5))
@example({"on": "", "Off": ["yes"], "~": None})  # found by hypothesis: a nested `on` read back as True
def test_any_text_round_trips(data: dict) -> None:
    # PyYAML is a YAML 1.1 reader, the strictest of the CI systems' parsers about bools.
    assert yaml.safe_load(dump({"root": data})) == {"root": data}

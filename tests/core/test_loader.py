"""loader.py: files -> text -> documents -> validated schedules; hostile files fail cleanly."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import EXAMPLE, peak_memory
from jmo_schedule.errors import JmoError, ValidationError
from jmo_schedule.core.loader import MAX_FILE_BYTES, check_file, check_text, load_file, load_text

ONE = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: {name}
spec:
  schedule: "0 2 * * 1"
"""


def write(tmp_path: Path, text: str | bytes, name: str = "schedules.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_single_object(tmp_path: Path) -> None:
    (s,) = load_file(write(tmp_path, ONE.format(name="weekly-scan")))
    assert s.name == "weekly-scan"
    assert s.spec.schedule == "0 2 * * 1"
    assert s.spec.timezone == "UTC" and s.spec.concurrencyPolicy == "Forbid" and s.spec.backend.type == "local-cron"


def test_document_stream_keeps_order_and_positions(tmp_path: Path) -> None:
    text = "---\n" + ONE.format(name="b") + "---\n" + ONE.format(name="a") + "---\n"
    result = check_file(write(tmp_path, text))
    assert [s.name for s in result.schedules] == ["b", "a"]
    assert [(i.line, i.doc_index) for i in result.items] == [(2, 0), (9, 1)]


def test_schedule_list(tmp_path: Path) -> None:
    text = (
        "apiVersion: jmo.security/v1alpha1\nkind: ScanScheduleList\nitems:\n"
        "  - metadata: {name: a}\n    spec: {schedule: '@daily'}\n"
        "  - apiVersion: jmo.security/v1alpha1\n    kind: ScanSchedule\n    metadata: {name: b}\n"
        "    spec: {schedule: '0 1 * * *'}\n"
    )
    result = check_file(write(tmp_path, text))
    assert [s.name for s in result.schedules] == ["a", "b"]
    assert [i.path for i in result.items] == [("items", 0), ("items", 1)]


def test_json_is_yaml_too(tmp_path: Path) -> None:
    data = {"apiVersion": "jmo.security/v1alpha1", "kind": "ScanSchedule",
            "metadata": {"name": "j"}, "spec": {"schedule": "0 2 * * *", "timezone": "Europe/London"}}
    (s,) = load_file(write(tmp_path, json.dumps(data, indent=2), "s.json"))
    assert s.spec.timezone == "Europe/London"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, b"\xef\xbb\xbf" + ONE.format(name="a").encode()))[0].name == "a"


def test_load_text_raises_with_every_problem() -> None:
    text = ONE.format(name="A") + "  timezone: Nowhere\n"
    with pytest.raises(ValidationError) as exc:
        load_text(text, "f.yaml")
    assert str(exc.value).splitlines() == [
        "f.yaml:4:9: metadata.name: 'A' is not a DNS-1123 label: use lowercase letters, digits and '-', starting and "
        "ending with a letter or digit",
        "f.yaml:7:13: spec.timezone: unknown time zone 'Nowhere' (use an IANA name such as Europe/London)",
    ]


def test_load_text_keeps_warnings_out_of_the_error() -> None:
    text = ONE.format(name="a").replace("0 2 * * 1", "* * * * *") + "  backend: {type: github-actions}\n"
    (s,) = load_text(text, "f.yaml")  # a warning only
    assert s.name == "a"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "schedules.yaml: file is empty; expected a ScanSchedule object"),
        ("\n\n# only comments\n", "schedules.yaml: file is empty; expected a ScanSchedule object"),
        ("---\n---\n", "schedules.yaml: file is empty; expected a ScanSchedule object"),
        ("a: [1, 2\nb: }\n", "schedules.yaml:2:2: invalid YAML: did not find expected ',' or ']'"),
        ("key: 'unterminated\n", "schedules.yaml:2:1: invalid YAML: found unexpected end of stream"),
        ("\tapiVersion: x\n", "schedules.yaml:1:1: invalid YAML: found character that cannot start any token"),
        ("- 1\n- 2\n", "schedules.yaml:1:1: expected a ScanSchedule or ScanScheduleList mapping, got a list"),
        ("just text\n", "schedules.yaml:1:1: expected a ScanSchedule or ScanScheduleList mapping, got a string"),
    ],
)
def test_malformed_and_empty_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, content)
    result = check_file("schedules.yaml")
    assert [str(p) for p in result.problems] == [message]
    assert result.schedules == []
    with pytest.raises(ValidationError):
        load_file(write(tmp_path, content))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)) * 8, "schedules.yaml: not a text file (it contains NUL bytes)"),
        (b"apiVersion: \xff\xfe\n", "schedules.yaml:1: not UTF-8 text (invalid byte 0xff)"),
        (b"a: 1\nb: \xc3\x28\n", "schedules.yaml:2: not UTF-8 text (invalid byte 0xc3)"),
    ],
)
def test_binary_junk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, content)
    with pytest.raises(JmoError) as exc:
        check_file("schedules.yaml")
    assert str(exc.value) == message


def test_non_utf8_message_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"a: 1\nb: \xc3\x28\n")
    with pytest.raises(JmoError, match=r"^.*schedules\.yaml:2: not UTF-8 text \(invalid byte 0xc3\)$"):
        check_file(path)


def test_a_50_mb_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with open(path, "wb") as fh:
        fh.write(b"x: '")
        chunk = b"a" * (1024 * 1024)
        for _ in range(50):
            fh.write(chunk)
        fh.write(b"'\n")
    with pytest.raises(JmoError) as exc, peak_memory() as peak:
        check_file(path)
    assert str(exc.value) == f"{path}: file is larger than {MAX_FILE_BYTES // 2**20} MiB; a schedules file is far smaller"
    assert peak[0] < MAX_FILE_BYTES + 2**20  # bytes: at most the limit was read, never the 50 MiB


def test_deep_nesting_and_alias_bomb_are_problems_not_crashes(tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    (problem,) = check_file(write(tmp_path, deep)).problems
    assert problem.line == 1 and "nesting" in problem.message
    bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join(['*a' + (str(i - 1) if i > 1 else '')] * 10)}]\n" for i in range(1, 10)
    )
    small, path = write(tmp_path, ONE.format(name="a"), "small.yaml"), write(tmp_path, bomb)
    with peak_memory() as baseline:
        check_file(small)
    with peak_memory() as peak:
        (problem,) = check_file(path).problems
    assert problem.message == "aliases expand to more than 2,000,000 values (an alias bomb?); refusing to load"
    assert peak[0] < baseline[0] + 2**20  # bytes: the aliases were counted, never expanded


def test_access_errors(tmp_path: Path) -> None:
    with pytest.raises(JmoError, match=r"nope\.yaml: no such file$"):
        check_file(tmp_path / "nope.yaml")
    with pytest.raises(JmoError, match=r": is a directory, expected a YAML file$"):
        check_file(tmp_path)


def test_unreadable_file_is_permission_denied(tmp_path: Path) -> None:
    """Root reads any file whatever its mode, so as root the check runs in a child process
    that became the user nobody, on a file in a folder nobody may enter."""
    folder = Path(tempfile.mkdtemp(prefix="jmo-loader-"))  # pytest's temporary folders are private
    try:
        folder.chmod(0o755)
        path = write(folder, ONE.format(name="a"))
        path.chmod(0)
        read, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report the error through the pipe, never return to pytest
            message = "no error"
            try:
                if os.geteuid() == 0:
                    os.setgid(65534)
                    os.setuid(65534)
                check_file(path)
            except JmoError as exc:
                message = str(exc)
            finally:
                os.write(write_end, message.encode())
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read) as fh:
            message = fh.read()
        assert os.waitpid(pid, 0)[1] == 0
        assert message == f"{path}: permission denied"
    finally:
        shutil.rmtree(folder)


def test_uncommitted_text_allows_literal_webhooks_and_status() -> None:
    text = ONE.format(name="a") + (
        "  jobTemplate:\n    notifications:\n      channels:\n"
        "        - {type: slack, url: 'https://hooks.slack.com/services/T/B/X'}\n"
        "status:\n  nextScheduleTime: '2026-01-01T00:00:00Z'\n  active: 0\n"
    )
    (s,) = load_text(text, "<store>", committed=False)
    assert s.status.nextScheduleTime == "2026-01-01T00:00:00Z"
    with pytest.raises(ValidationError, match="must not hold a webhook URL"):
        load_text(text, "schedules.yaml")


@pytest.mark.parametrize("status", ["broken", "[1, 2]", "{foo: 1}", "{conditions: [{bogus: 1}]}", "{conditions: 5}",
                                    "{active: x, nextScheduleTime: 5}", "null"])
def test_a_committed_files_status_is_ignored_whatever_it_holds(status: str) -> None:
    result = check_text(ONE.format(name="a") + f"status: {status}\n", "schedules.yaml")
    assert [str(p) for p in result.problems] == [
        "schedules.yaml:7:9: warning: status: status is written by jmo-schedule and ignored in a committed file"]
    (schedule,) = result.schedules
    assert schedule.status.to_dict() == {"conditions": [], "nextScheduleTime": None, "lastScheduleTime": None,
                                         "lastSuccessfulTime": None, "active": 0, "succeeded": 0, "failed": 0}


def test_check_text_never_raises_on_odd_values() -> None:
    for text in ("null\n", "42\n", "{}\n", "[]\n", "kind: ScanScheduleList\n", "metadata: 5\nspec: []\n", "? a\n"):
        result = check_text(text, "x.yaml")
        assert result.errors, text


# --------------------------------------------------------------------------------------
# Adversarial input: whatever the text, check_text reports problems and never raises.

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXAMPLE_TEXT = EXAMPLE.read_text()


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=400))
def test_random_text_never_raises(text: str) -> None:
    result = check_text(text, "f.yaml")
    assert all(p.file == "f.yaml" for p in result.problems)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_mutated_example_never_raises(data: st.DataObject) -> None:
    text = EXAMPLE_TEXT
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 12))
        insert = data.draw(st.sampled_from(["", ":", "-", " ", "\n", "'", '"', "{", "[", "&a", "*a", "!!str ", "~",
                                            "25", "@", "\t", "#", "---\n", "name: x\n", "\x00", "é", "0x1F"]))
        text = text[:pos] + insert + text[pos + cut:]
    result = check_text(text, "f.yaml")
    for problem in result.problems:
        assert "\n" not in str(problem)
        assert problem.line is None or 1 <= problem.line <= text.count("\n") + 2

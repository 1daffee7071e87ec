"""local/committed.py and local/resolve.py: a committed schedules file, YAML or JSON, is
read and edited as the user wrote it (never chmod-ed, never given status), and every
command finds its schedules through the one resolver."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from jmo_schedule.cli import main
from jmo_schedule.core.model import JobTemplateSpec, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.errors import JmoError, NotFoundError
from jmo_schedule.local.manager import ScheduleManager
from jmo_schedule.local.resolve import Found, find, schedules

ONE = {
    "apiVersion": "jmo.security/v1alpha1",
    "kind": "ScanSchedule",
    "metadata": {"name": "nightly", "labels": {"team": "sec"}},
    "spec": {"schedule": "17 2 * * *", "timezone": "Europe/Berlin",
             "jobTemplate": {"profile": "fast", "targets": {"repo": "."}}},
}


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def json_file(tmp_path: Path) -> Path:
    path = tmp_path / "schedules.json"
    path.write_text(json.dumps(ONE, indent=4) + "\n")
    os.chmod(path, 0o664)
    return path


def test_describe_of_a_committed_json_file_reads_it_and_leaves_it_alone(
        json_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = json_file.read_bytes()
    assert main(["describe", "nightly", "-f", str(json_file), "--now", "2026-03-07T12:00:00Z"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines()[:3] == ["Name:                 nightly", "Labels:               team=sec",
                                    "Annotations:          <none>"]
    assert "Status:" not in out
    assert out.splitlines()[-3:] == ["  2026-03-08 02:17 CET  (2026-03-08T01:17:00Z)",
                                     "  2026-03-09 02:17 CET  (2026-03-09T01:17:00Z)",
                                     "  2026-03-10 02:17 CET  (2026-03-10T01:17:00Z)"]
    assert json_file.read_bytes() == before and mode(json_file) == 0o664


def test_suspend_edits_a_committed_json_file_like_the_yaml_one(
        json_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suspend", "nightly", "-f", str(json_file)]) == 0
    assert capsys.readouterr().out == "scanschedule/nightly suspended\n"
    expected = json.loads(json.dumps(ONE))
    expected["spec"] = {"schedule": "17 2 * * *", "timezone": "Europe/Berlin", "suspend": True,
                        "jobTemplate": {"profile": "fast", "targets": {"repo": "."}}}
    # Only the one key, where the model orders it; the file's indentation; no status.
    assert json_file.read_text() == json.dumps(expected, indent=4) + "\n"
    assert mode(json_file) == 0o664
    assert main(["resume", "nightly", "-f", str(json_file)]) == 0
    assert json.loads(json_file.read_text())["spec"]["suspend"] is False


def test_a_second_schedule_turns_a_json_file_into_a_list(json_file: Path) -> None:
    manager = ScheduleManager.file(json_file)
    manager.create(ScanSchedule(ScheduleMetadata("weekly"), ScheduleSpec("0 3 * * 1", jobTemplate=JobTemplateSpec(
        targets={"repo": "."}))))
    data = json.loads(json_file.read_text())
    assert data["kind"] == "ScanScheduleList"
    assert data["items"][0] == ONE
    assert data["items"][1] == {"apiVersion": "jmo.security/v1alpha1", "kind": "ScanSchedule",
                                "metadata": {"name": "weekly"},
                                "spec": {"schedule": "0 3 * * 1", "jobTemplate": {"targets": {"repo": "."}}}}
    assert [s.name for s in ScheduleManager.file(json_file).items()] == ["nightly", "weekly"]
    assert mode(json_file) == 0o664


def test_a_committed_yaml_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text("apiVersion: jmo.security/v1alpha1\nkind: ScanSchedule\nmetadata:\n  name: a\n"
                    "spec:\n  schedule: '0 1 * * *'\n")
    os.chmod(path, 0o640)
    assert main(["suspend", "a", "-f", str(path)]) == 0
    assert mode(path) == 0o640
    assert "status" not in path.read_text()


def test_a_new_committed_file_is_readable_by_everyone(tmp_path: Path) -> None:
    path = tmp_path / "new.json"
    ScheduleManager.file(path).create(ScanSchedule(ScheduleMetadata("a"), ScheduleSpec("0 1 * * *")))
    assert mode(path) == 0o644
    assert json.loads(path.read_text())["metadata"] == {"name": "a"}


def test_the_store_is_chosen_by_the_caller_never_by_the_extension(tmp_path: Path, jmo_home: Path) -> None:
    assert ScheduleManager.store().path == str(jmo_home / "schedules.json")
    assert not ScheduleManager.store().committed
    assert ScheduleManager.file(tmp_path / "x.json").committed
    assert not ScheduleManager(store=tmp_path / "x.yaml").committed
    with pytest.raises(TypeError):
        ScheduleManager(tmp_path / "a.yaml", store=tmp_path / "b.json")


# --- the resolver ----------------------------------------------------------------------


def _store(name: str) -> ScanSchedule:
    return ScheduleManager.store().create(ScanSchedule(ScheduleMetadata(name), ScheduleSpec("0 4 * * *")))


def test_find_takes_the_file_then_the_repository_file_then_the_store(
        tmp_path: Path, jmo_home: Path, monkeypatch: pytest.MonkeyPatch, json_file: Path) -> None:
    monkeypatch.chdir(tmp_path)
    _store("stored")
    _store("nightly")
    (tmp_path / "schedules.yaml").write_text(json.dumps(ONE))
    assert find("nightly", str(json_file)).file == str(json_file)
    assert find("nightly", repository=True).file == "schedules.yaml"
    assert find("nightly").file is None  # without `repository`, the store
    assert find("stored", repository=True) == Found(schedules().require("stored"), None)
    with pytest.raises(NotFoundError) as exc:
        find("nope", repository=True)
    assert str(exc.value) == "schedule 'nope' not found in ./schedules.yaml or the local store"
    with pytest.raises(NotFoundError) as exc:
        find("nope", str(json_file))
    assert str(exc.value) == f"schedule 'nope' not found in {json_file}"
    with pytest.raises(JmoError) as exc:
        find("nightly", str(tmp_path / "missing.yaml"))
    assert str(exc.value) == f"{tmp_path / 'missing.yaml'}: no such file"
    (tmp_path / "schedules.yaml").unlink()
    with pytest.raises(NotFoundError) as exc:
        find("nope", repository=True)
    assert str(exc.value) == "schedule 'nope' not found in the local store"
    with pytest.raises(NotFoundError) as exc:
        find("nope")
    assert str(exc.value) == f"schedule 'nope' not found in {jmo_home / 'schedules.json'}"


# --- anchors, aliases and merge keys: an edit of one schedule never changes another ---------

HEAD = """\
apiVersion: jmo.security/v1alpha1
kind: ScanScheduleList
items:
  # Both schedules run the same scan.
  - apiVersion: jmo.security/v1alpha1
    kind: ScanSchedule
    metadata:
      name: nightly
      labels: &team
        team: sec
    spec: &scan
      schedule: "0 2 * * *"
      timezone: Europe/Berlin
      jobTemplate: &job
        profile: fast   # quick
        targets: {repo: .}
"""


def values(path: Path) -> dict[str, dict]:
    """Each schedule of the file as the loader reads it (aliases and merge keys resolved)."""
    return {s.name: s.to_dict(include_status=False) for s in ScheduleManager.file(path).items()}


def without_version(data: dict[str, dict]) -> dict[str, dict]:
    for item in data.values():
        item["metadata"].pop("resourceVersion", None)
    return data


@pytest.fixture
def aliased(tmp_path: Path) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text(HEAD + """\
  - apiVersion: jmo.security/v1alpha1
    kind: ScanSchedule
    metadata:
      name: nightly-copy
      labels: *team
    spec: *scan
""")
    return path


def test_suspending_the_alias_leaves_the_anchor_alone(aliased: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = without_version(values(aliased))
    assert main(["suspend", "nightly-copy", "-f", str(aliased)]) == 0
    assert capsys.readouterr().out == "scanschedule/nightly-copy suspended\n"
    # nightly, and its anchors, are byte for byte as they were; the copy has its own spec now.
    assert aliased.read_text() == HEAD + """\
  - apiVersion: jmo.security/v1alpha1
    kind: ScanSchedule
    metadata:
      name: nightly-copy
      labels: *team
    spec:
      schedule: "0 2 * * *"
      timezone: Europe/Berlin
      suspend: true
      jobTemplate:
        profile: fast   # quick
        targets: {repo: .}
"""
    after = without_version(values(aliased))
    assert after["nightly"] == before["nightly"]
    before["nightly-copy"]["spec"]["suspend"] = True
    assert after["nightly-copy"] == before["nightly-copy"]


def test_suspending_the_anchor_leaves_the_alias_with_the_old_value(aliased: Path) -> None:
    before = without_version(values(aliased))
    assert main(["suspend", "nightly", "-f", str(aliased)]) == 0
    after = without_version(values(aliased))
    assert after["nightly-copy"] == before["nightly-copy"]
    assert after["nightly"]["spec"]["suspend"] is True
    before["nightly"]["spec"]["suspend"] = True
    assert after["nightly"] == before["nightly"]
    text = aliased.read_text()
    assert text.count("&scan") == 1 and "*scan" not in text  # the alias's node keeps the anchor's name


def test_changing_shared_labels_of_one_schedule_through_the_api(aliased: Path) -> None:
    manager = ScheduleManager(aliased)
    before = without_version(values(aliased))
    copy = manager.require("nightly-copy")
    copy.metadata.labels = {"team": "red"}
    manager.update(copy)
    after = without_version(values(aliased))
    assert after["nightly"] == before["nightly"]
    assert after["nightly-copy"]["metadata"]["labels"] == {"team": "red"}


WEEKLY = """\
  - apiVersion: jmo.security/v1alpha1
    kind: ScanSchedule
    metadata:
      name: weekly
    spec:
      <<: *scan
      schedule: "0 3 * * 1"
"""
MERGED = HEAD + WEEKLY


def test_a_merge_key_stays_and_the_edited_schedule_overrides_only_what_changed(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(MERGED)
    before = without_version(values(path))
    manager = ScheduleManager(path)
    weekly = manager.require("weekly")
    weekly.spec.jobTemplate.profile = "deep"  # a value the merge key brings, inside a shared node
    weekly.spec.suspend = True
    manager.update(weekly)
    assert path.read_text() == MERGED + """\
      jobTemplate:
        profile: deep   # quick
        targets: {repo: .}
      suspend: true
"""
    after = without_version(values(path))
    assert after["nightly"] == before["nightly"]
    assert after["weekly"]["spec"]["jobTemplate"]["profile"] == "deep"
    assert after["weekly"]["spec"]["timezone"] == "Europe/Berlin"


def test_removing_a_key_a_merge_key_brings_spells_the_schedule_out(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(MERGED.replace('      timezone: Europe/Berlin\n', '      timezone: Europe/Berlin\n'
                                   '      startingDeadlineSeconds: 600\n', 1))
    before = without_version(values(path))
    manager = ScheduleManager(path)
    weekly = manager.require("weekly")
    weekly.spec.startingDeadlineSeconds = None
    manager.update(weekly)
    # `<<: *scan` would bring the deadline back: weekly is written out in full, without it.
    assert path.read_text().endswith("""\
      name: weekly
    spec:
      schedule: "0 3 * * 1"
      timezone: Europe/Berlin
      jobTemplate:
        profile: fast   # quick
        targets: {repo: .}
""")
    after = without_version(values(path))
    assert after["nightly"] == before["nightly"]
    assert "startingDeadlineSeconds" not in after["weekly"]["spec"]


def test_an_edit_that_changes_nothing_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "schedules.json"
    text = json.dumps(ONE, separators=(",", ":")) + "\n"  # compact: a rewrite would show
    path.write_text(text)
    os.chmod(path, 0o664)
    manager = ScheduleManager(path)
    manager.patch_status("nightly", lambda s: setattr(s.status, "succeeded", 3))
    assert manager.apply(ScanSchedule.from_dict(ONE)) == "unchanged"
    assert path.read_text() == text and mode(path) == 0o664


@pytest.mark.parametrize("name", ["schedules.json", "schedules.yaml"])
def test_a_run_from_a_committed_file_leaves_it_as_it_was(tmp_path: Path, jmo_home: Path, name: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import STUB_SCANNER_DIR

    monkeypatch.setenv("JMO_STUB_LOG", str(tmp_path / "stub.log"))
    path = tmp_path / name
    data = json.loads(json.dumps(ONE))
    data["spec"]["jobTemplate"]["results"] = {"dir": str(tmp_path / "results")}
    path.write_text(json.dumps(data, indent=3) + "\n")
    os.chmod(path, 0o664)
    before = path.read_bytes()
    assert main(["run", "nightly", "-f", str(path), "--now", "2026-11-25T01:17:00Z",
                 "--scanner", str(STUB_SCANNER_DIR / "jmo")]) == 0
    assert path.read_bytes() == before and mode(path) == 0o664

"""manager.py: ScheduleManager over the private JSON store and over a committed YAML file."""
from __future__ import annotations

import json
import multiprocessing
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from jmo_schedule.errors import AlreadyExistsError, ConflictError, JmoError, NotFoundError, ValidationError
from jmo_schedule.local.manager import ScheduleManager, rfc3339
from jmo_schedule.core.model import BackendConfig, JobTemplateSpec, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.core.files import JmoWarning, locked

UTC = timezone.utc
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make(name: str = "weekly-scan", schedule: str = "0 2 * * 1", **labels: str) -> ScanSchedule:
    return ScanSchedule(
        metadata=ScheduleMetadata(name=name, labels=dict(labels)),
        spec=ScheduleSpec(schedule=schedule, jobTemplate=JobTemplateSpec(targets={"repo": "."})),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def manager(clock: Clock) -> ScheduleManager:
    return ScheduleManager(clock=clock)


# --------------------------------------------------------------------------------------
# create / get / list / update / delete


def test_default_path_is_in_jmo_home(jmo_home: Path) -> None:
    assert ScheduleManager().path == str(jmo_home / "schedules.json")


def test_default_path_without_jmo_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JMO_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert ScheduleManager().path == str(tmp_path / ".jmo" / "schedules.json")


def test_create_sets_the_system_fields(manager: ScheduleManager) -> None:
    s = make()
    returned = manager.create(s)
    assert returned is s
    meta = s.metadata
    assert len(meta.uid) == 36 and meta.uid.count("-") == 4
    assert (meta.creationTimestamp, meta.generation, meta.resourceVersion) == ("2026-11-25T12:00:00Z", 1, "1")
    assert s.status.nextScheduleTime == "2026-11-30T02:00:00Z"  # next Monday 02:00 UTC
    (cond,) = s.status.conditions
    assert (cond.type, cond.status, cond.reason, cond.message, cond.lastTransitionTime) == (
        "Ready", "True", "Created", "Schedule created successfully", "2026-11-25T12:00:00Z")
    assert manager.get("weekly-scan") == s


def test_next_schedule_time_uses_the_zone(manager: ScheduleManager) -> None:
    s = make(schedule="30 2 * * *")
    s.spec.timezone = "America/New_York"
    manager.create(s)
    assert s.status.nextScheduleTime == "2026-11-26T07:30:00Z"


def test_create_refuses_a_duplicate_name(manager: ScheduleManager) -> None:
    manager.create(make())
    with pytest.raises(AlreadyExistsError) as exc:
        manager.create(make())
    assert str(exc.value) == f"schedule 'weekly-scan' already exists in {manager.path}; use update or apply"


def test_create_validates(manager: ScheduleManager) -> None:
    with pytest.raises(ValidationError) as exc:
        manager.create(make(name="Bad Name", schedule="0 25 * * *"))
    assert str(exc.value).splitlines() == [
        "<schedule Bad Name>: metadata.name: 'Bad Name' is not a DNS-1123 label: use lowercase letters, digits and "
        "'-', starting and ending with a letter or digit",
        "<schedule Bad Name>: spec.schedule: hour 25 is outside 0-23",
    ]
    assert manager.list() == []
    with pytest.raises(TypeError, match="expected a ScanSchedule, got dict"):
        manager.create({"metadata": {}})  # type: ignore[arg-type]


def test_get_returns_none_when_missing(manager: ScheduleManager) -> None:
    assert manager.get("nope") is None
    with pytest.raises(NotFoundError, match=r"^schedule 'nope' not found in .*schedules\.json$"):
        manager.require("nope")


def test_list_by_labels_dict_and_selector(manager: ScheduleManager) -> None:
    manager.create(make("a", env="prod", tier="web", team="x"))
    manager.create(make("b", env="prod", tier="api", team="y"))
    manager.create(make("c", env="dev", legacy="true"))
    manager.create(make("d"))
    names = lambda items: [s.name for s in items]  # noqa: E731
    assert names(manager.list()) == ["a", "b", "c", "d"]
    assert names(manager.list(labels={"env": "prod"})) == ["a", "b"]
    assert names(manager.list(labels={"env": "prod", "tier": "api"})) == ["b"]
    assert names(manager.list(labels="env=prod,tier!=web")) == ["b"]
    assert names(manager.list(labels="team in (x,y)")) == ["a", "b"]
    assert names(manager.list(labels="!legacy")) == ["a", "b", "d"]
    assert names(manager.list(labels="env=prod,tier!=web,team in (a,b),!legacy")) == []
    assert names(manager.list(selector="env notin (prod)")) == ["c", "d"]
    assert names(manager.list(labels={"env": "prod"}, selector="tier=web")) == ["a"]
    with pytest.raises(JmoError, match="invalid label selector"):
        manager.list(labels="env=a=b")
    with pytest.raises(JmoError, match="invalid label selector"):
        ScheduleManager(store=os.path.join(os.path.dirname(manager.path), "empty.json")).list("a in b")


def test_update_generation_rules(manager: ScheduleManager, clock: Clock) -> None:
    s = manager.create(make(env="prod"))
    clock.now = NOW + timedelta(hours=1)
    s.metadata.labels["tier"] = "web"
    s.metadata.annotations["owner"] = "me"
    manager.update(s)
    assert s.metadata.generation == 1  # metadata only
    assert s.metadata.resourceVersion == "2"
    assert manager.get("weekly-scan").metadata.labels == {"env": "prod", "tier": "web"}
    s.spec.schedule = "0 3 * * *"
    s.spec.jobTemplate.profile = "deep"
    manager.update(s)
    assert s.metadata.generation == 2
    assert s.status.nextScheduleTime == "2026-11-26T03:00:00Z"
    assert s.status.conditions[0].reason == "Updated"
    assert s.status.conditions[0].lastTransitionTime == "2026-11-25T12:00:00Z"  # still True since create
    stored = manager.get("weekly-scan")
    assert (stored.spec.schedule, stored.spec.jobTemplate.profile, stored.metadata.generation) == ("0 3 * * *", "deep", 2)
    assert stored.metadata.uid == s.metadata.uid and stored.metadata.creationTimestamp == "2026-11-25T12:00:00Z"
    manager.update(s)  # no change at all
    assert s.metadata.generation == 2


def test_suspend_and_resume(manager: ScheduleManager) -> None:
    s = manager.create(make())
    s.spec.suspend = True
    manager.update(s)
    assert s.status.nextScheduleTime is None
    assert (s.status.conditions[0].reason, s.metadata.generation) == ("Suspended", 2)
    s.spec.suspend = False
    manager.update(s)
    assert s.status.nextScheduleTime == "2026-11-30T02:00:00Z"
    assert (s.status.conditions[0].reason, s.metadata.generation) == ("Resumed", 3)


def test_update_of_a_stale_copy_is_a_conflict_and_loses_nothing(manager: ScheduleManager) -> None:
    manager.create(make())
    mine, theirs = manager.get("weekly-scan"), manager.get("weekly-scan")
    theirs.spec.jobTemplate.profile = "deep"
    manager.update(theirs)
    mine.spec.schedule = "0 5 * * *"
    with pytest.raises(ConflictError) as exc:
        manager.update(mine)
    assert str(exc.value) == (
        "schedule 'weekly-scan' was changed since this copy was read (resourceVersion 1, now 2); "
        "get it again and reapply your change"
    )
    stored = manager.get("weekly-scan")
    assert (stored.spec.schedule, stored.spec.jobTemplate.profile) == ("0 2 * * 1", "deep")


def test_update_of_a_missing_schedule_and_immutable_fields(manager: ScheduleManager) -> None:
    with pytest.raises(NotFoundError, match="not found in .*; use create$"):
        manager.update(make())
    s = manager.create(make())
    s.metadata.uid = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(ValidationError, match=r"metadata\.uid: is immutable$"):
        manager.update(s)


def test_delete(manager: ScheduleManager) -> None:
    manager.create(make("a"))
    manager.create(make("b"))
    assert manager.delete("a") is True
    assert manager.delete("a") is False
    assert [s.name for s in manager.list()] == ["b"]


def test_apply(manager: ScheduleManager) -> None:
    assert manager.apply(make()) == "created"
    assert manager.apply(make()) == "unchanged"
    changed = make(schedule="0 4 * * *")
    assert manager.apply(changed) == "configured"
    assert changed.metadata.generation == 2
    assert manager.apply(make(schedule="0 4 * * *", env="x")) == "configured"
    assert manager.get("weekly-scan").metadata.generation == 2


def test_store_holds_literal_webhooks_but_0600(manager: ScheduleManager) -> None:
    s = make()
    s.spec.jobTemplate.notifications = {"enabled": True, "channels": [
        {"type": "slack", "url": "https://hooks.slack.com/services/T00/B00/XXX"}]}
    manager.create(s)
    assert manager.get("weekly-scan").spec.jobTemplate.notifications["channels"][0]["url"].endswith("/XXX")
    assert stat.S_IMODE(os.stat(manager.path).st_mode) == 0o600


# --------------------------------------------------------------------------------------
# Files on disk


def test_permissions_are_owner_only(manager: ScheduleManager, jmo_home: Path) -> None:
    manager.create(make())
    assert stat.S_IMODE(os.stat(jmo_home).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(manager.path).st_mode) == 0o600


def test_looser_permissions_are_fixed_with_a_warning(manager: ScheduleManager, jmo_home: Path) -> None:
    manager.create(make())
    os.chmod(manager.path, 0o644)
    os.chmod(jmo_home, 0o755)
    with pytest.warns(JmoWarning) as record:
        manager.create(make("other"))
    messages = sorted(str(w.message) for w in record)
    assert messages == [f"{jmo_home} had permissions 0755; changed to 0700",
                        f"{manager.path} had permissions 0644; changed to 0600"]
    assert stat.S_IMODE(os.stat(manager.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(jmo_home).st_mode) == 0o700
    os.chmod(manager.path, 0o640)
    with pytest.warns(JmoWarning, match="had permissions 0640; changed to 0600"):
        assert manager.get("other") is not None  # reads fix it too


def test_store_format(manager: ScheduleManager) -> None:
    manager.create(make())
    data = json.loads(Path(manager.path).read_text())
    assert (data["apiVersion"], data["kind"], data["revision"]) == ("jmo.security/v1alpha1", "ScanScheduleList", 1)
    assert data["items"][0]["metadata"]["name"] == "weekly-scan"
    assert data["items"][0]["status"]["nextScheduleTime"] == "2026-11-30T02:00:00Z"


def test_corrupt_store_is_a_one_line_error(manager: ScheduleManager) -> None:
    os.makedirs(os.path.dirname(manager.path), exist_ok=True)
    Path(manager.path).write_text('{"items": [\n  {"oops"\n')
    os.chmod(manager.path, 0o600)
    with pytest.raises(JmoError) as exc:
        manager.list()
    assert str(exc.value) == (
        f"{manager.path}:3:1: the store is not valid JSON (Expecting ':' delimiter); fix it or move it aside"
    )
    Path(manager.path).write_text('{"items": 5}')
    with pytest.raises(JmoError, match="not a jmo-schedule store"):
        manager.list()
    Path(manager.path).write_text('{"items": [{"metadata": 5}]}')
    with pytest.raises(JmoError) as exc:
        manager.list()
    assert str(exc.value) == f"{manager.path}: items[0].metadata: expected a mapping, got a number; fix or remove it"


def _create_many(path: str, worker: int, count: int) -> None:
    manager = ScheduleManager(store=path)
    for i in range(count):
        manager.create(make(f"w{worker}-s{i}", schedule="*/5 * * * *"))


@pytest.fixture
def fast_dir(tmp_path: Path) -> Iterator[Path]:
    """A private folder in RAM when there is one: this test is about the lock, and 400
    fsyncs on a busy disk would make it slow, not better."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else str(tmp_path)
    path = Path(tempfile.mkdtemp(prefix="jmo-test-", dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_8_processes_creating_50_each_leave_exactly_400(fast_dir: Path) -> None:
    manager = ScheduleManager(store=str(fast_dir / "schedules.json"))
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_create_many, args=(manager.path, w, 50)) for w in range(8)]
    for p in procs:
        p.start()
    # One bound for all eight (a lock that never frees fails in two minutes, not sixteen).
    deadline = time.monotonic() + 120
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join(10)
    assert [p.exitcode for p in procs] == [0] * 8
    names = {s.name for s in manager.list()}
    assert len(names) == 400
    assert names == {f"w{w}-s{i}" for w in range(8) for i in range(50)}
    data = json.loads(Path(manager.path).read_text())
    assert data["revision"] == 400 and len(data["items"]) == 400


KILLER = textwrap.dedent("""\
    import os, sys, time
    from jmo_schedule.core import files as store
    from jmo_schedule.local.manager import ScheduleManager
    from jmo_schedule.core.model import ScanSchedule, ScheduleMetadata, ScheduleSpec

    real_fsync = os.fsync
    def stall(fd):
        # The new content is written to the temp file but not yet renamed into place.
        sys.stdout.write("writing\\n"); sys.stdout.flush()
        time.sleep(60)
    os.fsync = stall
    ScheduleManager(store=sys.argv[1]).create(
        ScanSchedule(metadata=ScheduleMetadata(name="doomed"), spec=ScheduleSpec(schedule="0 2 * * *")))
""")


def test_a_process_killed_mid_write_leaves_the_previous_file(manager: ScheduleManager, tmp_path: Path) -> None:
    manager.create(make("kept"))
    before = Path(manager.path).read_bytes()
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    child = subprocess.Popen([sys.executable, str(script), manager.path], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    if not select.select([child.stdout], [], [], 30)[0]:  # a child stuck before writing fails, never hangs
        child.kill()
        raise AssertionError("the child never started writing")
    assert child.stdout.readline() == "writing\n"
    temps = [p for p in os.listdir(os.path.dirname(manager.path)) if p.endswith(".tmp")]
    assert len(temps) == 1 and os.path.getsize(os.path.join(os.path.dirname(manager.path), temps[0])) > len(before)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert Path(manager.path).read_bytes() == before
    assert [s.name for s in manager.list()] == ["kept"]
    # The dead process's lock died with it: free at the first try, without waiting.
    with locked(manager.path, timeout=0):
        pass
    manager.create(make("next"))
    assert [s.name for s in manager.list()] == ["kept", "next"]


def test_a_failed_write_removes_its_temp_file(manager: ScheduleManager, monkeypatch: pytest.MonkeyPatch) -> None:
    manager.create(make("kept"))
    before = Path(manager.path).read_bytes()

    def boom(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(JmoError) as exc:
        manager.create(make("lost"))
    assert str(exc.value) == f"{manager.path}: cannot write: No space left on device"
    monkeypatch.undo()
    assert Path(manager.path).read_bytes() == before
    assert not [p for p in os.listdir(os.path.dirname(manager.path)) if p.endswith(".tmp")]


# --------------------------------------------------------------------------------------
# A committed YAML file


COMMITTED = """\
# Security scans for this repository. Keep this comment.
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: weekly-scan   # the main one
  labels:
    team: security
spec:
  schedule: "0 2 * * 1"   # Monday 02:00
  timezone: UTC
  jobTemplate:
    targets:
      repo: .
---
# The nightly one.
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: nightly
spec:
  schedule: '0 3 * * *'
  backend:
    type: github-actions
"""


@pytest.fixture
def committed(tmp_path: Path) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text(COMMITTED)
    return path


def test_committed_file_update_keeps_comments_and_order_and_no_status(committed: Path, clock: Clock) -> None:
    manager = ScheduleManager(str(committed), clock=clock)
    s = manager.get("weekly-scan")
    s.spec.suspend = True
    s.spec.jobTemplate.profile = "deep"
    manager.update(s)
    assert s.status.nextScheduleTime is None and s.metadata.generation == 2
    text = committed.read_text()
    # New keys land where the model orders them; everything else is untouched.
    assert text == COMMITTED.replace(
        "  timezone: UTC\n  jobTemplate:\n", "  timezone: UTC\n  suspend: true\n  jobTemplate:\n    profile: deep\n"
    )
    assert "status" not in text and "uid" not in text and "generation" not in text


def test_committed_file_create_and_delete(committed: Path, clock: Clock) -> None:
    manager = ScheduleManager(str(committed), clock=clock)
    new = ScanSchedule(metadata=ScheduleMetadata(name="new-one", labels={"a": "b"}),
                       spec=ScheduleSpec(schedule="@daily", timezone="Europe/London",
                                         backend=BackendConfig(type="kubernetes")))
    manager.create(new)
    assert new.status.nextScheduleTime == "2026-11-26T00:00:00Z"
    assert committed.read_text() == COMMITTED + textwrap.dedent("""\
        ---
        apiVersion: jmo.security/v1alpha1
        kind: ScanSchedule
        metadata:
          name: new-one
          labels:
            a: b
        spec:
          schedule: '@daily'
          timezone: Europe/London
          backend:
            type: kubernetes
        """)
    assert manager.delete("nightly") is True
    assert "name: nightly" not in committed.read_text() and "Keep this comment." in committed.read_text()
    assert [s.name for s in manager.list()] == ["new-one", "weekly-scan"]


def test_committed_file_create_refuses_literal_webhooks(committed: Path) -> None:
    manager = ScheduleManager(str(committed))
    s = make("hooked")
    s.spec.jobTemplate.notifications = {"channels": [{"type": "slack", "url": "https://hooks.slack.com/x"}]}
    with pytest.raises(ValidationError, match="must not hold a webhook URL"):
        manager.create(s)
    assert committed.read_text() == COMMITTED


def test_committed_file_conflict(committed: Path) -> None:
    manager = ScheduleManager(str(committed))
    mine, theirs = manager.get("nightly"), manager.get("nightly")
    theirs.spec.timezone = "Asia/Kolkata"
    manager.update(theirs)
    mine.spec.suspend = True
    with pytest.raises(ConflictError):
        manager.update(mine)


def test_committed_file_in_a_list(tmp_path: Path) -> None:
    path = tmp_path / "s.yml"
    path.write_text("apiVersion: jmo.security/v1alpha1\nkind: ScanScheduleList\nitems:\n"
                    "  # first\n  - metadata: {name: a}\n    spec: {schedule: '0 1 * * *'}\n")
    manager = ScheduleManager(str(path))
    manager.create(make("b"))
    assert [s.name for s in manager.list()] == ["a", "b"]
    text = path.read_text()
    assert text.startswith("apiVersion: jmo.security/v1alpha1\nkind: ScanScheduleList\nitems:\n  # first\n")
    assert "---" not in text


def test_committed_file_that_is_invalid_is_reported(committed: Path) -> None:
    committed.write_text(COMMITTED.replace('"0 2 * * 1"', '"0 25 * * 1"'))
    with pytest.raises(ValidationError, match=r"schedules\.yaml:9:16: spec\.schedule: hour 25 is outside 0-23"):
        ScheduleManager(str(committed)).list()


def test_missing_committed_file_is_empty_and_created_on_write(tmp_path: Path) -> None:
    manager = ScheduleManager(str(tmp_path / "new.yaml"))
    assert manager.list() == []
    manager.create(make())
    assert (tmp_path / "new.yaml").read_text().startswith("apiVersion: jmo.security/v1alpha1\n")
    assert stat.S_IMODE(os.stat(tmp_path / "new.yaml").st_mode) == 0o644  # a normal repository file
    assert not list(tmp_path.glob("*.lock"))  # no lock file in the user's tree


def test_rfc3339() -> None:
    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5, 999, tzinfo=timezone(timedelta(hours=2)))) == "2026-01-02T01:04:05Z"


def test_a_named_store_never_chmods_an_existing_folder(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    manager = ScheduleManager(store=str(tmp_path / "my-store.json"))
    manager.create(make())
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(manager.path).st_mode) == 0o600
    fresh = ScheduleManager(store=str(tmp_path / "new" / "store.json"))
    fresh.create(make())
    assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o700

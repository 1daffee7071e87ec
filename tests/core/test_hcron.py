"""hcron.py: Jenkins' H in cron fields, resolved once when a file is loaded.

Values are checked against the documented formula (sha256 of identity NUL name NUL field
NUL item, first 8 bytes, modulo the range) written out here, against golden values, in
fresh processes with different hash seeds, for range and spacing over generated inputs,
and for a roughly uniform spread over many names.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import ROOT
from jmo_schedule.core import cron, hcron
from jmo_schedule.core.loader import check_text, load_file
from jmo_schedule.core.model import ScanSchedule, ScheduleMetadata, ScheduleSpec, schedule_problems
from jmo_schedule.generators import generate_all
from jmo_schedule.pipeline.guard import decide

UTC = timezone.utc
REPO = "github.com/acme/app"


def formula(identity: str, name: str, field: int, item: int, size: int) -> int:
    """The documented draw, spelled out independently of hcron.draw."""
    digest = hashlib.sha256(identity.encode() + b"\0" + name.encode() + b"\0" + str(field).encode() + b"\0"
                            + str(item).encode()).digest()
    return int.from_bytes(digest[:8], "big") % size


def test_the_draw_is_the_documented_sha256_formula() -> None:
    assert formula(REPO, "nightly", 0, 0, 60) == 2
    assert formula(REPO, "nightly", 1, 0, 24) == 16
    assert hcron.resolve("H H * * *", REPO, "nightly") == "2 16 * * *"
    for name in ("a", "nightly", "weekly-scan", "x" * 63):
        for field, size in enumerate((60, 24, 28, 12, 7)):
            assert hcron.draw(REPO, name, field, 0, size) == formula(REPO, name, field, 0, size)


GOLDEN = [
    ("H H * * *", REPO, "nightly", "2 16 * * *"),
    ("H H(0-7) * * *", REPO, "nightly", "2 0 * * *"),
    ("H H(0-7) * * *", "github.com/acme/app-fork", "nightly", "44 1 * * *"),
    ("H/15 * * * *", REPO, "poll", "10-55/15 * * * *"),
    ("H(0-29)/10 H(8-15)/2 * * 1-5", "gitlab.example.com/group/app", "weekday", "8-28/10 9-15/2 * * 1-5"),
    ("H H H H H", REPO, "yearly", "2 22 4 9 3"),
    ("30 2 * * H(FRI-SUN)", REPO, "weekend", "30 2 * * 0"),
]


@pytest.mark.parametrize(("template", "identity", "name", "concrete"), GOLDEN)
def test_golden_values(template: str, identity: str, name: str, concrete: str) -> None:
    assert hcron.resolve(template, identity, name) == concrete


PROBE = """\
import sys
from jmo_schedule.core import hcron
for line in sys.stdin.read().splitlines():
    template, identity, name = line.split("|")
    print(hcron.resolve(template, identity, name))
"""


@pytest.mark.parametrize("seed", ["0", "1", "4242", "random"])
def test_the_same_in_every_process_whatever_python_hash_seed(seed: str) -> None:
    # Python's str hash is salted per process (PYTHONHASHSEED); a value built on it would move.
    lines = "\n".join(f"{t}|{i}|{n}" for t, i, n, _ in GOLDEN)
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run([sys.executable, "-c", PROBE], input=lines, capture_output=True, text=True, env=env,
                         check=True).stdout
    assert out.splitlines() == [concrete for *_, concrete in GOLDEN]


# --------------------------------------------------------------------------------------
# Properties over generated inputs

NAMES = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)
IDENTITIES = st.sampled_from([REPO, "gitlab.example.com/group/sub/app", "schedules.yaml", "ci/schedules.yaml"])
LIMITS = ((0, 59), (0, 23), (1, 28), (1, 12), (0, 6))


@st.composite
def hashed_field(draw: st.DrawFn, field: int) -> tuple[str, int, int, int | None]:
    """(text, low, high, step) of one H item of `field`."""
    low, high = LIMITS[field]
    if draw(st.booleans()):
        a = draw(st.integers(low, high))
        b = draw(st.integers(a, high))
        low, high, text = a, b, f"H({a}-{b})"
    else:
        text = "H"
    step = None
    if high - low >= 1 and draw(st.booleans()):
        step = draw(st.integers(2, high - low + 1))
        text += f"/{step}"
    return text, low, high, step


@given(IDENTITIES, NAMES, st.tuples(*(hashed_field(i) for i in range(5))))
def test_values_stay_in_range_and_steps_keep_their_spacing(identity: str, name: str, fields: tuple) -> None:
    template = " ".join(text for text, *_ in fields)
    assert hcron.check(template) is None
    concrete = hcron.resolve(template, identity, name)
    spec = cron.parse(concrete)  # a plain cron that every backend reads
    values = [sorted(spec.minutes), sorted(spec.hours), sorted(spec.days), sorted(spec.months),
              sorted(spec.weekdays)]
    for index, ((text, low, high, step), got) in enumerate(zip(fields, values)):
        expected = sorted(range(low, high + 1))
        if index == 4:
            expected = sorted({v % 7 for v in expected})
            got_range = [v if v or low == 0 else 7 for v in got]
        else:
            got_range = got
        assert set(got) <= set(expected), (text, got)
        if step is None:
            assert len(got) == 1, (text, got)
        else:
            first = min(got_range)
            assert first - low < step
            assert sorted(got_range) == list(range(first, high + 1, step)), (text, got)
        assert got_range and all(low <= v <= high for v in got_range)
    assert hcron.resolve(template, identity, name) == concrete  # stable


@pytest.mark.parametrize(("field", "size", "template"), [(0, 60, "H * * * *"), (1, 24, "0 H * * *"),
                                                         (2, 28, "0 0 H * *"), (4, 7, "0 0 * * H")])
def test_spread_over_many_names_is_roughly_uniform(field: int, size: int, template: str) -> None:
    names = [f"scan-{i}" for i in range(size * 200)]
    counts = [0] * size
    low = LIMITS[field][0]
    for name in names:
        value = int(hcron.resolve(template, REPO, name).split()[field])
        counts[value - low] += 1
    expected = len(names) / size
    chi_square = sum((c - expected) ** 2 / expected for c in counts)
    # The 99.9th percentile of chi-square with size-1 degrees of freedom is below 2.2*(size-1) + 12
    # for these sizes (6: 20.5, 23: 49.7, 27: 55.5, 59: 98.3).
    assert chi_square < 2.2 * (size - 1) + 12, counts
    assert min(counts) > 0.7 * expected and max(counts) < 1.3 * expected, counts


def test_items_of_one_field_draw_apart() -> None:
    # Two H items of a list are two draws (item index 0 and 1), each in its own range.
    concrete = hcron.resolve("H(0-29),H(30-59) 2 * * *", REPO, "twice")
    assert concrete == f"{formula(REPO, 'twice', 0, 0, 30)},{30 + formula(REPO, 'twice', 0, 1, 30)} 2 * * *"


def test_sunday_is_written_0_and_lists_are_plain() -> None:
    assert hcron._format(4, [7], None) == "0"
    assert hcron._format(4, [1, 3, 5, 7], 2) == "0,1,3,5"
    assert hcron._format(0, [7, 22, 37, 52], 15) == "7-52/15"
    assert hcron._format(0, [7, 37], 30) == "7,37"


def test_explain_names_each_h_and_its_values() -> None:
    assert hcron.explain("H(0-29)/10 H(8-15)/2 * * 1-5", "gitlab.example.com/group/app", "weekday") == (
        "minute H(0-29)/10 -> 8,18,28 (0-29), hour H(8-15)/2 -> 9,11,13,15 (8-15)")


@pytest.mark.parametrize(("cron_text", "spread"), [
    ("0 2 * * *", "H 2 * * *"), ("*/15 * * * *", "H/15 * * * *"), ("0,30 9 * * 1", "H/30 9 * * 1"),
    ("30 2 * * *", "H 2 * * *"), ("0,7 * * * *", None), ("0-30/15 * * * *", None),
])
def test_suggest_minute(cron_text: str, spread: str | None) -> None:
    assert hcron.suggest_minute(cron_text) == spread


def test_has_hash_sees_items_not_letters() -> None:
    assert hcron.has_hash("H 2 * * *") and hcron.has_hash("0 2 * * 1,H") and hcron.has_hash("H(0-7) 2 * * *")
    assert not hcron.has_hash("0 2 * * THU") and not hcron.has_hash("@hourly") and not hcron.has_hash(None)


# --------------------------------------------------------------------------------------
# Errors, with the column of the bad part (file:line:col)

HEAD = "apiVersion: jmo.security/v1alpha1\nkind: ScanSchedule\nmetadata:\n  name: nightly\nspec:\n"


def problems(schedule: str) -> list[str]:
    return [str(p) for p in check_text(HEAD + f'  schedule: "{schedule}"\n', "schedules.yaml").problems]


@pytest.mark.parametrize(("schedule", "message"), [
    ("H(40-10) 2 * * *", "6:14: spec.schedule: minute: range 'H(40-10)' runs backwards; write it low-high"),
    ("H(0-75) 2 * * *", "6:18: spec.schedule: minute 75 is outside 0-59"),
    ("H H(5-24) * * *", "6:20: spec.schedule: hour 24 is outside 0-23"),
    ("H H H(1-31) * *", "6:22: spec.schedule: day-of-month: 'H(1-31)' reaches day 31; a hashed day must exist in "
                        "every month, so keep it within 1-28"),
    ("H H H(0-5) * *", "6:20: spec.schedule: day of month 0 is outside 1-31"),
    ("H/0 * * * *", "6:16: spec.schedule: minute: step 0 in 'H/0' does not spread anything; write * for every value "
                    "or H for one"),
    ("H/1 * * * *", "6:16: spec.schedule: minute: step 1 in 'H/1' does not spread anything; write * for every value "
                    "or H for one"),
    ("H/90 * * * *", "6:16: spec.schedule: minute: step 90 in 'H/90' is larger than its range 0-59"),
    ("H(0-9)/20 * * * *", "6:21: spec.schedule: minute: step 20 in 'H(0-9)/20' is larger than its range 0-9"),
    ("H/x * * * *", "6:16: spec.schedule: minute: step 'x' in 'H/x' is not a positive number"),
    ("H-5 * * * *", "6:14: spec.schedule: minute: cannot read 'H-5'; write H, H(a-b), H/n or H(a-b)/n"),
    ("H(5) * * * *", "6:16: spec.schedule: minute: cannot read the range in 'H(5)'; write H(a-b)"),
    ("0 2 * * H(SAT-MON)", "6:22: spec.schedule: day-of-week: range 'H(SAT-MON)' runs backwards; write it low-high"),
    ("H,,5 2 * * *", "6:16: spec.schedule: minute: empty list item in 'H,,5'"),
    ("H 2 30 2 *", "6:18: spec.schedule: 'H 2 30 2 *' never fires: no month in it has that day"),
    ("H 2 * * * *", "6:14: spec.schedule: 6 fields: seconds (or a year) are not supported; cron has 5 fields: "
                    "minute hour day-of-month month day-of-week"),
    ("H 25 * * *", "6:16: spec.schedule: hour 25 is outside 0-23"),
    ("H 2 ? * *", "6:18: spec.schedule: day-of-month: '?' is Quartz syntax, not cron; write * instead"),
])
def test_bad_h_items_are_errors_at_their_column(schedule: str, message: str) -> None:
    assert problems(schedule) == [f"schedules.yaml:{message}"]


def test_h_in_an_object_built_through_the_api_has_nothing_to_hash_for() -> None:
    schedule = ScanSchedule(ScheduleMetadata(name="nightly"), ScheduleSpec(schedule="0 H * * *"))
    assert [str(p) for p in schedule_problems(schedule)] == [
        "<schedule nightly>: spec.schedule: H is hashed with the repository of the schedules file it is written in; "
        "here there is none: write a concrete cron, or load the file (jmo-schedule apply -f FILE)"]


# --------------------------------------------------------------------------------------
# Resolved once, when loaded: only concrete crons leave the core

FILE = textwrap.dedent("""\
    apiVersion: jmo.security/v1alpha1
    kind: ScanSchedule
    metadata:
      name: nightly
    spec:
      schedule: "H H(0-7) * * *"   # spread over the night
      timezone: Europe/Berlin
      concurrencyPolicy: Allow
      startingDeadlineSeconds: 3600
      backend: {type: github-actions}
    ---
    apiVersion: jmo.security/v1alpha1
    kind: ScanSchedule
    metadata:
      name: cluster
    spec:
      schedule: "H/30 2 * * *"
      startingDeadlineSeconds: 3600
      backend: {type: kubernetes}
    ---
    apiVersion: jmo.security/v1alpha1
    kind: ScanSchedule
    metadata:
      name: pipeline
    spec:
      schedule: "H 3 * * H"
      backend: {type: gitlab-ci}
    ---
    apiVersion: jmo.security/v1alpha1
    kind: ScanSchedule
    metadata:
      name: here
    spec:
      schedule: "H 4 * * *"
      backend: {type: local-cron}
    """)
PINNED = {"JMO_SCHEDULE_REPOSITORY": REPO}


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JMO_SCHEDULE_REPOSITORY", REPO)


def test_loading_resolves_and_keeps_what_was_written(pinned: None) -> None:
    result = check_text(FILE, "schedules.yaml")
    assert result.problems == []
    got = {s.name: (s.spec.schedule, s.spec.hashed_from) for s in result.schedules}
    assert got == {
        "nightly": ("2 0 * * *", hcron.HashedCron("H H(0-7) * * *", "2 0 * * *", REPO)),
        "cluster": (f"{formula(REPO, 'cluster', 0, 0, 30)},{formula(REPO, 'cluster', 0, 0, 30) + 30} 2 * * *",
                    hcron.HashedCron("H/30 2 * * *", got["cluster"][0], REPO)),
        "pipeline": (f"{formula(REPO, 'pipeline', 0, 0, 60)} 3 * * {formula(REPO, 'pipeline', 4, 0, 7)}",
                     hcron.HashedCron("H 3 * * H", got["pipeline"][0], REPO)),
        "here": (f"{formula(REPO, 'here', 0, 0, 60)} 4 * * *", hcron.HashedCron("H 4 * * *", got["here"][0], REPO)),
    }


def test_generated_files_hold_only_concrete_crons(pinned: None) -> None:
    schedules = check_text(FILE, "schedules.yaml").schedules
    concrete = {s.name: s.spec.schedule for s in schedules}
    files = generate_all(schedules, "schedules.yaml")
    workflow = files[".github/workflows/jmo-nightly.yml"]
    assert ("# nightly: cron 'H H(0-7) * * *' -> '2 0 * * *' (H hashed for github.com/acme/app) in Europe/Berlin: "
            "At 00:02 (Europe/Berlin)\n") in workflow
    assert "    - cron: '2 0 * * *'\n      timezone: Europe/Berlin\n" in workflow
    kube = files["deploy/kubernetes/jmo-cluster.yaml"]
    assert f"  schedule: {concrete['cluster']}\n" in kube or f"  schedule: '{concrete['cluster']}'\n" in kube
    for path, text in files.items():
        body = [line for line in text.splitlines() if not line.lstrip().startswith(("#", ";"))]
        assert not any("H H(0-7)" in line or "H/30" in line or "H 3 * * H" in line or "H 4 * * *" in line
                       for line in body), path


def test_resync_is_byte_stable_across_processes(pinned: None, tmp_path: Path) -> None:
    (tmp_path / "schedules.yaml").write_text(FILE)
    probe = ("import json, sys\nfrom jmo_schedule.core.loader import load_file\n"
             "from jmo_schedule.generators import generate_all\n"
             "print(json.dumps(generate_all(load_file(sys.argv[1]), 'schedules.yaml')))")
    outs = {subprocess.run([sys.executable, "-c", probe, str(tmp_path / "schedules.yaml")], capture_output=True,
                           text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2", "random")}
    assert len(outs) == 1


def test_the_guard_compares_the_fired_cron_with_the_resolved_one(pinned: None, tmp_path: Path) -> None:
    (tmp_path / "schedules.yaml").write_text(FILE)
    nightly = next(s for s in load_file(tmp_path / "schedules.yaml") if s.name == "nightly")
    scheduled = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "schedule"}
    # 00:02 in Berlin (CET) is 23:02Z the day before.
    now = datetime(2026, 11, 24, 23, 3, tzinfo=UTC)
    ran = decide(nightly, now=now, env={**scheduled, "JMO_EVENT_SCHEDULE": "2 0 * * *"})
    assert ran.run and ran.reason == ("scheduled run: nominal time 2026-11-24T23:02:00Z (00:02 CET), started 1m 00s later; "
                                      "concurrencyPolicy Allow")
    stale = decide(nightly, now=now, env={**scheduled, "JMO_EVENT_SCHEDULE": "H H(0-7) * * *"})
    assert not stale.run and stale.reason.startswith("the workflow fired for cron 'H H(0-7) * * *' but schedule "
                                                     "nightly is '2 0 * * *'")


def test_an_unchanged_h_cron_is_written_back_as_written(pinned: None, tmp_path: Path) -> None:
    from jmo_schedule.local.manager import ScheduleManager

    path = tmp_path / "schedules.yaml"
    path.write_text(FILE)
    manager = ScheduleManager(str(path))
    nightly = manager.require("nightly")
    nightly.spec.suspend = True
    manager.update(nightly)
    text = path.read_text()
    assert 'schedule: "H H(0-7) * * *"   # spread over the night\n' in text and "suspend: true" in text
    # Changed through the API, the cron is written as given.
    nightly = manager.require("nightly")
    nightly.spec.schedule = "17 1 * * *"
    manager.update(nightly)
    assert 'schedule: "17 1 * * *"' in path.read_text()
    assert manager.require("nightly").spec.hashed_from is None


def test_next_and_describe_show_the_concrete_cron_and_where_it_came_from(
        pinned: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from jmo_schedule.cli import main

    path = tmp_path / "schedules.yaml"
    path.write_text(FILE)
    assert main(["next", "nightly", "-f", str(path), "-n", "2", "--now", "2026-03-28T12:00:00Z"]) == 0
    assert capsys.readouterr().out == (
        "nightly: 2 0 * * * (from 'H H(0-7) * * *', hashed for github.com/acme/app)  At 00:02 (Europe/Berlin)\n"
        "  2026-03-29 00:02 CET     2026-03-28T23:02:00Z\n"
        "  2026-03-30 00:02 CEST    2026-03-29T22:02:00Z\n")
    assert main(["describe", "nightly", "-f", str(path), "--now", "2026-03-28T12:00:00Z"]) == 0
    assert "Schedule:             2 0 * * * (from 'H H(0-7) * * *', hashed for github.com/acme/app)\n" in \
        capsys.readouterr().out


def test_validate_explain_shows_each_resolution(pinned: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from jmo_schedule.cli import main

    path = tmp_path / "schedules.yaml"
    path.write_text(FILE)
    assert main(["validate", "-f", str(path), "--explain"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"{path}:6:13: spec.schedule: 'H H(0-7) * * *' -> '2 0 * * *' (minute H -> 2 (0-59), "
                      "hour H(0-7) -> 0 (0-7); hashed for github.com/acme/app and nightly)")
    assert len(out) == 5 and out[-1] == f"{path}: 4 schedules, valid"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_laptop_sync_and_the_guard_in_ci_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from jmo_schedule.cli import main

    # The laptop: an ssh clone; sync writes the workflow there.
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    _git(laptop, "init", "-q")
    _git(laptop, "remote", "add", "origin", "git@github.com:Acme/App.git")
    (laptop / "schedules.yaml").write_text(FILE)
    monkeypatch.chdir(laptop)
    assert main(["sync", "-f", "schedules.yaml"]) == 0
    workflow = yaml.safe_load((laptop / ".github/workflows/jmo-nightly.yml").read_text())
    fired = workflow[True]["schedule"][0]["cron"]  # PyYAML reads the key `on` as True
    assert fired == "2 0 * * *"
    # The scan job in CI: a checkout without a usable remote, GitHub's variables only.
    job = tmp_path / "job"
    job.mkdir()
    (job / "schedules.yaml").write_text(FILE)
    monkeypatch.chdir(job)
    for key, value in {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "schedule", "GITHUB_SERVER_URL": "https://github.com",
                       "GITHUB_REPOSITORY": "acme/app", "JMO_EVENT_SCHEDULE": fired}.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    assert main(["guard", "nightly", "-f", "schedules.yaml", "--now", "2026-11-24T23:03:00Z"]) == 0
    assert capsys.readouterr().out == ("run: scheduled run: nominal time 2026-11-24T23:02:00Z (00:02 CET), started "
                                       "1m 00s later; concurrencyPolicy Allow\n")


def test_actionlint_accepts_a_workflow_from_an_h_schedule(pinned: None, tmp_path: Path) -> None:
    from conftest import tool

    files = generate_all(check_text(FILE, "schedules.yaml").schedules, "schedules.yaml")
    path = tmp_path / "jmo-nightly.yml"
    path.write_text(files[".github/workflows/jmo-nightly.yml"])
    env = {**os.environ, "PATH": os.path.dirname(tool("shellcheck")) + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.run([tool("actionlint"), str(path)], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_examples_in_the_docs_are_what_hcron_gives() -> None:
    import re

    page = (ROOT / "docs" / "model.md").read_text()
    examples = re.findall(r"`(\S[^`]*)` -> `([^`]+)`", page[page.index("## Spreading the load"):])
    assert len(examples) >= 4
    for template, concrete in examples[:4]:
        assert hcron.resolve(template, REPO, "nightly-scan") == concrete, template

"""sync: planning (pure), applying, and the `jmo-schedule sync` command in real git repositories.

Most tests use a small fake generator registry (monkeypatched `generate_all`) so they
pin sync's behaviour, not the generators' output; the tests at the end run the real
generators on the example schedules.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from jmo_schedule.sync import plan as sync
from jmo_schedule import generators as workflow_generators
from jmo_schedule.sync import core as sync_core
from jmo_schedule.cli import main
from jmo_schedule.core.loader import load_text
from jmo_schedule.core.model import ScanSchedule
from jmo_schedule.generators.header import MARKER, schedule_header

from conftest import EXAMPLE, tool

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")


# ------------------------------------------------------------------------------------
# A fake registry: one file per GitHub/Kubernetes schedule, one shared GitLab file.


def fake_generate_all(schedules: Sequence[ScanSchedule], source: str, github_action: object = None) -> dict[str, str]:
    out: dict[str, str] = {}
    gitlab = [s for s in schedules if s.spec.backend.type == "gitlab-ci"]
    for s in schedules:
        body = f"cron: {s.spec.schedule}\nzone: {s.spec.timezone}\ntargets: {sorted(s.spec.jobTemplate.targets.items())}\n"
        if s.spec.backend.type == "github-actions":
            out[f".github/workflows/jmo-{s.name}.yml"] = schedule_header(source, [s]) + "\n" + body
        elif s.spec.backend.type == "kubernetes":
            out[f"deploy/kubernetes/jmo-{s.name}.yaml"] = schedule_header(source, [s]) + "\n" + body
    if gitlab:
        out[".gitlab/jmo-schedules.gitlab-ci.yml"] = schedule_header(source, gitlab) + "".join(
            f"\n{s.name}:\n  cron: {s.spec.schedule}\n" for s in gitlab
        )
    return dict(sorted(out.items()))


@pytest.fixture
def fake_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_core, "generate_all", fake_generate_all)  # where sync looks it up


def doc(name: str, cron: str = "17 2 * * *", backend: str = "github-actions", repo: str = ".", tz: str = "UTC") -> str:
    return (
        "apiVersion: jmo.security/v1alpha1\nkind: ScanSchedule\n"
        f"metadata:\n  name: {name}\n"
        f"spec:\n  schedule: \"{cron}\"\n  timezone: {tz}\n  backend:\n    type: {backend}\n"
        f"  jobTemplate:\n    targets:\n      repo: \"{repo}\"\n"
    )


def docs(*parts: str) -> str:
    return "---\n".join(parts)


def schedules(*parts: str) -> list[ScanSchedule]:
    return load_text(docs(*parts), "schedules.yaml")


def generation(*parts: str, source: str = "schedules.yaml") -> sync.Generation:
    items = schedules(*parts)
    return sync.Generation("now", {s.name: s for s in items}, fake_generate_all(items, source))


def on_disk(files: dict[str, str]) -> dict[str, sync.DiskFile]:
    return {p: sync.DiskFile(t, workflow_generators.is_generated(t)) for p, t in files.items()}


# ------------------------------------------------------------------------------------
# Planning (pure)


def test_plan_creates_updates_deletes_and_keeps() -> None:
    old = generation(doc("keep"), doc("change"), doc("gone"))
    new = generation(doc("keep"), doc("change", cron="0 3 * * *"), doc("fresh"))
    plan = sync.plan_sync(new, on_disk(dict(old.files)), "schedules.yaml")
    got = {c.path: (c.action, c.reason) for c in plan.files}
    assert got == {
        ".github/workflows/jmo-change.yml": ("update", "schedule change: cron changed ('17 2 * * *' -> '0 3 * * *')"),
        ".github/workflows/jmo-fresh.yml": ("create", "schedule fresh added"),
        ".github/workflows/jmo-gone.yml": ("delete", "schedule gone removed"),
        ".github/workflows/jmo-keep.yml": ("unchanged", ""),
    }
    assert [c.path for c in plan.files] == sorted(got)
    assert not plan.in_sync
    assert [c.path for c in plan.unchanged] == [".github/workflows/jmo-keep.yml"]


def test_plan_in_sync() -> None:
    gen = generation(doc("a"), doc("b", backend="gitlab-ci"))
    plan = sync.plan_sync(gen, on_disk(dict(gen.files)), "schedules.yaml")
    assert plan.in_sync and plan.changes == [] and len(plan.files) == 2


def test_plan_timezone_and_suspend_reasons_from_headers() -> None:
    old = generation(doc("a"))
    new_items = schedules(doc("a", tz="Europe/Paris"))
    new_items[0].spec.suspend = True
    new = sync.Generation("now", {"a": new_items[0]}, fake_generate_all(new_items, "schedules.yaml"))
    (change,) = sync.plan_sync(new, on_disk(dict(old.files)), "schedules.yaml").changes
    assert change.reason == "schedule a: timezone changed (UTC -> Europe/Paris), suspended"
    assert not change.hand_edited


def test_plan_shared_file_names_added_and_removed_schedules() -> None:
    old = generation(doc("a", backend="gitlab-ci"), doc("b", backend="gitlab-ci"))
    new = generation(doc("a", backend="gitlab-ci"), doc("c", backend="gitlab-ci"))
    (change,) = sync.plan_sync(new, on_disk(dict(old.files)), "schedules.yaml").changes
    assert (change.action, change.reason) == ("update", "schedule c added; schedule b removed")


def test_plan_backend_move_is_named_on_both_files() -> None:
    old = generation(doc("a"))
    new = generation(doc("a", backend="kubernetes"))
    plan = sync.plan_sync(new, on_disk(dict(old.files)), "schedules.yaml")
    assert [(c.action, c.reason) for c in plan.changes] == [
        ("delete", "schedule a moved to deploy/kubernetes/jmo-a.yaml"),
        ("create", "schedule a moved from .github/workflows/jmo-a.yml"),
    ]


def test_plan_hand_edit_without_history() -> None:
    gen = generation(doc("a"))
    path = ".github/workflows/jmo-a.yml"
    edited = gen.files[path] + "extra: line\n"
    (change,) = sync.plan_sync(gen, on_disk({path: edited}), "schedules.yaml").changes
    assert (change.action, change.reason, change.hand_edited) == ("update", "hand-edited", True)
    assert change.old == edited and change.new == gen.files[path]


def test_plan_history_tells_a_target_change_from_a_hand_edit() -> None:
    # The header does not mention targets: only the earlier version of the file explains it.
    before = generation(doc("a", repo="old"), doc("b"))
    now = generation(doc("a", repo="new"), doc("b"))
    disk = dict(before.files)
    disk[".github/workflows/jmo-b.yml"] += "# edited\n"
    calls = []

    def history(names: set[str]) -> list[sync.Generation]:
        calls.append(names)
        return [before]

    plan = sync.plan_sync(now, on_disk(disk), "schedules.yaml", history)
    got = {c.path: (c.reason, c.hand_edited) for c in plan.changes}
    assert got == {
        ".github/workflows/jmo-a.yml": ("schedule a: jobTemplate.targets changed", False),
        ".github/workflows/jmo-b.yml": ("hand-edited", True),
    }
    assert calls == [{"a", "b"}]


def test_plan_every_file_of_one_generator_changed_is_a_new_generator_not_hand_edits() -> None:
    now = generation(doc("a"), doc("b"), doc("c", backend="gitlab-ci"), doc("d", backend="kubernetes"))
    disk = {p: t + "# older generator\n" if "workflows" in p or "gitlab" in p else t for p, t in now.files.items()}
    plan = sync.plan_sync(now, on_disk(disk), "schedules.yaml", lambda names: [])
    assert {c.path: (c.reason, c.hand_edited) for c in plan.changes} == {
        ".github/workflows/jmo-a.yml": ("output of this jmo-schedule version differs", False),
        ".github/workflows/jmo-b.yml": ("output of this jmo-schedule version differs", False),
        # One file of its kind: nothing to compare it with, so a hand edit.
        ".gitlab/jmo-schedules.gitlab-ci.yml": ("hand-edited", True),
    }


def test_plan_kind_blanks_only_the_schedule_name() -> None:
    assert sync._kind(".github/workflows/jmo-yml.yml", ["yml"]) == ".github/workflows/jmo-*.yml"
    assert sync._kind("deploy/systemd/jmo-a.timer", ["a"]) == "deploy/systemd/jmo-*.timer"
    assert sync._kind("deploy/kubernetes/jmo-scan-a.yaml", ["scan-a"]) == "deploy/kubernetes/jmo-*.yaml"
    assert sync._kind(".gitlab/jmo-schedules.gitlab-ci.yml", ["schedules-x"]) == ".gitlab/jmo-schedules.gitlab-ci.yml"


def test_spec_changes_names_each_changed_part() -> None:
    (old,) = schedules(doc("a"))
    (new,) = schedules(doc("a", cron="1 2 * * *", tz="Asia/Tokyo", repo="x"))
    new.spec.concurrencyPolicy = "Replace"
    new.spec.backend.config["image"] = "scanner:2"
    assert sync.spec_changes(old, new) == [
        "cron changed ('17 2 * * *' -> '1 2 * * *')",
        "timezone changed (UTC -> Asia/Tokyo)",
        "concurrencyPolicy changed",
        "backend.config changed",
        "jobTemplate.targets changed",
    ]
    assert sync.spec_changes(old, old) == []
    renamed = old.copy()
    renamed.metadata.labels["team"] = "x"
    assert sync.spec_changes(old, renamed) == ["metadata changed"]


def test_plan_history_is_not_read_when_headers_explain_everything() -> None:
    def history(names: set[str]) -> list[sync.Generation]:
        raise AssertionError("history read")

    old = generation(doc("a"))
    new = generation(doc("a", cron="5 4 * * *"))
    assert sync.plan_sync(new, on_disk(dict(old.files)), "schedules.yaml", history).changes[0].reason.startswith(
        "schedule a: cron changed")
    assert sync.plan_sync(old, on_disk(dict(old.files)), "schedules.yaml", history).in_sync


def test_plan_refuses_a_foreign_file_at_a_target_path() -> None:
    gen = generation(doc("a"), doc("b"))
    disk = {".github/workflows/jmo-a.yml": sync.DiskFile(None, False)}
    with pytest.raises(sync.SyncConflictError) as err:
        sync.plan_sync(gen, disk, "schedules.yaml")
    assert str(err.value) == (
        ".github/workflows/jmo-a.yml exists and was not generated by jmo-schedule; sync will not overwrite it "
        "(move it away or rename the schedule)"
    )


def test_plan_names_every_foreign_file_and_links() -> None:
    gen = generation(doc("a"), doc("b"))
    disk = {
        ".github/workflows/jmo-a.yml": sync.DiskFile(None, False),
        ".github/workflows/jmo-b.yml": sync.DiskFile(None, False, kind="symlink"),
    }
    with pytest.raises(sync.SyncConflictError) as err:
        sync.plan_sync(gen, disk, "schedules.yaml")
    assert str(err.value) == (
        "2 files exist and were not generated by jmo-schedule; sync will not overwrite them (move them away "
        "or rename the schedules): .github/workflows/jmo-a.yml, .github/workflows/jmo-b.yml (a symbolic link)"
    )


def test_plan_leaves_files_of_another_existing_schedules_file_alone() -> None:
    mine = generation(doc("a"))
    theirs = generation(doc("z"), source="team/schedules.yaml")
    disk = on_disk({**mine.files, **theirs.files})
    plan = sync.plan_sync(mine, disk, "schedules.yaml", source_exists=lambda p: p == "team/schedules.yaml")
    assert plan.in_sync and [c.path for c in plan.files] == [".github/workflows/jmo-a.yml"]


def test_plan_deletes_files_of_a_schedules_file_that_is_gone() -> None:
    mine = generation(doc("a"))
    theirs = generation(doc("z"), source="old/schedules.yaml")
    plan = sync.plan_sync(mine, on_disk({**mine.files, **theirs.files}), "schedules.yaml")
    assert [(c.path, c.action, c.reason) for c in plan.changes] == [
        (".github/workflows/jmo-z.yml", "delete", "schedules file old/schedules.yaml no longer exists")
    ]


def test_plan_refuses_a_path_generated_from_another_live_schedules_file() -> None:
    mine = generation(doc("a"))
    theirs = generation(doc("a"), source="team/schedules.yaml")
    with pytest.raises(sync.SyncConflictError) as err:
        sync.plan_sync(mine, on_disk(dict(theirs.files)), "schedules.yaml", source_exists=lambda p: True)
    assert str(err.value) == (
        ".github/workflows/jmo-a.yml is generated from team/schedules.yaml, which still exists; two schedules "
        "files cannot write the same file (rename the schedule in one of them)"
    )


def test_plan_takes_over_files_when_the_schedules_file_moved() -> None:
    old = generation(doc("a"), source="old.yaml")
    new = generation(doc("a"), source="new.yaml")
    (change,) = sync.plan_sync(new, on_disk(dict(old.files)), "new.yaml").changes
    assert (change.action, change.reason) == ("update", "schedules file moved (old.yaml -> new.yaml)")


def test_header_info_reads_source_and_names() -> None:
    text = "# " + MARKER + "\n# Source: dir/my schedules (1).yaml (schedules: a, b-c)\n# a: x\n\nbody: 1\n# not header\n"
    info = sync.header_info(text)
    assert info.source == "dir/my schedules (1).yaml"
    assert info.names == ("a", "b-c")
    assert info.lines == (MARKER, "Source: dir/my schedules (1).yaml (schedules: a, b-c)", "a: x")
    assert sync.header_info("; " + MARKER + "\n; Source: s.yaml (schedules: none)\n").names == ()
    assert sync.header_info("plain: yes\n") == sync.HeaderInfo(None, (), ())


def test_unified_diff_is_git_style_and_marks_a_missing_final_newline() -> None:
    change = sync.FileChange("x/y.yml", "update", "a\nb\n", "a\nc")
    assert sync.unified_diff(change) == (
        "--- a/x/y.yml\n+++ b/x/y.yml\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n"
    )
    assert sync.unified_diff(sync.FileChange("n.yml", "create", None, "k: 1\n")) == (
        "--- /dev/null\n+++ b/n.yml\n@@ -0,0 +1 @@\n+k: 1\n"
    )
    assert sync.unified_diff(sync.FileChange("n.yml", "delete", "k: 1\n", None)) == (
        "--- a/n.yml\n+++ /dev/null\n@@ -1 +0,0 @@\n-k: 1\n"
    )


def test_check_relative_path_refuses_escapes() -> None:
    for bad in ("/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b", ""):
        with pytest.raises(sync.JmoError) as err:
            sync.check_relative_path(bad)
        assert str(err.value) == f"refusing to write {bad!r}: generated paths must be plain relative paths"
    sync.check_relative_path(".github/workflows/jmo-a.yml")


def test_github_output_block() -> None:
    assert sync.github_output_block(True, ["a.yml", "b/c.yml"], "ghadelimiter_x") == (
        "changed=true\nfiles<<ghadelimiter_x\na.yml\nb/c.yml\nghadelimiter_x\n"
    )
    assert sync.github_output_block(False, [], "D") == "changed=false\nfiles<<D\nD\n"


def test_pr_body_lists_each_file_and_escapes_markdown() -> None:
    plan = sync.SyncPlan("schedules.yaml", [
        sync.FileChange("a.yml", "create", None, "x", "schedule a added"),
        sync.FileChange("b.yml", "update", "x", "y", "schedule b: cron changed ('17 2 * * *' -> '0 3 * * *')"),
        sync.FileChange("c.yml", "update", "x", "y", "hand-edited", True),
        sync.FileChange("d.yml", "delete", "x", None, "schedule d removed"),
        sync.FileChange("e.yml", "unchanged", "x", "x"),
    ])
    body = sync.pr_body(plan, "jmo-schedule sync -f schedules.yaml")
    assert "| `a.yml` | added | schedule a added |" in body
    assert r"| `b.yml` | updated | schedule b: cron changed ('17 2 \* \* \*' -> '0 3 \* \* \*') |" in body
    assert "| `c.yml` | updated | hand edit reverted |" in body
    assert "| `d.yml` | removed | schedule d removed |" in body
    assert "e.yml" not in body
    assert "This change updates 4 files:" in body
    assert "```sh\njmo-schedule sync -f schedules.yaml\n```" in body
    empty = sync.pr_body(sync.SyncPlan("s.yaml", []), "cmd")
    assert "nothing to change" in empty and "|" not in empty


# ------------------------------------------------------------------------------------
# The command, in real git repositories


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return proc.stdout


def commit_all(repo: Path, message: str = "commit") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "user.name", "Test")
    git(root, "config", "commit.gpgsign", "false")
    (root / "schedules.yaml").write_text(docs(doc("nightly"), doc("weekly", "0 2 * * 1", "gitlab-ci"),
                                              doc("cluster", "30 1 * * *", "kubernetes")))
    (root / "README.md").write_text("hello\n")
    commit_all(root, "schedules")
    monkeypatch.chdir(root)
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    out = {}
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts or not path.is_file():
            continue
        st = path.stat()
        out[path.relative_to(root).as_posix()] = (path.read_bytes(), st.st_mtime_ns)
    return out


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["sync", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


GH = ".github/workflows/jmo-nightly.yml"
GL = ".gitlab/jmo-schedules.gitlab-ci.yml"
K8S = "deploy/kubernetes/jmo-cluster.yaml"


@needs_git
def test_first_sync_creates_then_is_idempotent(repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys)
    assert (code, err) == (0, "")
    assert out == (
        f"created {GH} (schedule nightly added)\n"
        f"created {GL} (schedule weekly added)\n"
        f"created {K8S} (schedule cluster added)\n"
        "3 created, 0 updated, 0 deleted, 0 unchanged\n"
    )
    wanted = fake_generate_all(schedules((repo / "schedules.yaml").read_text()), "schedules.yaml")
    for path, text in wanted.items():
        assert (repo / path).read_bytes() == text.encode()
        assert stat.S_IMODE((repo / path).stat().st_mode) == 0o644
    assert git(repo, "status", "--porcelain") == "?? .github/\n?? .gitlab/\n?? deploy/\n"
    commit_all(repo, "generated")

    before = snapshot(repo)
    code, out, err = run_cli(capsys)
    assert (code, out, err) == (0, "0 created, 0 updated, 0 deleted, 3 unchanged\n", "")
    assert snapshot(repo) == before  # same bytes, same mtimes: nothing was rewritten
    assert git(repo, "status", "--porcelain") == ""
    assert run_cli(capsys, "--check") == (0, "in sync: 3 generated files match schedules.yaml\n", "")


@needs_git
def test_cron_change_updates_only_that_file(repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(capsys)
    commit_all(repo, "generated")
    text = (repo / "schedules.yaml").read_text().replace('"17 2 * * *"', '"15 6 * * *"', 1)
    (repo / "schedules.yaml").write_text(text)
    code, out, _ = run_cli(capsys)
    assert code == 0
    assert out == (
        f"updated {GH} (schedule nightly: cron changed ('17 2 * * *' -> '15 6 * * *'))\n"
        "0 created, 1 updated, 0 deleted, 2 unchanged\n"
    )
    assert git(repo, "status", "--porcelain") == f" M {GH}\n M schedules.yaml\n"
    assert "cron: 15 6 * * *" in (repo / GH).read_text()


@needs_git
def test_target_change_is_explained_from_git_history(repo: Path, fake_registry: None,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(capsys)
    commit_all(repo, "generated")
    text = (repo / "schedules.yaml").read_text().replace('repo: "."', 'repo: "src"', 1)
    (repo / "schedules.yaml").write_text(text)
    commit_all(repo, "new target")  # as on the default branch after a merge: HEAD is already the new version
    code, out, _ = run_cli(capsys, "--dry-run")
    assert code == 0
    assert out.startswith(f"would update {GH} (schedule nightly: jobTemplate.targets changed)\n--- a/{GH}\n+++ b/{GH}\n")
    assert "-targets: [('repo', '.')]\n+targets: [('repo', 'src')]\n" in out
    assert out.endswith("dry run: 0 to create, 1 to update, 0 to delete, 2 unchanged; nothing written\n")


@needs_git
def test_removed_schedule_deletes_its_file_and_empty_folders(repo: Path, fake_registry: None,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "deploy" / "other").mkdir(parents=True)
    run_cli(capsys)
    commit_all(repo, "generated")
    (repo / "schedules.yaml").write_text(docs(doc("nightly"), doc("weekly", "0 2 * * 1", "gitlab-ci")))
    code, out, _ = run_cli(capsys)
    assert code == 0
    assert out == f"deleted {K8S} (schedule cluster removed)\n0 created, 0 updated, 1 deleted, 2 unchanged\n"
    assert not (repo / "deploy" / "kubernetes").exists()
    assert (repo / "deploy" / "other").is_dir()  # not emptied by us: kept
    assert git(repo, "status", "--porcelain") == f" D {K8S}\n M schedules.yaml\n"


@needs_git
def test_hand_edit_is_drift_then_restored(repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(capsys)
    commit_all(repo, "generated")
    original = (repo / GH).read_text()
    (repo / GH).write_text(original.replace("zone: UTC", "zone: UTC\nsneaky: true"))
    commit_all(repo, "hand edit")  # committed hand edits are still hand edits

    before = snapshot(repo)
    code, out, err = run_cli(capsys, "--check")
    assert code == 1 and err == ""
    assert out == (
        f"drift: {GH}: hand-edited; sync would restore the generated text (edit schedules.yaml instead)\n"
        f"--- a/{GH}\n+++ b/{GH}\n"
        "@@ -5,5 +5,4 @@\n \n cron: 17 2 * * *\n zone: UTC\n-sneaky: true\n targets: [('repo', '.')]\n"
        "1 file out of sync with schedules.yaml; run: jmo-schedule sync -f schedules.yaml\n"
    )
    assert snapshot(repo) == before  # --check writes nothing

    code, out, _ = run_cli(capsys)
    assert (code, out) == (0, f"updated {GH} (hand edit reverted)\n0 created, 1 updated, 0 deleted, 2 unchanged\n")
    assert (repo / GH).read_text() == original
    assert git(repo, "status", "--porcelain") == f" M {GH}\n"


@needs_git
def test_update_keeps_the_file_mode(repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(capsys)
    os.chmod(repo / GH, 0o664)
    (repo / GH).write_text((repo / GH).read_text() + "# edit\n")
    assert run_cli(capsys)[0] == 0
    assert stat.S_IMODE((repo / GH).stat().st_mode) == 0o664


@needs_git
def test_foreign_file_at_a_target_path_is_an_error_and_nothing_is_written(
    repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / GH).write_text("name: mine\n")
    code, out, err = run_cli(capsys)
    assert (code, out) == (1, "")
    assert err == (
        f"jmo-schedule: error: {GH} exists and was not generated by jmo-schedule; sync will not overwrite it "
        "(move it away or rename the schedule)\n"
    )
    assert (repo / GH).read_text() == "name: mine\n"
    assert not (repo / GL).exists() and not (repo / K8S).exists()
    assert run_cli(capsys, "--check")[0] == 1


@needs_git
def test_foreign_and_unrelated_files_in_output_folders_are_never_touched(
    repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ci.yml").write_text("name: ci\n")
    (repo / "deploy").mkdir()
    (repo / "deploy" / "app.yaml").write_text("kind: Deployment\n")
    # Mentions the marker, but not on its first line: not ours.
    (repo / "deploy" / "notes.yaml").write_text(f"x: 1\n# {MARKER}\n")
    run_cli(capsys)
    (repo / "schedules.yaml").write_text(docs(doc("weekly", "0 2 * * 1", "gitlab-ci")))
    code, out, _ = run_cli(capsys)
    assert code == 0
    assert out == (f"deleted {GH} (schedule nightly removed)\ndeleted {K8S} (schedule cluster removed)\n"
                   "0 created, 0 updated, 2 deleted, 1 unchanged\n")
    assert (repo / ".github" / "workflows" / "ci.yml").read_text() == "name: ci\n"
    assert (repo / "deploy" / "app.yaml").read_text() == "kind: Deployment\n"
    assert (repo / "deploy" / "notes.yaml").exists()


@needs_git
def test_symlink_at_a_target_path_is_refused(repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".github" / "workflows").mkdir(parents=True)
    outside = repo.parent / "outside.yml"
    outside.write_text(f"# {MARKER}\n")
    (repo / GH).symlink_to(outside)
    code, _, err = run_cli(capsys)
    assert code == 1
    assert err == (
        f"jmo-schedule: error: {GH} (a symbolic link) exists and was not generated by jmo-schedule; "
        "sync will not overwrite it (move it away or rename the schedule)\n"
    )
    assert outside.read_text() == f"# {MARKER}\n"


@needs_git
def test_folder_linking_out_of_the_root_is_refused(repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = repo.parent / "elsewhere"
    elsewhere.mkdir()
    (repo / "deploy").symlink_to(elsewhere)
    code, _, err = run_cli(capsys)
    assert code == 1
    assert err == (f"jmo-schedule: error: {K8S}: a folder on the way is a link out of {repo}; "
                   "sync will not write through it\n")
    assert list(elsewhere.iterdir()) == []


@needs_git
def test_orphans_behind_a_link_out_of_the_root_are_not_deleted(repo: Path, fake_registry: None,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = repo.parent / "elsewhere"
    (elsewhere / "workflows").mkdir(parents=True)
    orphan = elsewhere / "workflows" / "jmo-old.yml"
    orphan.write_text(f"# {MARKER}\n# Source: schedules.yaml (schedule: old)\n")
    (repo / ".github").symlink_to(elsewhere)
    (repo / "schedules.yaml").write_text(doc("cluster", backend="kubernetes"))
    code, out, _ = run_cli(capsys)
    assert (code, out) == (0, f"created {K8S} (schedule cluster added)\n1 created, 0 updated, 0 deleted, 0 unchanged\n")
    assert orphan.exists()


@needs_git
def test_check_reports_every_kind_of_drift_and_writes_nothing(repo: Path, fake_registry: None,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(capsys)
    commit_all(repo, "generated")
    (repo / "schedules.yaml").write_text(docs(doc("nightly", "0 5 * * *"), doc("weekly", "0 2 * * 1", "gitlab-ci"),
                                              doc("fresh")))
    before = snapshot(repo)
    code, out, _ = run_cli(capsys, "--check")
    assert code == 1
    drift = [line for line in out.splitlines() if line.startswith("drift: ")]
    assert drift == [
        "drift: .github/workflows/jmo-fresh.yml: missing (schedule fresh added)",
        f"drift: {GH}: out of date (schedule nightly: cron changed ('17 2 * * *' -> '0 5 * * *'))",
        f"drift: {K8S}: orphaned (schedule cluster removed)",
    ]
    assert "--- /dev/null\n+++ b/.github/workflows/jmo-fresh.yml\n" in out
    assert f"--- a/{K8S}\n+++ /dev/null\n" in out
    assert "\x1b[" not in out  # no colour
    assert out.endswith("3 files out of sync with schedules.yaml; run: jmo-schedule sync -f schedules.yaml\n")
    assert snapshot(repo) == before
    assert git(repo, "status", "--porcelain") == " M schedules.yaml\n"


@needs_git
def test_check_annotates_on_github_actions(repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, _ = run_cli(capsys, "--check")
    assert code == 1
    assert f"::error file={GH},title=jmo-schedule sync::{GH}: missing (schedule nightly added)\n" in out


@needs_git
def test_dry_run_writes_nothing(repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(repo)
    code, out, _ = run_cli(capsys, "--dry-run")
    assert code == 0
    assert out.startswith(f"would create {GH} (schedule nightly added)\n--- /dev/null\n+++ b/{GH}\n")
    assert out.endswith("dry run: 3 to create, 0 to update, 0 to delete, 0 unchanged; nothing written\n")
    assert snapshot(repo) == before


def read_github_output(text: str) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT as the runner does: name=value, or name<<DELIM ... DELIM."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            values[name] = "\n".join(lines[i + 1:end])
            i = end + 1
        else:
            name, value = line.split("=", 1)
            values[name] = value
            i += 1
    return values


@needs_git
def test_github_output(repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = tmp_path / "github_output"
    target.write_text("earlier=kept\n")
    monkeypatch.setenv("GITHUB_OUTPUT", str(target))
    assert run_cli(capsys, "--check")[0] == 1
    text = target.read_text()
    assert re.fullmatch(
        r"earlier=kept\nchanged=true\nfiles<<(ghadelimiter_[0-9a-f-]{36})\n"
        + re.escape(f"{GH}\n{GL}\n{K8S}\n") + r"\1\n", text), text
    assert read_github_output(text) == {"earlier": "kept", "changed": "true", "files": f"{GH}\n{GL}\n{K8S}"}

    target.write_text("")
    assert run_cli(capsys)[0] == 0
    assert read_github_output(target.read_text())["files"] == f"{GH}\n{GL}\n{K8S}"
    target.write_text("")
    assert run_cli(capsys)[0] == 0
    assert read_github_output(target.read_text()) == {"changed": "false", "files": ""}


@needs_git
def test_pr_body_file(repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run_cli(capsys)
    commit_all(repo, "generated")
    (repo / GL).write_text((repo / GL).read_text() + "# tweak\n")
    (repo / "schedules.yaml").write_text(docs(doc("nightly", "0 5 * * *"), doc("weekly", "0 2 * * 1", "gitlab-ci")))
    body = tmp_path / "body.md"
    assert run_cli(capsys, "--pr-body", str(body))[0] == 0
    text = body.read_text()
    assert text.startswith("## Regenerate scheduled scan pipelines\n\n`schedules.yaml` and the pipeline files")
    assert f"| `{GH}` | updated | schedule nightly: cron changed ('0 5 \\* \\* \\*'" not in text  # direction matters
    assert f"| `{GH}` | updated | schedule nightly: cron changed ('17 2 \\* \\* \\*' -> '0 5 \\* \\* \\*') |" in text
    assert f"| `{GL}` | updated | hand edit reverted |" in text
    assert f"| `{K8S}` | removed | schedule cluster removed |" in text
    assert "jmo-schedule sync -f schedules.yaml" in text


@needs_git
def test_validation_errors_exit_1_with_locations(repo: Path, fake_registry: None,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "schedules.yaml").write_text(doc("nightly", cron="61 2 * * *"))
    code, out, err = run_cli(capsys)
    assert (code, out) == (1, "")
    assert err == "schedules.yaml:6:14: spec.schedule: minute 61 is outside 0-59\n"
    assert not (repo / ".github").exists()


@needs_git
def test_missing_file(repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "-f", "nope.yaml") == (1, "", "jmo-schedule: error: nope.yaml: no such file\n")


def test_check_and_dry_run_together_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sync", "--check", "--dry-run"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sync", "--help"])
    out = capsys.readouterr().out
    for text in ("--check", "--dry-run", "--pr-body", "--root", "GITHUB_OUTPUT", "jmo-schedule sync --check"):
        assert text in out


@needs_git
def test_schedules_file_in_a_subfolder_uses_the_git_top_level(repo: Path, fake_registry: None,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "ci").mkdir()
    (repo / "schedules.yaml").rename(repo / "ci" / "schedules.yaml")
    os.chdir(repo / "ci")
    code, out, _ = run_cli(capsys, "-f", "schedules.yaml")
    assert code == 0 and f"created {GH}" in out
    assert "# Source: ci/schedules.yaml (schedule: nightly)\n" in (repo / GH).read_text()
    assert not (repo / "ci" / ".github").exists()


def test_outside_git_the_root_is_the_file_folder(tmp_path: Path, fake_registry: None,
                                               capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "s.yaml").write_text(doc("nightly"))
    code, out, _ = run_cli(capsys, "-f", str(folder / "s.yaml"))
    assert code == 0
    assert "# Source: s.yaml (schedule: nightly)\n" in (folder / GH).read_text()
    # Outside git a hand edit is told by its unchanged header.
    (folder / GH).write_text((folder / GH).read_text() + "x: 1\n")
    assert run_cli(capsys, "-f", str(folder / "s.yaml"), "--check")[1].startswith(f"drift: {GH}: hand-edited")


def test_root_option(tmp_path: Path, fake_registry: None, capsys: pytest.CaptureFixture[str],
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "s.yaml").write_text(doc("nightly"))
    assert run_cli(capsys, "-f", str(tmp_path / "conf" / "s.yaml"), "--root", str(tmp_path))[0] == 0
    assert "# Source: conf/s.yaml (schedule: nightly)\n" in (tmp_path / GH).read_text()
    assert run_cli(capsys, "-f", str(tmp_path / "conf" / "s.yaml"), "--root", str(tmp_path / "nope")) == (
        1, "", f"jmo-schedule: error: --root {tmp_path / 'nope'}: no such directory\n")
    (tmp_path / "other").mkdir()
    assert run_cli(capsys, "-f", str(tmp_path / "conf" / "s.yaml"), "--root", str(tmp_path / "other")) == (
        1, "", f"jmo-schedule: error: {tmp_path / 'conf' / 's.yaml'} is outside the root {tmp_path / 'other'}; "
        "pass --root with a folder that holds it\n")


def test_two_schedules_writing_one_path_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def clash(schedules: Sequence[ScanSchedule], source: str, github_action: object = None) -> dict[str, str]:
        raise ValueError("two schedules generate the same file x.yml")

    monkeypatch.setattr(sync_core, "generate_all", clash)
    (tmp_path / "s.yaml").write_text(doc("a"))
    assert run_cli(capsys, "-f", str(tmp_path / "s.yaml"), "--root", str(tmp_path)) == (
        1, "", "jmo-schedule: error: two schedules generate the same file x.yml\n")


# ------------------------------------------------------------------------------------
# With the real generators


@needs_git
def test_real_generators_example_schedules_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "real"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "user.name", "Test")
    shutil.copy(EXAMPLE, root / "schedules.yaml")
    monkeypatch.chdir(root)
    code, out, _ = run_cli(capsys)
    assert code == 0
    wanted = workflow_generators.generate_all(schedules((root / "schedules.yaml").read_text()), "schedules.yaml")
    assert wanted, "the real registry generates files for the example"
    for path, text in wanted.items():
        assert (root / path).read_text() == text
        assert workflow_generators.is_generated(text)
        assert f"created {path} (" in out
    commit_all(root, "all")
    before = snapshot(root)
    assert run_cli(capsys) == (0, f"0 created, 0 updated, 0 deleted, {len(wanted)} unchanged\n", "")
    assert run_cli(capsys, "--check")[0] == 0
    assert snapshot(root) == before
    assert git(root, "status", "--porcelain") == ""

    # Hand-edit one generated file, change a cron, drop a schedule: check sees all three.
    victim = "deploy/kubernetes/jmo-comprehensive-scan.yaml"
    (root / victim).write_text((root / victim).read_text() + "# local tweak\n")
    text = (root / "schedules.yaml").read_text()
    text = text.replace('schedule: "17 2 * * *"', 'schedule: "0 4 * * *"')
    text = text[:text.rindex("---\n")]  # prod-backend-scan, the last document
    (root / "schedules.yaml").write_text(text)
    code, out, _ = run_cli(capsys, "--check")
    assert code == 1
    assert [line for line in out.splitlines() if not line.startswith(("--- ", "+++ ", "@@ ", " ", "-", "+"))] == [
        "drift: .github/workflows/jmo-nightly-scan.yml: out of date (schedule nightly-scan: cron changed "
        "('17 2 * * *' -> '0 4 * * *'))",
        "drift: deploy/cron/jmo-schedules.crontab: orphaned (schedule prod-backend-scan removed)",
        f"drift: {victim}: hand-edited; sync would restore the generated text (edit schedules.yaml instead)",
        "drift: deploy/systemd/jmo-prod-backend-scan.service: orphaned (schedule prod-backend-scan removed)",
        "drift: deploy/systemd/jmo-prod-backend-scan.timer: orphaned (schedule prod-backend-scan removed)",
        "5 files out of sync with schedules.yaml; run: jmo-schedule sync -f schedules.yaml",
    ]
    assert run_cli(capsys)[0] == 0
    assert run_cli(capsys, "--check")[0] == 0
    now = workflow_generators.generate_all(schedules(text), "schedules.yaml")
    for path, body in now.items():
        assert (root / path).read_text() == body


@needs_git
def test_github_output_is_read_by_a_real_runner(tmp_path: Path) -> None:
    """act (a GitHub Actions runner) parses the step outputs sync writes to $GITHUB_OUTPUT."""
    import sys

    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(EXAMPLE, project / "schedules.yaml")
    wanted = sorted(workflow_generators.generate_all(schedules((project / "schedules.yaml").read_text()),
                                                     "schedules.yaml"))
    runner = tmp_path / "runner"
    (runner / ".github" / "workflows").mkdir(parents=True)
    (runner / ".github" / "workflows" / "t.yml").write_text(
        "on: push\n"
        "jobs:\n"
        "  s:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - id: sync\n"
        '        run: cd "$PROJECT" && "$PY" -m jmo_schedule sync --check --root . || true\n'
        "        env:\n"
        f"          PROJECT: {project}\n"
        f"          PY: {sys.executable}\n"
        "      - run: |\n"
        '          printf \'%s\' "$FILES" > "$OUT/files.txt"\n'
        '          printf \'%s\' "$CHANGED" > "$OUT/changed.txt"\n'
        "        env:\n"
        "          FILES: ${{ steps.sync.outputs.files }}\n"
        "          CHANGED: ${{ steps.sync.outputs.changed }}\n"
        f"          OUT: {tmp_path}\n"
    )
    git(runner, "init", "-q")
    proc = subprocess.run(
        [tool("act"), "push", "-W", ".github/workflows/t.yml", "-P", "ubuntu-latest=-self-hosted",
         "--no-cache-server"], cwd=runner, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "changed.txt").read_text() == "true"
    assert (tmp_path / "files.txt").read_text() == "\n".join(wanted)


@needs_git
@pytest.mark.parametrize("status", ["broken", "{conditions: 5, active: x}", "[1, 2]"])
def test_a_malformed_status_in_the_committed_file_is_ignored_with_one_warning(
        repo: Path, fake_registry: None, capsys: pytest.CaptureFixture[str], status: str) -> None:
    text = (repo / "schedules.yaml").read_text()
    (repo / "schedules.yaml").write_text(text + f"status: {status}\n")
    line = text.count("\n") + 1
    warning = f"schedules.yaml:{line}:9: warning: status: status is written by jmo-schedule and ignored in a committed file\n"
    code, out, err = run_cli(capsys, "--dry-run")
    assert (code, err) == (0, warning)
    assert out.endswith("dry run: 3 to create, 0 to update, 0 to delete, 0 unchanged; nothing written\n")
    assert main(["validate", "-f", "schedules.yaml"]) == 0
    # validate also lints this fixture's crons (minute 0 on GitLab, a CronJob without a
    # deadline); of the status there is the one warning.
    assert [line for line in capsys.readouterr().err.splitlines() if ": status" in line] == [warning.rstrip("\n")]

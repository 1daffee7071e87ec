"""install / uninstall: the real crontab binary, the managed block, systemd user units."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from fakes.crontab import crontab_for_test, install_fake, scratch_user
from jmo_schedule.local import crontab as ct
from jmo_schedule.local import history as run_history
from jmo_schedule.cli import main
from jmo_schedule.errors import JmoError
from jmo_schedule.local.manager import ScheduleManager
from jmo_schedule.core.model import BackendConfig, JobTemplateSpec, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.local.runner import run_schedule

# The user's own lines, with a `%`, an environment line, a non-UTF-8 byte and no
# trailing blank line: all must come back byte for byte.
USER_TABLE = b'# my jobs\nMAILTO=""\n*/10 * * * * echo "50% done" > /dev/null\n# caf\xe9\n'


def add(name: str, backend: str = "local-cron", **spec: object) -> ScanSchedule:
    s = ScanSchedule(
        metadata=ScheduleMetadata(name=name),
        spec=ScheduleSpec(schedule="0 2 * * 1", timezone="America/New_York", backend=BackendConfig(type=backend),
                          jobTemplate=JobTemplateSpec(targets={"repo": "."}), **spec),
    )
    return ScheduleManager(clock=lambda: datetime(2026, 11, 1, tzinfo=timezone.utc)).create(s)


def crontab_l(user: str | None) -> bytes | None:
    proc = subprocess.run([shutil.which("crontab") or "crontab", *(["-u", user] if user else []), "-l"],
                          capture_output=True, timeout=30)
    return proc.stdout if proc.returncode == 0 else None


def crontab_set(user: str | None, data: bytes | None) -> None:
    args = [shutil.which("crontab") or "crontab", *(["-u", user] if user else [])]
    if data is None:
        subprocess.run([*args, "-r"], capture_output=True, timeout=30)
    else:
        subprocess.run([*args, "-"], input=data, check=True, capture_output=True, timeout=30)


@pytest.fixture
def cron_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str | None]:
    """A crontab to install into, never the caller's own: the scratch user's real one
    (root), else the fake crontab's (None). A cron daemon runs and the machine is in
    Berlin, as far as install can tell."""
    monkeypatch.setattr(ct, "PROC_ROOT", fake_proc(tmp_path / "proc-with-cron", "init", "cron"))
    monkeypatch.setattr(ct, "machine_zone", lambda root="/": "Europe/Berlin")  # whatever this machine's zone
    with crontab_for_test(tmp_path / "crontab") as user:
        yield user


def user_args(user: str | None) -> list[str]:
    return ["--crontab-user", user] if user else []


# ------------------------------------------------------------------------------------
# The real crontab


def test_install_and_uninstall_keep_the_users_lines(cron_user: str | None, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JMO_SCANNER", "/opt/jmo/bin/jmo")
    add("weekly-scan")
    add("nightly", concurrencyPolicy="Allow")
    add("elsewhere", backend="github-actions")
    crontab_set(cron_user, USER_TABLE)

    assert main(["install", *user_args(cron_user)]) == 0
    installed = crontab_l(cron_user)
    assert installed is not None and installed.startswith(USER_TABLE)
    block = installed[len(USER_TABLE):].decode()
    exe = str(Path(sys.executable).parent / "jmo-schedule")
    log = Path(os.environ["JMO_HOME"]) / "logs"
    lines = block.splitlines()
    assert lines[0] == ct.BEGIN and lines[-1] == ct.END
    # Monday 02:00 in New York is 07:00 in Berlin while only one side keeps summer time, else 08:00.
    assert [line for line in lines if not line.startswith("#")] == [
        f"0 7,8 * * 1 cd {tmp_path} && {exe} run {name} --scanner /opt/jmo/bin/jmo >> {log}/{name}.log 2>&1"
        for name in ("nightly", "weekly-scan")
    ] + [f"17 9 * * * cd {tmp_path} && {exe} audit --backend local-cron --notify --exit-zero >> {log}/audit.log 2>&1"]
    assert lines[-3] == ("# audit: jmo-schedule audit every day at 09:17 (machine time): missed runs reach the "
                         "schedules' Slack channels")
    assert "elsewhere" not in block
    who = f"the crontab of {cron_user}" if cron_user else "your crontab"
    assert capsys.readouterr().out == (
        f"installed 2 schedules (nightly, weekly-scan) in {who} (cron zone Europe/Berlin)\n")
    assert run_history.read("weekly-scan")["installedAt"]

    # Idempotent: a second install changes nothing.
    assert main(["install", *user_args(cron_user)]) == 0
    assert crontab_l(cron_user) == installed
    assert capsys.readouterr().out.startswith("already up to date: 2 schedules (nightly, weekly-scan)")

    # The user edits their own lines around the block; a named install keeps them.
    crontab_set(cron_user, b"# top\n" + installed + b"@reboot true\n")
    s = ScheduleManager().require("weekly-scan")
    s.spec.suspend = True
    ScheduleManager().update(s)
    assert main(["install", "weekly-scan", *user_args(cron_user)]) == 0
    now = crontab_l(cron_user) or b""
    assert now.startswith(b"# top\n" + USER_TABLE) and now.endswith(b"\n" + ct.END.encode() + b"\n@reboot true\n")
    assert b"\n# suspended: 0 " in now and b"run nightly" in now

    # Uninstall one, then all: the user's bytes come back exactly.
    assert main(["uninstall", "nightly", *user_args(cron_user)]) == 0
    assert b"run nightly" not in (crontab_l(cron_user) or b"")
    assert b" audit --backend local-cron " in (crontab_l(cron_user) or b"")  # the audit stays while one is installed
    assert main(["uninstall", *user_args(cron_user)]) == 0
    assert crontab_l(cron_user) == b"# top\n" + USER_TABLE + b"@reboot true\n"
    assert capsys.readouterr().out.endswith("removed 1 schedule (weekly-scan) from the crontab\n")
    assert main(["uninstall", *user_args(cron_user)]) == 0
    assert capsys.readouterr().out == "nothing to remove from the crontab\n"


def test_the_daily_audit_entry_is_opt_out(cron_user: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JMO_SCANNER", "/opt/jmo/bin/jmo")
    add("weekly-scan")
    assert main(["install", "--no-audit", *user_args(cron_user)]) == 0
    table = (crontab_l(cron_user) or b"").decode()
    assert "# schedule weekly-scan: " in table and " audit --backend" not in table
    # Every install without --no-audit puts it back; with it, takes it out.
    assert main(["install", "weekly-scan", *user_args(cron_user)]) == 0
    assert (crontab_l(cron_user) or b"").decode().splitlines()[-3].startswith("# audit: jmo-schedule audit every day")
    assert main(["install", "--no-audit", "weekly-scan", *user_args(cron_user)]) == 0
    assert " audit --backend" not in (crontab_l(cron_user) or b"").decode()
    assert main(["uninstall", *user_args(cron_user)]) == 0
    assert crontab_l(cron_user) is None
    capsys.readouterr()


def test_a_crontab_that_was_only_ours_is_removed(cron_user: str | None, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    add("weekly-scan")
    crontab_set(cron_user, None)
    assert main(["install", "weekly-scan", *user_args(cron_user)]) == 0
    assert (crontab_l(cron_user) or b"").startswith(ct.BEGIN.encode())
    assert main(["uninstall", *user_args(cron_user)]) == 0
    assert crontab_l(cron_user) is None
    assert "installedAt" not in run_history.read("weekly-scan")


def test_dry_run_changes_nothing(cron_user: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    monkeypatch.chdir(tmp_path)
    add("weekly-scan")
    crontab_set(cron_user, USER_TABLE)
    assert main(["install", "--dry-run", *user_args(cron_user)]) == 0
    out = capsysbinary.readouterr().out
    assert out.startswith(USER_TABLE + ct.BEGIN.encode() + b"\n")  # the user's bytes, exactly
    assert crontab_l(cron_user) == USER_TABLE
    assert "installedAt" not in run_history.read("weekly-scan")


def test_installed_entry_runs_with_the_real_clock_only_for_later_fire_times(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A fire time before the install is not caught up: K8s ignores times before creation."""
    add("weekly-scan")
    with run_history.editing("weekly-scan") as data:
        data["installedAt"] = "2026-11-24T12:00:00Z"
    outcome = run_schedule("weekly-scan", now=datetime(2026, 11, 24, 12, 5, tzinfo=timezone.utc), scanner="false")
    assert (outcome.action, outcome.reason) == ("idle", "BeforeCreation")


# Debian cron 3.0pl1's answers to `crontab -`, written out from the real binary. Its line
# numbers count from 0.
REFUSED = "\nerrors in crontab file, can't install.\n"
DEBIAN_ANSWERS = [
    ("0 2 * * 1 /x/jmo-schedule run a >> /x/a.log 2>&1\n", 0, ""),
    (USER_TABLE.decode("utf-8", "surrogateescape"), 0, ""),
    ("0 0 * * 0-7 x\n0 0 * jan-mar mon-fri x\n*/15 * * * * x\n0 0 1-31/2 * * x\n@daily x\n", 0, ""),
    ('A=b\n B = "c d" \n# c\n\n   \n', 0, ""),
    ("60 2 * * * x\n", 1, '"-":0: bad minute' + REFUSED),
    ("0 24 * * * x\n", 1, '"-":0: bad hour' + REFUSED),
    ("0 0 0 * * x\n", 1, '"-":0: bad day-of-month' + REFUSED),
    ("0 0 L * * x\n", 1, '"-":0: bad day-of-month' + REFUSED),
    ("0 0 * 13 * x\n", 1, '"-":0: bad month' + REFUSED),
    ("0 0 * * 8 x\n", 1, '"-":0: bad day-of-week' + REFUSED),
    ("0 0 * * 7-8 x\n", 1, '"-":0: bad day-of-week' + REFUSED),
    ("0 0 * * sunday x\n", 1, '"-":0: bad day-of-week' + REFUSED),
    ("0 0 * * 1/2 x\n", 1, '"-":0: bad day-of-week' + REFUSED),
    ("*/0 * * * * x\n", 1, '"-":0: bad minute' + REFUSED),
    ("0,,1 * * * * x\n", 1, '"-":0: bad minute' + REFUSED),
    ("@foo x\n", 1, '"-":0: bad time specifier' + REFUSED),
    ("# a\n# b\n60 * * * * x\n", 1, '"-":2: bad minute' + REFUSED),
    ("0 0 * * * x\n\n0 99 * * * x\n# after\n", 1, '"-":2: bad hour' + REFUSED),
    ("0 0 * * * x", 1, "new crontab file is missing newline before EOF, can't install.\n"),
]


@pytest.mark.parametrize(("table", "code", "err"), DEBIAN_ANSWERS)
def test_the_fake_crontab_answers_like_debians(tmp_path: Path, table: str, code: int, err: str) -> None:
    """The fake refuses what Debian's crontab refuses, in its words; as root the real
    crontab, on the scratch user, is asked too (so the answers above stay true)."""
    fake = install_fake(tmp_path / "fake") / "crontab"
    data = table.encode("utf-8", "surrogateescape")
    env = {**os.environ, "JMO_FAKE_CRONTAB_DIR": str(tmp_path / "tables")}
    proc = subprocess.run([fake, "-"], input=data, capture_output=True, env=env, timeout=30)
    assert (proc.returncode, proc.stderr.decode()) == (code, err)
    assert subprocess.run([fake, "-l"], capture_output=True, env=env, timeout=30).stdout == (data if code == 0 else b"")
    if scratch_user():
        with crontab_for_test(tmp_path / "real") as user:
            assert user is not None
            real = subprocess.run([shutil.which("crontab") or "crontab", "-u", user, "-"], input=data,
                                  capture_output=True, timeout=30)
            assert (real.returncode, real.stderr.decode()) == (code, err)


# ------------------------------------------------------------------------------------
# The managed block, without the binary


def test_block_parse_and_render() -> None:
    text = f"a\n{ct.BEGIN}\n# schedule x: c\n1 2 * * * run x\n# schedule y: c\n3 4 * * * run y\n{ct.END}\nb\n"
    table = ct.Crontab.parse(text)
    assert (table.before, table.after) == ("a\n", "b\n")
    assert table.entries == {"x": ["# schedule x: c", "1 2 * * * run x"], "y": ["# schedule y: c", "3 4 * * * run y"]}
    assert table.render() == text
    del table.entries["x"]
    assert table.render() == f"a\n{ct.BEGIN}\n# schedule y: c\n3 4 * * * run y\n{ct.END}\nb\n"
    table.entries = {}
    assert table.render() == "a\nb\n"
    assert ct.Crontab.parse(None).render() is None
    appended = ct.Crontab.parse("x")
    appended.entries = {"y": ["# schedule y: c"]}
    assert appended.render() == f"x\n{ct.BEGIN}\n# schedule y: c\n{ct.END}\n"


@pytest.mark.parametrize("text,message", [
    (f"{ct.BEGIN}\n{ct.END}\n{ct.BEGIN}\n{ct.END}\n",
     "the crontab holds two jmo-schedule blocks; remove one by hand (crontab -e)"),
    (f"{ct.BEGIN}\n1 2 * * * x\n",
     f"the crontab's jmo-schedule block has no end marker {ct.END!r}; fix it by hand (crontab -e)"),
])
def test_broken_blocks(text: str, message: str) -> None:
    with pytest.raises(JmoError) as exc:
        ct.Crontab.parse(text)
    assert str(exc.value) == message


def test_machine_zone(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    assert ct.machine_zone(str(tmp_path)) == "UTC"
    (tmp_path / "etc" / "localtime").symlink_to("/usr/share/zoneinfo/Europe/Berlin")
    assert ct.machine_zone(str(tmp_path)) == "Europe/Berlin"
    (tmp_path / "etc" / "timezone").write_text("America/New_York\n")
    assert ct.machine_zone(str(tmp_path)) == "America/New_York"
    (tmp_path / "etc" / "timezone").write_text("Not/AZone\n")
    assert ct.machine_zone(str(tmp_path)) == "Europe/Berlin"


def test_install_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    add("elsewhere", backend="github-actions")
    assert main(["install", "elsewhere", "--dry-run"]) == 1
    assert capsys.readouterr().err == (
        "jmo-schedule: error: schedule 'elsewhere' uses backend github-actions; only local-cron schedules run on "
        "this machine (set spec.backend.type: local-cron)\n")
    assert main(["install", "missing"]) == 1
    assert capsys.readouterr().err.startswith("jmo-schedule: error: schedule 'missing' not found in ")
    add("weekly-scan")
    monkeypatch.setenv("PATH", str(tmp_path))  # no crontab, no jmo
    assert main(["install", "weekly-scan"]) == 1
    err = capsys.readouterr().err
    assert err.endswith(
        "jmo-schedule: error: crontab is not installed (Debian/Ubuntu: apt-get install cron); or use --systemd\n")
    assert "warning: the scanner `jmo` is not on PATH" in err
    with pytest.raises(SystemExit) as exc:
        main(["install", "--crontab", "--systemd"])
    assert exc.value.code == 2


def test_crontab_refusal_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "crontab"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = -l ]; then echo 'no crontab for me' >&2; exit 1; fi\n"
                    "cat >/dev/null; echo '\"-\":3: bad minute' >&2; echo 'errors in crontab file, can'\"'\"'t install.' >&2; exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    opts = ct.InstallOptions(executable="/x/jmo-schedule", log_dir="/x/logs")
    with pytest.raises(JmoError) as exc:
        ct.install_crontab([add("weekly-scan")], opts, replace_all=True)
    assert str(exc.value) == "crontab refused the new table: \"-\":3: bad minute / errors in crontab file, can't install."


# ------------------------------------------------------------------------------------
# systemd user units (systemctl played by a script that records its calls)


@pytest.fixture
def fake_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """systemctl --user: records its calls; `is-system-running` answers $SYSTEMD_STATE (running),
    or like a machine without a user manager when $NO_USER_MANAGER is set. The user alice
    lingers unless $tmp_path/linger/alice is removed."""
    calls = tmp_path / "systemctl.log"
    script = tmp_path / "bin" / "systemctl"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\necho \"$*\" >> {calls}\n"
                      "if [ \"$2\" = is-system-running ]; then\n"
                      "  if [ -n \"$NO_USER_MANAGER\" ]; then echo 'Failed to connect to bus: No medium found' >&2; "
                      "echo offline; exit 1; fi\n"
                      "  echo \"${SYSTEMD_STATE:-running}\"; exit 0\nfi\n"
                      "if [ -n \"$FAIL_SYSTEMCTL\" ]; then echo 'Failed to connect to bus: No medium found' >&2; exit 1; fi\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}:{os.environ['PATH']}")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("LOGNAME", "alice")
    (tmp_path / "linger").mkdir()
    (tmp_path / "linger" / "alice").touch()
    monkeypatch.setattr(ct, "LINGER_DIR", str(tmp_path / "linger"))
    return calls


def test_systemd_install_and_uninstall(tmp_path: Path, fake_systemctl: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    add("weekly-scan")
    add("paused", suspend=True)
    folder = tmp_path / "config" / "systemd" / "user"
    (folder).mkdir(parents=True)
    (folder / "jmo-mine.timer").write_text("[Timer]\nOnCalendar=daily\n")  # not ours: never touched
    assert main(["install", "--systemd"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "jmo-mine.timer", "jmo-paused.service", "jmo-paused.timer", "jmo-weekly-scan.service", "jmo-weekly-scan.timer"]
    service = (folder / "jmo-weekly-scan.service").read_text()
    assert service.startswith("# Generated by jmo-schedule. DO NOT EDIT.\n")
    assert f"ExecStart={Path(sys.executable).parent / 'jmo-schedule'} run weekly-scan" in service
    assert f"WorkingDirectory={tmp_path}\n" in service
    assert "OnCalendar=Mon *-*-* 02:00:00 America/New_York\n" in (folder / "jmo-weekly-scan.timer").read_text()
    assert fake_systemctl.read_text().splitlines() == [
        "--user is-system-running", "--user daemon-reload", "--user disable --now jmo-paused.timer",
        "--user enable --now jmo-weekly-scan.timer"]
    out, err = capsys.readouterr()
    assert out.endswith("\ninstalled 2 schedules (paused, weekly-scan) as systemd user timers\n")
    assert "loginctl" not in err  # alice lingers
    assert main(["uninstall", "--systemd", "weekly-scan"]) == 0
    assert capsys.readouterr().out == "removed jmo-weekly-scan.service\nremoved jmo-weekly-scan.timer\n"
    assert main(["uninstall", "--systemd"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["jmo-mine.timer"]


def test_systemd_install_never_replaces_a_unit_it_did_not_write(tmp_path: Path, fake_systemctl: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bin" / "jmo").write_text("#!/bin/sh\n")  # a scanner on PATH: no warning about it
    (tmp_path / "bin" / "jmo").chmod(0o755)
    add("weekly-scan")
    folder = tmp_path / "config" / "systemd" / "user"
    folder.mkdir(parents=True)
    mine = "[Timer]\nOnCalendar=hourly\n"  # the user's own unit, by the same name
    (folder / "jmo-weekly-scan.timer").write_text(mine)
    for argv in (["install", "--systemd"], ["install", "--systemd", "--dry-run"]):
        assert main(argv) == 1
        assert capsys.readouterr().err == (
            f"jmo-schedule: error: {folder}/jmo-weekly-scan.timer exists and was not written by jmo-schedule; install "
            "will not replace it (move it away, or rename the schedule)\n")
    assert sorted(p.name for p in folder.iterdir()) == ["jmo-weekly-scan.timer"]  # nothing written, not even the service
    assert (folder / "jmo-weekly-scan.timer").read_text() == mine
    assert fake_systemctl.read_text().splitlines() == ["--user is-system-running"] * 2
    # A link (even to a generated unit) and a file that is not text are not ours either.
    (tmp_path / "elsewhere.service").write_text("# Generated by jmo-schedule. DO NOT EDIT.\n")
    (folder / "jmo-weekly-scan.service").symlink_to(tmp_path / "elsewhere.service")
    (folder / "jmo-weekly-scan.timer").write_bytes(b"\xff\xfe")
    assert main(["install", "--systemd"]) == 1
    assert capsys.readouterr().err == (
        "jmo-schedule: error: 2 unit files exist and were not written by jmo-schedule; install will not replace them "
        f"(move them away, or rename the schedules): {folder}/jmo-weekly-scan.service, {folder}/jmo-weekly-scan.timer\n")
    assert (folder / "jmo-weekly-scan.service").is_symlink()
    assert main(["uninstall", "--systemd"]) == 0  # not ours: uninstall leaves them too
    assert sorted(p.name for p in folder.iterdir()) == ["jmo-weekly-scan.service", "jmo-weekly-scan.timer"]
    for unit in folder.iterdir():
        unit.unlink()
    assert main(["install", "--systemd"]) == 0
    assert main(["install", "--systemd"]) == 0  # its own units it replaces
    assert (folder / "jmo-weekly-scan.timer").read_text().startswith("# Generated by jmo-schedule. DO NOT EDIT.\n")


def test_systemd_failure_is_one_line(tmp_path: Path, fake_systemctl: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FAIL_SYSTEMCTL", "1")
    add("weekly-scan")
    assert main(["install", "--systemd"]) == 1
    assert capsys.readouterr().err.endswith(
        "jmo-schedule: error: systemctl --user daemon-reload failed: Failed to connect to bus: No medium found\n")


def test_systemd_dry_run_prints_units(tmp_path: Path, fake_systemctl: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    add("weekly-scan")
    assert main(["install", "--systemd", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"# {tmp_path}/config/systemd/user/jmo-weekly-scan.timer\n" in out
    assert fake_systemctl.read_text().splitlines() == ["--user is-system-running"]  # a question, no change
    assert not (tmp_path / "config").exists()


# ------------------------------------------------------------------------------------
# What fires the entries: a cron daemon, a user systemd manager (and lingering)


def fake_proc(root: Path, *names: str) -> str:
    """A /proc with one process per name (its `comm`), plus the entries that are not processes."""
    (root / "self").mkdir(parents=True)
    (root / "sys").mkdir()
    for pid, name in enumerate(names, start=1):
        (root / str(pid)).mkdir()
        (root / str(pid) / "comm").write_text(name + "\n")
    (root / "99").mkdir()  # a process that ended while /proc was read: no comm
    return str(root)


def test_cron_daemon_from_the_process_table(tmp_path: Path) -> None:
    assert ct.cron_daemon(fake_proc(tmp_path / "debian", "systemd", "cron", "sshd")) == "cron"
    assert ct.cron_daemon(fake_proc(tmp_path / "fedora", "systemd", "crond")) == "crond"
    assert ct.cron_daemon(fake_proc(tmp_path / "container", "bash", "python3", "cronjob")) == ""
    assert ct.cron_daemon(str(tmp_path / "no-proc")) is None  # cannot tell: no warning


@pytest.mark.parametrize("processes, systemd, warning", [
    (("init", "cron"), "running", None),
    (("init", "bash"), None,
     "warning: no cron daemon is running on this machine (no cron, crond, cronie or fcron process): the entries will "
     "not fire until one runs (Debian/Ubuntu: sudo systemctl enable --now cron)\n"),
    (("init", "bash"), "degraded",
     "warning: no cron daemon is running on this machine (no cron, crond, cronie or fcron process): the entries will "
     "not fire until one runs (Debian/Ubuntu: sudo systemctl enable --now cron); or use --systemd\n"),
])
def test_crontab_install_warns_when_no_cron_daemon_runs(cron_user: str | None, tmp_path: Path, fake_systemctl: Path,
                                                        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                        processes: tuple[str, ...], systemd: str | None,
                                                        warning: str | None) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JMO_SCANNER", "/opt/jmo/bin/jmo")
    monkeypatch.setattr(ct, "PROC_ROOT", fake_proc(tmp_path / "proc", *processes))
    if systemd is None:
        monkeypatch.setenv("NO_USER_MANAGER", "1")
    else:
        monkeypatch.setenv("SYSTEMD_STATE", systemd)
    add("weekly-scan")
    assert main(["install", "weekly-scan", *user_args(cron_user)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("installed 1 schedule (weekly-scan) in ")
    assert err == (warning or "")


def test_systemd_install_without_a_user_manager_fails_and_leaves_nothing(tmp_path: Path, fake_systemctl: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_USER_MANAGER", "1")
    add("weekly-scan")
    home = Path(os.environ["JMO_HOME"])
    before = sorted(p.relative_to(home) for p in home.rglob("*"))
    assert main(["install", "--systemd"]) == 1
    assert capsys.readouterr() == ("", (
        "jmo-schedule: error: no systemd user manager is running for alice (systemctl --user cannot reach it), so "
        "nothing would start the timers: as root run `loginctl enable-linger alice` (it starts one at boot and keeps it "
        "after logout), or log in to a session that starts one; then install again, or use --crontab\n"))
    assert not (tmp_path / "config").exists()  # no unit file, not even the folder
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == before  # no logs folder, no installedAt
    assert "installedAt" not in run_history.read("weekly-scan")
    assert fake_systemctl.read_text().splitlines() == ["--user is-system-running"]
    # A dry run only warns: it writes nothing anyway.
    assert main(["install", "--systemd", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "jmo-weekly-scan.timer" in out
    assert err.startswith("warning: no systemd user manager is running for alice")


def test_systemd_install_warns_without_lingering(tmp_path: Path, fake_systemctl: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JMO_SCANNER", "/opt/jmo/bin/jmo")
    (tmp_path / "linger" / "alice").unlink()
    add("weekly-scan")
    assert main(["install", "--systemd"]) == 0
    out, err = capsys.readouterr()
    assert out.endswith("installed 1 schedule (weekly-scan) as systemd user timers\n")
    assert err == ("warning: the timers run only while alice is logged in: run `loginctl enable-linger alice` so they "
                   "keep running after logout\n")
    assert (tmp_path / "config" / "systemd" / "user" / "jmo-weekly-scan.timer").is_file()

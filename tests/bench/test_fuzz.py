"""bench/fuzz.py: its core on a few hundred inputs, so CI keeps the CLI free of tracebacks."""
from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conftest import ROOT


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("jmo_fuzz", ROOT / "bench" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["jmo_fuzz"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


fuzz = _load()


def test_inputs_are_the_same_for_a_seed_and_differ_between_seeds() -> None:
    first = [fuzz.make_input(random.Random(7)) for _ in range(3)]
    assert first == [fuzz.make_input(random.Random(7)) for _ in range(3)]
    rng = random.Random(7)
    assert len({fuzz.make_input(rng) for _ in range(50)}) == 50


def test_200_inputs_through_validate_sync_and_apply_leave_no_traceback() -> None:
    report = fuzz.fuzz(200, seed=1, modes=("sync", "apply"))
    assert [(f.index, f.argv, f.kind, f.where) for f in report.findings] == []
    assert report.inputs == 200
    # The inputs reach the generators and the store, not only the parser.
    assert report.exits[("sync", 0)] >= 20 and report.exits[("apply", 0)] >= 20
    assert report.exits[("validate", 1)] >= 50


def test_200_store_files_through_list_get_and_describe_leave_no_traceback() -> None:
    report = fuzz.fuzz(200, seed=2, modes=("store",))
    assert [(f.index, f.argv, f.kind, f.where) for f in report.findings] == []
    assert report.exits[("list", 0)] >= 20 and report.exits[("describe", 0)] >= 20


def test_a_crash_is_counted_and_its_input_saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(argv: list[str]) -> int:
        if argv[0] == "sync":
            raise KeyError("boom")
        return 0 if argv[0] == "validate" else 3

    monkeypatch.setattr(fuzz, "main", crash)
    report = fuzz.fuzz(4, seed=0, out=tmp_path, keep=2, modes=("sync", "apply"))
    assert [(f.index, f.argv[0], f.kind) for f in report.findings] == [
        (0, "sync", "KeyError"), (1, "apply", "exit 3"), (1, "list", "exit 3"), (1, "get", "exit 3"),
        (1, "describe", "exit 3"), (2, "sync", "KeyError"), (3, "apply", "exit 3"), (3, "list", "exit 3"),
        (3, "get", "exit 3"), (3, "describe", "exit 3")]
    assert report.findings[0].where.startswith("test_fuzz.py:") and report.findings[0].where.endswith(" in crash")
    # The first input of each class: a KeyError in sync, exit code 3 in apply.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00000-sync.in", "00000-sync.txt", "00001-apply.in",
                                                          "00001-apply.txt"]
    assert (tmp_path / "00000-sync.txt").read_text().startswith("sync --dry-run -f schedules.yaml\n\nTraceback")


# One store file for each class of traceback the fuzzer found on this branch alone, named
# exception-module-function-line; each is now a one-line error naming the store.
STORE_FINDINGS = sorted((ROOT / "tests" / "data" / "fuzz-store").glob("*.json"))


@pytest.mark.parametrize("found", STORE_FINDINGS, ids=[p.stem for p in STORE_FINDINGS])
def test_each_store_the_fuzzer_broke_is_one_line_error(found: Path, jmo_home: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from jmo_schedule.cli import main

    store = jmo_home / "schedules.json"
    jmo_home.mkdir(parents=True, exist_ok=True)
    for argv in (["list"], ["get", "scan-0", "-o", "json"], ["describe", "scan-0"]):
        store.write_bytes(found.read_bytes())
        store.chmod(0o600)
        assert main(argv) == 1
        out, err = capsys.readouterr()
        assert out == "" and err.startswith(f"jmo-schedule: error: {store}") and err.count("\n") == 1, err

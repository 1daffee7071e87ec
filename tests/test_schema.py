"""schema/schedules.schema.json: generated, current, a valid draft 2020-12 schema, and in
agreement with `jmo-schedule validate` on the inputs editors care about."""
from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLE, ROOT, tool
from jsonschema import Draft202012Validator

from jmo_schedule.core.loader import check_text

SCHEMA = ROOT / "schema" / "schedules.schema.json"


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate_schema", ROOT / "scripts" / "generate_schema.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text())


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema)


def test_checked_in_schema_is_current() -> None:
    assert SCHEMA.read_text() == _generator().render(), "stale: run python scripts/generate_schema.py"


def test_generator_check_mode(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gen = _generator()
    assert gen.main(["--check"]) == 0
    stale = tmp_path / "schema.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(gen, "SCHEMA_PATH", stale)
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    assert gen.main(["--check"]) == 1
    assert capsys.readouterr().err == "schema.json is stale; run: python scripts/generate_schema.py\n"


def test_generation_is_byte_stable() -> None:
    gen = _generator()
    assert gen.render() == gen.render()


def test_is_a_draft_2020_12_schema(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    run = subprocess.run([tool("check-jsonschema"), "--check-metaschema", str(SCHEMA)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_example_file_names_the_schema_for_editors() -> None:
    first = EXAMPLE.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schema/schedules.schema.json"
    assert (EXAMPLE.parent / "../schema/schedules.schema.json").resolve() == SCHEMA


def test_example_documents_pass_check_jsonschema(tmp_path: Path) -> None:
    # check-jsonschema reads one document per file (as an editor applies the schema per document).
    docs = list(yaml.safe_load_all(EXAMPLE.read_text()))
    assert len(docs) == 4
    paths = []
    for i, doc in enumerate(docs):
        path = tmp_path / f"doc{i}.json"
        path.write_text(json.dumps(doc))
        paths.append(str(path))
    run = subprocess.run([tool("check-jsonschema"), "--schemafile", str(SCHEMA), *paths], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


BASE: dict[str, Any] = {
    "apiVersion": "jmo.security/v1alpha1",
    "kind": "ScanSchedule",
    "metadata": {"name": "nightly", "labels": {"team": "security", "example.com/tier": "web"}},
    "spec": {
        "schedule": "0 2 * * *",
        "timezone": "Europe/Berlin",
        "backend": {"type": "gitlab-ci", "config": {"tags": ["docker"], "timeout": "1 HOUR 30m", "retry": {"max": 2, "when": "script_failure"}}},
        "jobTemplate": {
            "profile": "fast",
            "targets": {"repo": ".", "images": ["nginx:1.27"]},
            "options": {"fail_on": "HIGH", "threads": 4},
            "notifications": {"channels": [{"type": "slack", "url": "${SLACK_WEBHOOK_URL}"}]},
        },
    },
}


def _with(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = doc
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if value is KeyError:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


def _validator_accepts(doc: dict[str, Any]) -> bool:
    return not check_text(yaml.safe_dump(doc), "s.yaml").errors


def test_base_document_is_valid_for_both(validator: Draft202012Validator) -> None:
    assert list(validator.iter_errors(BASE)) == []
    assert _validator_accepts(BASE)


@pytest.mark.parametrize("path, value", [
    ("spec.timzone", "UTC"),
    ("spec.concurrencyPolicy", "Sometimes"),
    ("spec.suspend", "yes"),
    ("spec.startingDeadlineSeconds", -1),
    ("metadata.name", "Nightly_Scan"),
    ("metadata.name", "x" * 64),
    ("metadata.labels.team", 5),
    ("metadata.labels", {"-bad": "x"}),
    ("spec.schedule", "0 2 * *"),
    ("spec.backend.type", "jenkins"),
    ("spec.backend.config.namespace", "x"),
    ("spec.backend.config.retry", 3),
    ("spec.backend.config.timeout", "soon"),
    ("spec.jobTemplate.profile", "medium"),
    ("spec.jobTemplate.targets.repos_dir", "/repos"),
    ("spec.jobTemplate.targets.images_file", "images.txt"),
    ("spec.jobTemplate.options.threads", 0),
    ("spec.jobTemplate.options.fail_on", "high"),
    ("spec.jobTemplate.notifications.channels.0.url", "https://hooks.slack.com/services/T0/B0/X"),
    ("spec.jobTemplate.notifications.channels.0.type", "teams"),
    ("spec.jobTemplate.notifications.channels.0.url", "${PATH}"),
    ("spec.jobTemplate.notifications.channels.0.url", "${JMO_SCANNER}"),
    ("spec.jobTemplate.notifications.channels.0.url", "${https_proxy}"),
    ("spec", KeyError),
    ("apiVersion", "jmo.security/v1"),
])
def test_schema_and_validator_both_reject(validator: Draft202012Validator, path: str, value: Any) -> None:
    doc = _with(path, value)
    assert list(validator.iter_errors(doc)), f"schema accepts {path}={value!r}"
    assert not _validator_accepts(doc), f"validator accepts {path}={value!r}"


def test_default_backend_config_is_checked(validator: Draft202012Validator) -> None:
    doc = copy.deepcopy(BASE)
    doc["spec"]["backend"] = {"config": {"scanner": "/usr/local/bin/jmo"}}  # type defaults to local-cron
    assert list(validator.iter_errors(doc)) == []
    doc["spec"]["backend"] = {"config": {"tags": ["x"]}}
    assert list(validator.iter_errors(doc))


def test_schedule_list(validator: Draft202012Validator) -> None:
    item = {k: v for k, v in BASE.items() if k not in ("apiVersion", "kind")}
    doc = {"apiVersion": "jmo.security/v1alpha1", "kind": "ScanScheduleList", "items": [item, BASE]}
    assert list(validator.iter_errors(doc)) == []
    assert _validator_accepts({**doc, "items": [item, {**BASE, "metadata": {"name": "other"}}]})


def test_defaults_come_from_the_model(schema: dict[str, Any]) -> None:
    spec = schema["$defs"]["ScanSchedule"]["properties"]["spec"]["properties"]
    assert spec["timezone"]["default"] == "UTC"
    assert spec["concurrencyPolicy"]["default"] == "Forbid"
    assert spec["successfulJobsHistoryLimit"]["default"] == 30
    assert spec["failedJobsHistoryLimit"]["default"] == 10
    assert spec["schedule"]["description"].startswith("5-field cron")

"""Every example of the user guide that uses the core (model, manager, cron) runs.

The snippets are copied from the guide as written; the only change is the import root
(`scripts.core` -> `jmo_schedule`), applied by `adapt`. They run in order in one namespace,
as a reader following the guide would. Generator examples are tested with the generators.
"""
from __future__ import annotations

import io
import os
import textwrap
from contextlib import redirect_stdout
from datetime import datetime, timezone
from typing import Any

import pytest

from jmo_schedule import describe, next_runs
from jmo_schedule.core.loader import check_text, load_text
from jmo_schedule.local.manager import ScheduleManager


def adapt(snippet: str) -> str:
    return textwrap.dedent(snippet).replace("scripts.core", "jmo_schedule")


def run(snippet: str, ns: dict[str, Any]) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        exec(compile(adapt(snippet), "<guide>", "exec"), ns)  # noqa: S102 - the guide's own code
    return out.getvalue()


QUICK_START = '''
from scripts.core.schedule_manager import (
    ScheduleManager, ScanSchedule, ScheduleMetadata,
    ScheduleSpec, BackendConfig, JobTemplateSpec
)

# Initialize manager
manager = ScheduleManager()

# Create schedule
schedule = ScanSchedule(
    metadata=ScheduleMetadata(
        name="weekly-scan",
        labels={"team": "security", "environment": "production"}
    ),
    spec=ScheduleSpec(
        schedule="0 2 * * 1",  # Every Monday at 2 AM UTC
        timezone="UTC",
        backend=BackendConfig(type="gitlab-ci"),
        jobTemplate=JobTemplateSpec(
            profile="balanced",
            targets={"repos_dir": "/repos"},
            results={"dir": "/results"},
            options={"fail_on": "HIGH"},
            notifications={
                "enabled": True,
                "channels": [
                    {
                        "type": "slack",
                        "url": "https://hooks.slack.com/services/YOUR/WEBHOOK/URL"
                    }
                ]
            }
        )
    )
)

# Save schedule
manager.create(schedule)
print(f"✅ Created schedule: {schedule.metadata.name}")
print(f"Next run: {schedule.status.nextScheduleTime}")
'''

CONCURRENCY = '''
spec=ScheduleSpec(
    schedule="0 2 * * *",
    concurrencyPolicy="Forbid"  # Prevent overlapping scans
)
'''

BASIC = '''
from scripts.core.schedule_manager import *

manager = ScheduleManager()

schedule = ScanSchedule(
    metadata=ScheduleMetadata(name="basic-scan"),
    spec=ScheduleSpec(
        schedule="0 2 * * *",
        jobTemplate=JobTemplateSpec(
            profile="fast",
            targets={"repo": "/path/to/repo"},
            results={"dir": "/results"},
            options={}
        )
    )
)

manager.create(schedule)
'''

MULTI_TARGET = '''
schedule = ScanSchedule(
    metadata=ScheduleMetadata(name="comprehensive-scan"),
    spec=ScheduleSpec(
        schedule="0 3 * * 1",  # Weekly Monday 3 AM
        jobTemplate=JobTemplateSpec(
            profile="balanced",
            targets={
                "repos_dir": "/repos",
                "images": ["nginx:latest", "postgres:15"],
                "urls": ["https://api.example.com"],
                "k8s_context": "prod"
            },
            results={"dir": "/results/weekly"},
            options={"fail_on": "HIGH", "threads": 8}
        )
    )
)
'''

# As printed in the guide: `ScheduleSpec(schedule="0 1 * * *", ...)`.
LABELS_AS_PRINTED = '''
schedule = ScanSchedule(
    metadata=ScheduleMetadata(
        name="prod-backend-scan",
        labels={
            "team": "backend",
            "environment": "production",
            "priority": "critical"
        },
        annotations={
            "owner": "security-team@example.com",
            "description": "Production backend services security scan"
        }
    ),
    spec=ScheduleSpec(schedule="0 1 * * *", ...)
)
'''

LIST = '''
manager = ScheduleManager()

# List all
schedules = manager.list()
for s in schedules:
    print(f"{s.metadata.name}: {s.spec.schedule} (next: {s.status.nextScheduleTime})")

# Filter by labels
prod_schedules = manager.list(labels={"environment": "production"})
'''

GET = '''
schedule = manager.get("weekly-scan")
if schedule:
    print(f"Schedule: {schedule.metadata.name}")
    print(f"Cron: {schedule.spec.schedule}")
    print(f"Profile: {schedule.spec.jobTemplate.profile}")
    print(f"Next run: {schedule.status.nextScheduleTime}")
else:
    print("Schedule not found")
'''

UPDATE = '''
# Get existing schedule
schedule = manager.get("weekly-scan")

# Modify schedule
schedule.spec.schedule = "0 3 * * *"  # Change to 3 AM
schedule.spec.jobTemplate.profile = "deep"  # Use deep profile
schedule.spec.suspend = True  # Temporarily suspend

# Save changes
manager.update(schedule)
print(f"✅ Updated schedule (generation {schedule.metadata.generation})")
'''

SUSPEND_RESUME = '''
# Suspend
schedule = manager.get("weekly-scan")
schedule.spec.suspend = True
manager.update(schedule)

# Resume
schedule.spec.suspend = False
manager.update(schedule)
'''

DELETE = '''
success = manager.delete("weekly-scan")
if success:
    print("✅ Schedule deleted")
else:
    print("❌ Schedule not found")
'''

CONFIGURE_NOTIFICATIONS = '''
schedule = ScanSchedule(
    metadata=ScheduleMetadata(name="prod-scan"),
    spec=ScheduleSpec(
        schedule="0 2 * * *",
        jobTemplate=JobTemplateSpec(
            profile="balanced",
            targets={"repos_dir": "/repos"},
            results={"dir": "/results"},
            options={},
            notifications={
                "enabled": True,
                "channels": [
                    {
                        "type": "slack",
                        "url": "https://hooks.slack.com/services/T00/B00/XXX"
                    }
                ]
            }
        )
    )
)
'''

MULTIPLE_CHANNELS = '''
notifications={
    "enabled": True,
    "channels": [
        {
            "type": "slack",
            "url": "https://hooks.slack.com/services/T00/B00/XXX",  # #security
        },
        {
            "type": "slack",
            "url": "https://hooks.slack.com/services/T00/B01/YYY",  # #devops
        }
    ]
}
'''

BEST_PRACTICES = '''
# ❌ BAD - Hardcoded secret
notifications={
    "channels": [{"type": "slack", "url": "https://hooks.slack.com/..."}]
}

# ✅ GOOD - Use environment variable
import os
notifications={
    "channels": [{"type": "slack", "url": os.environ["SLACK_WEBHOOK_URL"]}]
}
'''

HISTORY_LIMITS = '''
spec=ScheduleSpec(
    schedule="0 2 * * *",
    successfulJobsHistoryLimit=30,  # Keep 30 successful runs
    failedJobsHistoryLimit=10       # Keep 10 failed runs
)
'''

STARTING_DEADLINE = '''
spec=ScheduleSpec(
    schedule="0 2 * * *",
    startingDeadlineSeconds=300  # Cancel if can't start within 5 minutes
)
'''

BACKEND_CONFIG = '''
spec=ScheduleSpec(
    schedule="0 2 * * *",
    backend=BackendConfig(
        type="gitlab-ci",
        config={
            "image": "ghcr.io/jimmy058910/jmo-security:slim",
            "tags": ["docker", "linux"],
            "timeout": "1h",
            "retry": {"max": 2, "when": ["runner_system_failure"]}
        }
    )
)
'''

PROFILE_OPTIONS = '''
jobTemplate=JobTemplateSpec(
    profile="deep",
    targets={"repos_dir": "/repos"},
    results={"dir": "/results"},
    options={
        "fail_on": "MEDIUM",
        "threads": 4,
        "timeout": 1800,
        "allow_missing_tools": False,
        "human_logs": True
    }
)
'''

NOT_RUNNING = '''
schedule = manager.get("weekly-scan")
if schedule.spec.suspend:
    print("⚠️ Schedule is suspended")
    schedule.spec.suspend = False
    manager.update(schedule)
'''

VERIFY_CRON = '''
from croniter import croniter
from datetime import datetime

try:
    cron = croniter("0 2 * * *", datetime.now())
    next_run = cron.get_next(datetime)
    print(f"✅ Valid cron, next run: {next_run}")
except ValueError as e:
    print(f"❌ Invalid cron: {e}")
'''

NEXT_RUN_NOT_UPDATING = '''
from datetime import datetime, timezone
from croniter import croniter

schedule = manager.get("weekly-scan")
now = datetime.now(timezone.utc)
cron = croniter(schedule.spec.schedule, now)
schedule.status.nextScheduleTime = cron.get_next(datetime).isoformat()
manager.update(schedule)
print(f"✅ Updated next run: {schedule.status.nextScheduleTime}")
'''

GUIDE_OBJECT = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: nightly-scan
  uid: 550e8400-e29b-41d4-a716-446655440000
  labels:
    team: security
    environment: prod
  annotations:
    description: "Nightly security scan for production repos"
  creationTimestamp: "2025-10-29T02:00:00Z"
  generation: 1
spec:
  schedule: "0 2 * * *"
  timezone: "UTC"
  suspend: false
  concurrencyPolicy: "Forbid"
  startingDeadlineSeconds: 300
  successfulJobsHistoryLimit: 30
  failedJobsHistoryLimit: 10
  backend:
    type: "gitlab-ci"
    config: {}
  jobTemplate:
    profile: "balanced"
    targets:
      repos_dir: "/repos"
    results:
      dir: "/results"
    options:
      fail_on: "HIGH"
    notifications:
      enabled: true
      channels:
        - type: "slack"
          url: "https://hooks.slack.com/services/..."
status:
  conditions:
    - type: "Ready"
      status: "True"
      lastTransitionTime: "2025-10-29T02:00:00Z"
      reason: "Created"
      message: "Schedule created successfully"
  nextScheduleTime: "2025-10-30T02:00:00Z"
  lastScheduleTime: null
  lastSuccessfulTime: null
  active: 0
  succeeded: 0
  failed: 0
"""


def test_the_guide_from_start_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    ns: dict[str, Any] = {}
    out = run(QUICK_START, ns)
    lines = out.splitlines()
    assert lines[0] == "✅ Created schedule: weekly-scan"
    assert lines[1].startswith("Next run: ") and lines[1].endswith("T02:00:00Z")
    next_run = datetime.fromisoformat(lines[1][len("Next run: "):].replace("Z", "+00:00"))
    assert next_run.weekday() == 0 and next_run > datetime.now(timezone.utc)

    run(CONCURRENCY, ns)
    assert ns["spec"].concurrencyPolicy == "Forbid"

    run(BASIC, ns)
    assert ns["manager"].get("basic-scan").spec.jobTemplate.profile == "fast"

    run(MULTI_TARGET, ns)
    ns["manager"].create(ns["schedule"])
    assert ns["manager"].get("comprehensive-scan").spec.jobTemplate.targets["images"] == ["nginx:latest", "postgres:15"]

    out = run(LIST, ns)
    assert [line.split(":")[0] for line in out.splitlines()] == ["basic-scan", "comprehensive-scan", "weekly-scan"]
    assert "weekly-scan: 0 2 * * 1 (next: " in out
    assert [s.metadata.name for s in ns["prod_schedules"]] == ["weekly-scan"]

    out = run(GET, ns)
    assert out.splitlines()[:3] == ["Schedule: weekly-scan", "Cron: 0 2 * * 1", "Profile: balanced"]

    out = run(UPDATE, ns)
    assert out == "✅ Updated schedule (generation 2)\n"
    stored = ns["manager"].get("weekly-scan")
    assert (stored.spec.schedule, stored.spec.jobTemplate.profile, stored.spec.suspend) == ("0 3 * * *", "deep", True)
    assert stored.status.nextScheduleTime is None

    run(SUSPEND_RESUME, ns)
    assert ns["manager"].get("weekly-scan").spec.suspend is False
    assert ns["manager"].get("weekly-scan").metadata.generation == 3  # suspending a suspended one changes no spec

    out = run(NOT_RUNNING, ns)
    assert out == ""  # it is not suspended any more

    out = run(NEXT_RUN_NOT_UPDATING, ns)
    assert out.startswith("✅ Updated next run: ")
    # status is the system's: update recomputes nextScheduleTime with the time semantics.
    assert ns["schedule"].status.nextScheduleTime.endswith("T03:00:00Z")

    out = run(DELETE, ns)
    assert out == "✅ Schedule deleted\n"
    assert run(DELETE, ns) == "❌ Schedule not found\n"


def test_suspended_schedule_troubleshooting() -> None:
    ns: dict[str, Any] = {}
    run(QUICK_START, ns)
    ns["schedule"].spec.suspend = True
    ns["manager"].update(ns["schedule"])
    assert run(NOT_RUNNING, ns) == "⚠️ Schedule is suspended\n"
    assert ns["manager"].get("weekly-scan").spec.suspend is False


def test_the_labels_example() -> None:
    # As printed, the guide's `ScheduleSpec(schedule="0 1 * * *", ...)` is not Python (a
    # positional argument after a keyword); with the schedule positional it runs.
    with pytest.raises(SyntaxError):
        compile(adapt(LABELS_AS_PRINTED), "<guide>", "exec")
    ns: dict[str, Any] = {}
    run("from scripts.core.schedule_manager import *\n", ns)
    run(LABELS_AS_PRINTED.replace('ScheduleSpec(schedule="0 1 * * *", ...)', 'ScheduleSpec("0 1 * * *", ...)'), ns)
    schedule = ns["schedule"]
    assert schedule.spec.schedule == "0 1 * * *" and schedule.spec.timezone == "UTC"
    ScheduleManager().create(schedule)
    assert [s.name for s in ScheduleManager().list(labels={"priority": "critical"})] == ["prod-backend-scan"]


@pytest.mark.parametrize("snippet", [CONFIGURE_NOTIFICATIONS, MULTIPLE_CHANNELS, HISTORY_LIMITS, STARTING_DEADLINE,
                                     BACKEND_CONFIG, PROFILE_OPTIONS])
def test_configuration_snippets_build_valid_objects(snippet: str) -> None:
    ns: dict[str, Any] = {}
    run("from scripts.core.schedule_manager import *\n", ns)
    run(snippet, ns)
    manager = ScheduleManager()
    if "schedule" in ns and hasattr(ns["schedule"], "spec"):
        schedule = ns["schedule"]
    else:
        schedule = ns["ScanSchedule"](metadata=ns["ScheduleMetadata"](name="snippet"),
                                      spec=ns.get("spec") or ns["ScheduleSpec"]("0 2 * * *"))
        if "jobTemplate" in ns:
            schedule.spec.jobTemplate = ns["jobTemplate"]
        if "notifications" in ns:
            schedule.spec.jobTemplate.notifications = ns["notifications"]
    manager.create(schedule)  # the private store accepts literal webhook URLs
    assert manager.get(schedule.metadata.name) == schedule


def test_backend_config_values() -> None:
    ns: dict[str, Any] = {}
    run("from scripts.core.schedule_manager import *\n", ns)
    run(BACKEND_CONFIG + HISTORY_LIMITS.replace("spec=", "limits=") + STARTING_DEADLINE.replace("spec=", "deadline="), ns)
    assert ns["spec"].backend.config["retry"] == {"max": 2, "when": ["runner_system_failure"]}
    assert (ns["limits"].successfulJobsHistoryLimit, ns["limits"].failedJobsHistoryLimit) == (30, 10)
    assert ns["deadline"].startingDeadlineSeconds == 300


def test_best_practices_snippet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/Z")
    ns: dict[str, Any] = {}
    run(BEST_PRACTICES, ns)
    assert ns["notifications"]["channels"][0]["url"] == "https://hooks.slack.com/services/T/B/Z"


def test_the_guide_object_yaml() -> None:
    # In the private store (committed=False) it loads as written, status included...
    (schedule,) = load_text(GUIDE_OBJECT, "<guide>", committed=False)
    assert schedule.metadata.uid == "550e8400-e29b-41d4-a716-446655440000"
    assert schedule.status.conditions[0].reason == "Created"
    assert schedule.spec.startingDeadlineSeconds == 300
    # ...but committed to git, the literal webhook URL is an error and status a warning; its
    # 5-minute deadline on gitlab-ci warns too (GitLab starts scheduled pipelines minutes late).
    problems = [str(p) for p in check_text(GUIDE_OBJECT, "schedules.yaml").problems]
    assert problems == [
        "schedules.yaml:18:28: warning: spec.startingDeadlineSeconds: 300 is under 15 minutes: GitLab's pipeline "
        "schedule worker starts scheduled pipelines on its own cadence (every 5 minutes on GitLab.com, every 10 by "
        "default on GitLab Self-Managed), later under load, so the guard would skip runs that only started late; use "
        "900 or more",
        "schedules.yaml:36:16: spec.jobTemplate.notifications.channels[0].url: a committed file must not hold a "
        "webhook URL; write url: ${SLACK_WEBHOOK_URL} and set SLACK_WEBHOOK_URL as a CI secret",
        "schedules.yaml:38:3: warning: status: status is written by jmo-schedule and ignored in a committed file",
    ]
    fixed = GUIDE_OBJECT.replace('"https://hooks.slack.com/services/..."', "${SLACK_WEBHOOK_URL}")
    assert check_text(fixed, "schedules.yaml").errors == []


@pytest.mark.parametrize(
    ("expr", "text", "after", "first"),
    [
        ("0 2 * * *", "At 02:00 (UTC)", "2026-11-25T12:00:00", "2026-11-26T02:00:00"),  # Every day at 2 AM UTC
        ("0 2 * * 1", "At 02:00 on Monday (UTC)", "2026-11-25T12:00:00", "2026-11-30T02:00:00"),
        ("0 */6 * * *", "Every 6 hours (UTC)", "2026-11-25T12:00:00", "2026-11-25T18:00:00"),
        ("0 9 * * 1-5", "At 09:00 on Monday through Friday (UTC)", "2026-11-27T12:00:00", "2026-11-30T09:00:00"),
        ("0 0 1 * *", "At 00:00 on day 1 of the month (UTC)", "2026-11-25T12:00:00", "2026-12-01T00:00:00"),
        ("*/15 * * * *", "Every 15 minutes (UTC)", "2026-11-25T12:01:00", "2026-11-25T12:15:00"),
    ],
)
def test_common_cron_patterns(expr: str, text: str, after: str, first: str) -> None:
    ns: dict[str, Any] = {}
    exec(f'schedule="{expr}"', ns)  # noqa: S102 - the guide writes them as assignments
    assert describe(ns["schedule"], "UTC") == text
    runs = next_runs(expr, "UTC", datetime.fromisoformat(after).replace(tzinfo=timezone.utc), 1)
    assert runs == [datetime.fromisoformat(first).replace(tzinfo=timezone.utc)]


def test_troubleshooting_croniter_snippet() -> None:
    out = run(VERIFY_CRON, {})
    assert out.startswith("✅ Valid cron, next run: ") and out.rstrip().endswith(":00")


def test_permission_troubleshooting_matches_the_store(jmo_home: Any) -> None:
    # "Should show: -rw------- (owner read/write only)"
    ns: dict[str, Any] = {}
    run(QUICK_START, ns)
    assert oct(os.stat(ns["manager"].path).st_mode & 0o777) == "0o600"

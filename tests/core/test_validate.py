"""validate.py: every rule, with a bad input and its exact one-line message.

Messages are `FILE:LINE:COLUMN: FIELD.PATH: message`; LINE:COLUMN point at the bad value
(or, for unknown fields and bad keys, at the key).
"""
from __future__ import annotations

import textwrap

import pytest

from jmo_schedule.errors import Problem
from jmo_schedule.core.loader import check_text
from jmo_schedule.core.model import BackendConfig, JobTemplateSpec, ScanSchedule, ScheduleMetadata, ScheduleSpec
from jmo_schedule.core.model import schedule_problems
from jmo_schedule.core.validate import label_key_problem, suggest

HEAD = """\
apiVersion: jmo.security/v1alpha1
kind: ScanSchedule
metadata:
  name: weekly-scan
spec:
"""


def problems(text: str, committed: bool = True) -> list[str]:
    return [str(p) for p in check_text(textwrap.dedent(text), "schedules.yaml", committed).problems]


def spec_problems(spec_body: str, committed: bool = True) -> list[str]:
    """Problems of a document whose spec (indented 2) is `spec_body`; spec starts on line 6."""
    return problems(HEAD + textwrap.indent(textwrap.dedent(spec_body), "  "), committed)


def test_a_valid_file_has_no_problems(example_file) -> None:  # noqa: ANN001
    result = check_text(example_file.read_text(), "schedules.yaml")
    assert result.problems == []
    assert [s.name for s in result.schedules] == ["weekly-scan", "nightly-scan", "comprehensive-scan", "prod-backend-scan"]


def test_the_issue_example_hour_25() -> None:
    text = HEAD + '  schedule: "0 25 * * *"\n'
    assert problems(text) == ["schedules.yaml:6:16: spec.schedule: hour 25 is outside 0-23"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('schedule: "0 25 * * *"', "6:16: spec.schedule: hour 25 is outside 0-23"),
        ("schedule: 0 25 * * *", "6:15: spec.schedule: hour 25 is outside 0-23"),
        ("schedule: '*/5 * * * 9'", "6:24: spec.schedule: day of week 9 is outside 0-7"),
        ('schedule: "0 0 0 * * *"', "6:14: spec.schedule: 6 fields: seconds (or a year) are not supported; cron has 5 "
                                    "fields: minute hour day-of-month month day-of-week"),
        ('schedule: "0 0 ? * MON"', "6:18: spec.schedule: day-of-month: '?' is Quartz syntax, not cron; write * instead"),
        ('schedule: "0 0 L * *"', "6:18: spec.schedule: day-of-month: 'L' (Quartz 'last'/'weekday'/'nth') is not "
                                  "supported by standard cron"),
        ('schedule: "0 0 * * 5#3"', "6:23: spec.schedule: day-of-week: '#' (Quartz 'last'/'weekday'/'nth') is not "
                                    "supported by standard cron"),
        ('schedule: "0 0 1W * *"', "6:19: spec.schedule: day-of-month: 'W' (Quartz 'last'/'weekday'/'nth') is not "
                                   "supported by standard cron"),
        ('schedule: "@reboot"', '6:14: spec.schedule: @reboot has no time to schedule; use 5 fields such as "0 2 * * *"'),
        ("schedule: 5", "6:13: spec.schedule: expected a cron expression string, got a number"),
        ('schedule: "0 0 30 2 *"', "6:18: spec.schedule: '0 0 30 2 *' never fires: no month in it has that day"),
        ('schedule: "0 2 * * MONDAY"', "6:22: spec.schedule: day-of-week: unknown name 'MONDAY' (use SUN-SAT or numbers)"),
        ('schedule: "*/\u00b2 * * * *"', "6:16: spec.schedule: '\u00b2' is not cron syntax: cron takes ASCII digits, names, "
                                        "* , - / and spaces"),
        ('schedule: "0 ' + "9" * 5000 + ' * * *"', "6:16: spec.schedule: hour 999999999999... (5000 characters) is "
                                                 "outside 0-23"),
    ],
)
def test_cron_errors_point_into_the_expression(line: str, message: str) -> None:
    assert problems(HEAD + "  " + line + "\n") == [f"schedules.yaml:{message}"]


def test_macros_and_names_are_valid() -> None:
    for expr in ("@daily", "@weekly", "0 2 * JAN-MAR MON-FRI", "0 0 * * 7", "*/10 1-5,22 1,15 */2 sun"):
        assert problems(HEAD + f'  schedule: "{expr}"\n') == [], expr


def test_required_fields() -> None:
    assert problems("kind: ScanSchedule\n") == [
        "schedules.yaml:1:1: apiVersion is required (apiVersion: jmo.security/v1alpha1)",
        "schedules.yaml:1:1: metadata is required (metadata: {name: ...})",
        "schedules.yaml:1:1: spec is required",
    ]
    assert problems(HEAD.replace("kind: ScanSchedule\n", "") + '  schedule: "0 2 * * *"\n') == [
        "schedules.yaml:1:1: kind is required (kind: ScanSchedule)"
    ]
    assert problems(HEAD + "  timezone: UTC\n") == [
        'schedules.yaml:6:3: spec: schedule is required (a 5-field cron expression such as "0 2 * * 1")'
    ]
    text = "apiVersion: jmo.security/v1alpha1\nkind: ScanSchedule\nmetadata:\n  labels: {}\nspec:\n  schedule: '0 2 * * *'\n"
    assert problems(text) == ["schedules.yaml:4:3: metadata: name is required"]


def test_api_version_and_kind() -> None:
    text = HEAD.replace("jmo.security/v1alpha1", "batch/v1").replace("kind: ScanSchedule", "kind: CronJob")
    assert problems(text + '  schedule: "0 2 * * *"\n') == [
        "schedules.yaml:1:13: apiVersion: 'batch/v1' is not supported; expected jmo.security/v1alpha1",
        "schedules.yaml:2:7: kind: 'CronJob' is not supported; expected ScanSchedule",
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Weekly_Scan", "'Weekly_Scan' is not a DNS-1123 label: use lowercase letters, digits and '-', starting and "
                        "ending with a letter or digit"),
        ("-scan", "'-scan' is not a DNS-1123 label: use lowercase letters, digits and '-', starting and ending with a "
                  "letter or digit"),
        ("scan-", "'scan-' is not a DNS-1123 label: use lowercase letters, digits and '-', starting and ending with a "
                  "letter or digit"),
        ("a.b", "'a.b' is not a DNS-1123 label: use lowercase letters, digits and '-', starting and ending with a "
                "letter or digit"),
        ("a" * 64, "is 64 characters; a name has at most 63"),
        ('""', "must not be empty"),
        ("42", "expected a string, got a number"),
    ],
)
def test_names(name: str, message: str) -> None:
    text = HEAD.replace("name: weekly-scan", f"name: {name}") + '  schedule: "0 2 * * *"\n'
    assert problems(text) == [f"schedules.yaml:4:9: metadata.name: {message}"]


def test_name_of_63_characters_is_fine() -> None:
    text = HEAD.replace("name: weekly-scan", f"name: {'a' * 63}") + '  schedule: "0 2 * * *"\n'
    assert problems(text) == []


def test_duplicate_names_name_both_lines_and_keep_the_rest() -> None:
    doc = HEAD + '  schedule: "0 2 * * *"\n'
    other = doc.replace("weekly-scan", "other")
    text = doc + "---\n" + other + "---\n" + doc
    result = check_text(text, "schedules.yaml")
    assert [str(p) for p in result.problems] == [
        "schedules.yaml:4:9: metadata.name: duplicate name 'weekly-scan' (also at line 18)",
        "schedules.yaml:18:9: metadata.name: duplicate name 'weekly-scan' (also at line 4)",
    ]
    assert [s.name for s in result.schedules] == ["other"]


def test_duplicate_names_in_a_list() -> None:
    text = textwrap.dedent("""\
        apiVersion: jmo.security/v1alpha1
        kind: ScanScheduleList
        items:
          - metadata: {name: a}
            spec: {schedule: "0 2 * * *"}
          - metadata: {name: a}
            spec: {schedule: "0 3 * * *"}
        """)
    assert problems(text) == [
        "schedules.yaml:4:22: items[0].metadata.name: duplicate name 'a' (also at line 6)",
        "schedules.yaml:6:22: items[1].metadata.name: duplicate name 'a' (also at line 4)",
    ]


def test_labels_and_annotations() -> None:
    text = textwrap.dedent("""\
        apiVersion: jmo.security/v1alpha1
        kind: ScanSchedule
        metadata:
          name: weekly-scan
          labels:
            team: security
            example.com/tier: web
            "bad key": x
            Example.COM/tier: web
            version: 2
            note: "has space"
            enabled: true
            long: %s
          annotations:
            owner: security-team@example.com
            description: "Any text: spaces, punctuation!"
            count: 3
        spec:
          schedule: "0 2 * * *"
        """ % ("v" * 64))
    assert problems(text) == [
        "schedules.yaml:8:5: metadata.labels.bad key: key 'bad key' must use letters, digits, '-', '_' and '.', "
        "starting and ending with a letter or digit",
        "schedules.yaml:9:5: metadata.labels.Example.COM/tier: key prefix 'Example.COM' must be a DNS subdomain "
        "(lowercase, '.', '-'), at most 253 characters",
        'schedules.yaml:10:14: metadata.labels.version: values must be strings, got a number; quote it: "2"',
        "schedules.yaml:11:11: metadata.labels.note: label value 'has space' must use letters, digits, '-', '_' and "
        "'.', starting and ending with a letter or digit",
        'schedules.yaml:12:14: metadata.labels.enabled: values must be strings, got a boolean; quote it: "True"',
        "schedules.yaml:13:11: metadata.labels.long: label value is 64 characters; at most 63",
        'schedules.yaml:17:12: metadata.annotations.count: values must be strings, got a number; quote it: "3"',
    ]


def test_label_key_rules() -> None:
    assert label_key_problem("app.kubernetes.io/name") is None
    assert label_key_problem("a" * 63) is None
    assert label_key_problem("a" * 64) == f"key name {'a' * 64!r} is 64 characters; at most 63"
    assert label_key_problem("example.com/") == "key must not be empty"
    assert label_key_problem("x" * 254 + "/a") is not None


def test_unknown_fields_suggest_the_closest() -> None:
    assert spec_problems("""\
        schedule: "0 2 * * *"
        concurencyPolicy: Forbid
        TimeZone: UTC
        backend:
          typ: gitlab-ci
        jobTemplate:
          profle: fast
          options:
            failOn: HIGH
        """) == [
        "schedules.yaml:7:3: spec.concurencyPolicy: unknown field (did you mean concurrencyPolicy?)",
        "schedules.yaml:8:3: spec.TimeZone: unknown field (did you mean timezone?)",
        "schedules.yaml:10:5: spec.backend.typ: unknown field (did you mean type?)",
        "schedules.yaml:12:5: spec.jobTemplate.profle: unknown field (did you mean profile?)",
        "schedules.yaml:14:7: spec.jobTemplate.options.failOn: unknown field (did you mean fail_on?)",
    ]


def test_unknown_field_without_a_close_match_lists_the_fields() -> None:
    assert problems(HEAD + '  schedule: "0 2 * * *"\n  zzz: 1\n') == [
        "schedules.yaml:7:3: spec.zzz: unknown field (expected one of: schedule, timezone, suspend, concurrencyPolicy, "
        "startingDeadlineSeconds, successfulJobsHistoryLimit, failedJobsHistoryLimit, backend, jobTemplate)"
    ]
    assert suggest("Concurrency_Policy", ("concurrencyPolicy",)) == "concurrencyPolicy"


def test_time_zone() -> None:
    assert spec_problems('schedule: "0 2 * * *"\ntimezone: Mars/Base\n') == [
        "schedules.yaml:7:13: spec.timezone: unknown time zone 'Mars/Base' (use an IANA name such as Europe/London)"
    ]
    assert spec_problems('schedule: "0 2 * * *"\ntimezone: america/new_york\n') == [
        "schedules.yaml:7:13: spec.timezone: unknown time zone 'america/new_york' (did you mean America/New_York?)"
    ]
    assert spec_problems('schedule: "0 2 * * *"\ntimezone: "../../etc/passwd"\n') == [
        "schedules.yaml:7:13: spec.timezone: unknown time zone '../../etc/passwd' (use an IANA name such as "
        "Europe/London)"
    ]
    assert spec_problems('schedule: "0 2 * * *"\ntimezone: ""\n') == ["schedules.yaml:7:13: spec.timezone: must not be empty"]
    assert spec_problems('schedule: "0 2 * * *"\ntimezone: Asia/Kolkata\n') == []
    # Names only some machines have, or that mean different zones on different machines.
    assert spec_problems('schedule: "0 2 * * *"\ntimezone: localtime\n') == [
        "schedules.yaml:7:13: spec.timezone: time zone 'localtime' is a file of this machine's zone database, not a "
        "zone: it means different zones on different machines; use an IANA name such as Europe/London"
    ]
    assert spec_problems('schedule: "0 2 * * *"\ntimezone: right/Europe/London\n') == [
        "schedules.yaml:7:13: spec.timezone: time zone 'right/Europe/London' is a copy of Europe/London that only some "
        "machines have (counting leap seconds); write Europe/London"
    ]
    assert spec_problems('schedule: "0 2 * * *"\ntimezone: US/Eastern\n') == []


def test_enums() -> None:
    assert spec_problems("""\
        schedule: "0 2 * * *"
        concurrencyPolicy: forbid
        backend: {type: jenkins}
        jobTemplate:
          profile: ultra
          options: {fail_on: high, log_level: TRACE}
        """) == [
        "schedules.yaml:7:22: spec.concurrencyPolicy: 'forbid' is not one of Forbid, Allow, Replace",
        "schedules.yaml:8:19: spec.backend.type: 'jenkins' is not one of github-actions, gitlab-ci, local-cron, kubernetes",
        "schedules.yaml:10:14: spec.jobTemplate.profile: 'ultra' is not one of fast, slim, balanced, deep",
        "schedules.yaml:11:24: spec.jobTemplate.options.fail_on: 'high' is not one of CRITICAL, HIGH, MEDIUM, LOW, INFO",
        "schedules.yaml:11:41: spec.jobTemplate.options.log_level: 'TRACE' is not one of DEBUG, INFO, WARN, ERROR",
    ]
    assert spec_problems('schedule: "0 2 * * *"\nconcurrencyPolicy: 3\n') == [
        "schedules.yaml:7:22: spec.concurrencyPolicy: a number is not one of Forbid, Allow, Replace"
    ]


def test_number_ranges_and_types() -> None:
    assert spec_problems("""\
        schedule: "0 2 * * *"
        suspend: "yes"
        startingDeadlineSeconds: -1
        successfulJobsHistoryLimit: 3.5
        failedJobsHistoryLimit: 10001
        jobTemplate:
          options: {threads: 0, timeout: "60", allow_missing_tools: 1}
        """) == [
        "schedules.yaml:7:12: spec.suspend: expected true or false, got a string",
        "schedules.yaml:8:28: spec.startingDeadlineSeconds: -1 is less than 0",
        "schedules.yaml:9:31: spec.successfulJobsHistoryLimit: expected a whole number, got 3.5",
        "schedules.yaml:10:27: spec.failedJobsHistoryLimit: 10001 is outside 0-10000",
        "schedules.yaml:12:24: spec.jobTemplate.options.threads: 0 is outside 1-256",
        "schedules.yaml:12:36: spec.jobTemplate.options.timeout: expected a whole number, got a string",
        "schedules.yaml:12:63: spec.jobTemplate.options.allow_missing_tools: expected true or false, got a number",
    ]
    assert spec_problems('schedule: "0 2 * * *"\nstartingDeadlineSeconds: 0\nsuccessfulJobsHistoryLimit: 0\n') == []


def test_targets_types_and_exclusions() -> None:
    assert spec_problems("""\
        schedule: "0 2 * * *"
        jobTemplate:
          targets:
            repo: .
            repos_dir: /repos
            images: nginx:1.27
            urls: []
            k8s_all_namespaces: "true"
            k8s_namespace: default
            api_spec: [a]
            hosts: x
        """) == [
        "schedules.yaml:10:7: spec.jobTemplate.targets.repos_dir: repo and repos_dir cannot be combined: the scanner "
        "takes one of --repo, --repos-dir or --targets",
        "schedules.yaml:11:15: spec.jobTemplate.targets.images: expected a list of strings, got a string",
        "schedules.yaml:12:13: spec.jobTemplate.targets.urls: must not be an empty list",
        "schedules.yaml:13:7: spec.jobTemplate.targets.k8s_all_namespaces: k8s_namespace and k8s_all_namespaces "
        "cannot be combined; use one of them",
        "schedules.yaml:13:27: spec.jobTemplate.targets.k8s_all_namespaces: expected true or false, got a string",
        "schedules.yaml:15:17: spec.jobTemplate.targets.api_spec: expected a string, got a list",
        "schedules.yaml:16:7: spec.jobTemplate.targets.hosts: unknown field (expected one of: repo, repos_dir, "
        "targets_file, images, images_file, urls, urls_file, api_spec, k8s_context, k8s_namespace, k8s_all_namespaces)",
    ]
    assert spec_problems("""\
        schedule: "0 2 * * *"
        jobTemplate:
          targets: {images: [nginx, 3], images_file: f.txt}
        """) == [
        "schedules.yaml:8:31: spec.jobTemplate.targets.images[1]: expected a string, got a number",
        "schedules.yaml:8:35: spec.jobTemplate.targets.images_file: images and images_file cannot be combined; use "
        "one of them",
    ]


def test_options_and_sections_must_be_mappings() -> None:
    assert spec_problems("""\
        schedule: "0 2 * * *"
        backend: gitlab-ci
        jobTemplate:
          targets: [a]
          options: fail_on=HIGH
          results: {dir: 5}
        """) == [
        "schedules.yaml:7:12: spec.backend: expected a mapping, got a string",
        "schedules.yaml:9:14: spec.jobTemplate.targets: expected a mapping, got a list",
        "schedules.yaml:10:14: spec.jobTemplate.options: expected a mapping, got a string",
        "schedules.yaml:11:20: spec.jobTemplate.results.dir: expected a string, got a number",
    ]


def test_backend_config_per_type() -> None:
    assert spec_problems("""\
        schedule: "0 2 * * *"
        backend:
          type: gitlab-ci
          config:
            image: ghcr.io/jimmy058910/jmo-security:slim
            tags: docker
            timeout: soon
            retry: {max: 3, when: [bad_reason]}
            runs-on: ubuntu-latest
        """) == [
        "schedules.yaml:11:13: spec.backend.config.tags: expected a list of strings, got a string",
        "schedules.yaml:12:16: spec.backend.config.timeout: 'soon' is not a duration such as 1h, 30m or \"1h 30m\"",
        "schedules.yaml:13:20: spec.backend.config.retry.max: 3 is outside 0-2",
        "schedules.yaml:13:30: spec.backend.config.retry.when[0]: 'bad_reason' is not one of always, unknown_failure, "
        "script_failure, api_failure, stuck_or_timeout_failure, runner_system_failure, runner_unsupported, "
        "stale_schedule, job_execution_timeout, archived_failure, unmet_prerequisites, scheduler_failure, "
        "data_integrity_failure",
        "schedules.yaml:14:7: spec.backend.config.runs-on: unknown field (expected one of: image, tags, timeout, "
        "retry, ref, stage)",
    ]


@pytest.mark.parametrize(("stage", "problem"), [
    ("scan", None),
    ("security scans", None),
    (".pre", "schedules.yaml:10:14: spec.backend.config.stage: .pre: GitLab does not run a pipeline that has only "
             ".pre/.post jobs, so the scan might never run; use a stage from your stages: list (default test)"),
    (".post", "schedules.yaml:10:14: spec.backend.config.stage: .post: GitLab does not run a pipeline that has only "
              ".pre/.post jobs, so the scan might never run; use a stage from your stages: list (default test)"),
    ('""', "schedules.yaml:10:14: spec.backend.config.stage: must not be empty"),
    ("[test]", "schedules.yaml:10:14: spec.backend.config.stage: expected a string, got a list"),
])
def test_gitlab_stage(stage: str, problem: str | None) -> None:
    assert spec_problems(f"""\
        schedule: "0 2 * * *"
        backend:
          type: gitlab-ci
          config:
            stage: {stage}
        """) == ([problem] if problem else [])


@pytest.mark.parametrize(("deadline", "backend", "warned"), [
    (300, "gitlab-ci", True),
    (0, "gitlab-ci", True),
    (899, "gitlab-ci", True),
    (900, "gitlab-ci", False),
    (3600, "gitlab-ci", False),
    (300, "kubernetes", False),  # a CronJob controller starts jobs on time
    (300, "local-cron", False),
])
def test_short_deadline_on_a_late_starting_scheduler_warns_with_the_line(deadline: int, backend: str, warned: bool) -> None:
    found = spec_problems(f"""\
        schedule: "5 2 * * *"
        startingDeadlineSeconds: {deadline}
        backend: {{type: {backend}}}
        """)
    assert found == ([
        f"schedules.yaml:7:28: warning: spec.startingDeadlineSeconds: {deadline} is under 15 minutes: GitLab's pipeline "
        "schedule worker starts scheduled pipelines on its own cadence (every 5 minutes on GitLab.com, every 10 by "
        "default on GitLab Self-Managed), later under load, so the guard would skip runs that only started late; use "
        "900 or more"] if warned else [])


def test_guide_backend_config_is_valid() -> None:
    assert spec_problems("""\
        schedule: "0 2 * * *"
        backend:
          type: gitlab-ci
          config:
            image: ghcr.io/jimmy058910/jmo-security:slim
            tags: [docker, linux]
            timeout: 1h
            retry: {max: 2, when: [runner_system_failure]}
        """) == []


def test_committed_webhook_url_is_an_error_that_never_echoes_it() -> None:
    secret = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
    text = HEAD + textwrap.indent(textwrap.dedent(f"""\
        schedule: "0 2 * * *"
        jobTemplate:
          notifications:
            enabled: true
            channels:
              - type: slack
                url: {secret}
        """), "  ")
    found = problems(text)
    assert found == [
        "schedules.yaml:12:16: spec.jobTemplate.notifications.channels[0].url: a committed file must not hold a "
        "webhook URL; write url: ${SLACK_WEBHOOK_URL} and set SLACK_WEBHOOK_URL as a CI secret"
    ]
    assert "hooks.slack.com" not in "".join(found) and "XXXX" not in "".join(found)
    # The local store may hold one (committed=False).
    assert problems(text, committed=False) == []


def test_notification_channels() -> None:
    assert spec_problems("""\
        schedule: "0 2 * * *"
        jobTemplate:
          notifications:
            enabled: "yes"
            channels:
              - type: email
                url: ${SLACK_WEBHOOK_URL}
              - url: ${SLACK_WEBHOOK_URL}
              - type: slack
              - type: slack
                url: 42
                token: x
        """) == [
        "schedules.yaml:9:16: spec.jobTemplate.notifications.enabled: expected true or false, got a string",
        "schedules.yaml:11:17: spec.jobTemplate.notifications.channels[0].type: 'email' is not one of slack",
        "schedules.yaml:13:11: spec.jobTemplate.notifications.channels[1]: type is required (type: slack)",
        "schedules.yaml:14:11: spec.jobTemplate.notifications.channels[2]: url is required (url: ${SLACK_WEBHOOK_URL})",
        "schedules.yaml:16:16: spec.jobTemplate.notifications.channels[3].url: expected a string, got a number",
        "schedules.yaml:17:11: spec.jobTemplate.notifications.channels[3].token: unknown field (expected one of: "
        "type, url, events, minSeverity)",
    ]
    assert spec_problems('schedule: "0 2 * * *"\njobTemplate: {notifications: {channels: x}}\n') == [
        "schedules.yaml:7:43: spec.jobTemplate.notifications.channels: expected a list of channels, got a string"
    ]


def test_channel_events_and_min_severity() -> None:
    assert spec_problems("""\
        schedule: "0 2 * * *"
        jobTemplate:
          notifications:
            channels:
              - type: slack
                url: ${SLACK_A}
                events: [success, new-finding, failure, failure, 3]
                minSeverity: high
              - type: slack
                url: ${SLACK_B}
                events: missed
              - type: slack
                url: ${SLACK_C}
                events: []
                minSevrity: LOW
              - type: slack
                url: ${SLACK_D}
                events: [new-findings, skipped, missed]
                minSeverity: MEDIUM
        """) == [
        "schedules.yaml:12:29: spec.jobTemplate.notifications.channels[0].events[1]: 'new-finding' is not one of "
        "success, failure, new-findings, skipped, missed (did you mean new-findings?)",
        "schedules.yaml:12:51: spec.jobTemplate.notifications.channels[0].events[3]: failure is listed twice",
        "schedules.yaml:12:60: spec.jobTemplate.notifications.channels[0].events[4]: a number is not one of "
        "success, failure, new-findings, skipped, missed",
        "schedules.yaml:13:24: spec.jobTemplate.notifications.channels[0].minSeverity: 'high' is not one of "
        "CRITICAL, HIGH, MEDIUM, LOW, INFO",
        "schedules.yaml:16:19: spec.jobTemplate.notifications.channels[1].events: expected a list such as "
        "[success, failure], got a string",
        "schedules.yaml:19:19: spec.jobTemplate.notifications.channels[2].events: must not be an empty list",
        "schedules.yaml:20:11: spec.jobTemplate.notifications.channels[2].minSevrity: unknown field "
        "(did you mean minSeverity?)",
    ]


def test_local_store_url_rules() -> None:
    base = 'schedule: "0 2 * * *"\njobTemplate: {notifications: {channels: [{type: slack, url: "%s"}]}}\n'
    assert spec_problems(base % "ftp://x", committed=False) == [
        "schedules.yaml:7:63: spec.jobTemplate.notifications.channels[0].url: must be an https:// webhook URL or a "
        "${VAR} reference"
    ]
    assert spec_problems(base % "https://x/${A}", committed=False) == [
        "schedules.yaml:7:63: spec.jobTemplate.notifications.channels[0].url: must be a whole ${VAR} reference or an "
        "https URL"
    ]


@pytest.mark.parametrize(("name", "rule"), [
    ("PATH", "PATH"), ("HOME", "HOME"), ("BASH_ENV", "BASH_ENV"), ("https_proxy", "https_proxy"), ("CI", "CI"),
    ("JMO_SCANNER", "JMO_*"), ("CI_JOB_TOKEN", "CI_*"), ("GITHUB_TOKEN", "GITHUB_*"), ("GITLAB_CI", "GITLAB_*"),
    ("LD_PRELOAD", "LD_*"), ("PYTHONPATH", "PYTHON*"), ("PIP_INDEX_URL", "PIP_*"), ("RUNNER_TEMP", "RUNNER_*"),
])
def test_a_channel_may_not_name_a_variable_the_job_uses(name: str, rule: str) -> None:
    base = 'schedule: "0 2 * * *"\njobTemplate: {notifications: {channels: [{type: slack, url: "%s"}]}}\n'
    for committed in (True, False):  # the local store's run puts it in notify's environment too
        assert spec_problems(base % f"${{{name}}}", committed=committed) == [
            f"schedules.yaml:7:63: spec.jobTemplate.notifications.channels[0].url: ${{{name}}} names a variable the "
            f"job itself uses ({rule}), which the secret would replace there; name the secret something else, such as "
            "SLACK_WEBHOOK_URL"
        ]


@pytest.mark.parametrize("name", ["SLACK_WEBHOOK_URL", "PATHS", "CIRCLE", "path", "HOMEBREW_HOOK", "JMO", "MY_CI_HOOK"])
def test_a_channel_may_name_any_other_variable(name: str) -> None:
    base = 'schedule: "0 2 * * *"\njobTemplate: {notifications: {channels: [{type: slack, url: "%s"}]}}\n'
    assert spec_problems(base % f"${{{name}}}") == []


def test_github_actions_more_often_than_5_minutes_is_a_warning() -> None:
    result = check_text(HEAD + '  schedule: "*/2 * * * *"\n  backend: {type: github-actions}\n', "schedules.yaml")
    assert result.errors == []
    assert [str(p) for p in result.warnings] == [
        "schedules.yaml:6:13: warning: spec.schedule: fires more often than every 5 minutes; GitHub Actions runs "
        "schedules at most every 5 minutes"
    ]
    assert len(result.schedules) == 1
    for fine in ("2-59/5 * * * *", "3,8 * * * *", "58 * * * *"):
        assert problems(HEAD + f'  schedule: "{fine}"\n  backend: {{type: github-actions}}\n') == [], fine
    # Other backends: no warning.
    assert problems(HEAD + '  schedule: "* * * * *"\n  backend: {type: gitlab-ci}\n') == []
    # 59 past and 0 past the next hour are one minute apart.
    assert len(problems(HEAD + '  schedule: "0,59 * * * *"\n  backend: {type: github-actions}\n')) == 1


@pytest.mark.parametrize(("cron", "spread"), [("0 2 * * *", "H 2 * * *"), ("*/15 * * * *", "H/15 * * * *"),
                                             ("0,30 9-17 * * 1-5", "H/30 9-17 * * 1-5"), ("@daily", "H 0 * * *"),
                                             ("0,7 * * * *", None)])
def test_github_actions_cron_at_minute_0_is_a_warning(cron: str, spread: str | None) -> None:
    suggestion = f" ({spread})" if spread else ""
    assert problems(HEAD + f'  schedule: "{cron}"\n  backend: {{type: github-actions}}\n') == [
        "schedules.yaml:6:13: warning: spec.schedule: fires at minute 0, when GitHub Actions is busiest: scheduled "
        f"runs start late or are dropped most then; write the minute as H{suggestion} to spread it, or pick another "
        "minute such as 17"]
    # Loading warns about GitHub's minute 0 only; `validate`'s lint adds GitLab and minute 30 (test_lint.py).
    assert problems(HEAD + f'  schedule: "{cron}"\n  backend: {{type: gitlab-ci}}\n') == []


def test_short_deadline_on_github_actions_warns_with_the_line() -> None:
    text = HEAD + '  schedule: "17 2 * * *"\n  startingDeadlineSeconds: 300\n  backend: {type: github-actions}\n'
    assert problems(text) == [
        "schedules.yaml:7:28: warning: spec.startingDeadlineSeconds: 300 is under 15 minutes: GitHub Actions starts "
        "scheduled runs late at busy times (the start of every hour most) and may drop them, so the guard would skip "
        "runs that only started late; use 900 or more"]
    for fine in ("900", "3600"):
        assert problems(text.replace("300", fine)) == [], fine


def test_platform_warnings_take_the_backends_they_apply_to() -> None:
    from jmo_schedule.core.validate import Checker, platform_warnings

    c = Checker("s.yaml", None, committed=True)
    spec = {"schedule": "17 2 * * *", "startingDeadlineSeconds": 60}
    platform_warnings(c, spec, ("spec",), "kubernetes", {"kubernetes": "a test scheduler is slow"})
    platform_warnings(c, spec, ("spec",), "github-actions", {})
    assert [str(p) for p in c.problems] == [
        "s.yaml: warning: spec.startingDeadlineSeconds: 60 is under 15 minutes: a test scheduler is slow, so the "
        "guard would skip runs that only started late; use 900 or more"]


def test_github_code_scanning_is_a_boolean() -> None:
    base = 'schedule: "17 2 * * *"\nbackend: {type: github-actions, config: {codeScanning: %s}}\n'
    assert spec_problems(base % "false") == []
    assert spec_problems(base % "'no'") == [
        "schedules.yaml:7:58: spec.backend.config.codeScanning: expected true or false, got a string"]


def test_timestamps_take_ascii_digits_only() -> None:
    text = HEAD.replace("  name: weekly-scan\n", "  name: weekly-scan\n  creationTimestamp: '\u0662\u0660\u0662\u0666-03-08T07:00:00Z'\n")
    assert problems(text + '  schedule: "0 2 * * 1"\nstatus:\n  lastScheduleTime: "2026-03-08T07:00:0\u0663Z"\n',
                    committed=False) == [
        "schedules.yaml:5:22: metadata.creationTimestamp: '\u0662\u0660\u0662\u0666-03-08T07:00:00Z' is not an RFC 3339 "
        "time such as 2025-10-29T02:00:00Z",
        "schedules.yaml:9:21: status.lastScheduleTime: '2026-03-08T07:00:0\u0663Z' is not an RFC 3339 time such as "
        "2025-10-29T02:00:00Z",
    ]


def test_gitlab_durations_take_ascii_digits_only() -> None:
    assert spec_problems('schedule: "0 2 * * *"\nbackend: {type: gitlab-ci, config: {timeout: "\u0661h"}}\n') == [
        "schedules.yaml:7:48: spec.backend.config.timeout: '\u0661h' is not a duration such as 1h, 30m or \"1h 30m\""]


def test_a_huge_number_from_python_is_a_problem_not_a_crash() -> None:
    schedule = ScanSchedule(ScheduleMetadata("a"), ScheduleSpec("0 2 * * 1", startingDeadlineSeconds=10**5000))
    assert [str(p) for p in schedule_problems(schedule)] == [
        "<schedule a>: spec.startingDeadlineSeconds: is too large for any field"]


def test_a_kubernetes_schedules_name_fits_its_cronjob_name() -> None:
    def named(name: str, backend: str) -> list[str]:
        return problems(HEAD.replace("weekly-scan", name) + f'  schedule: "17 2 * * *"\n  backend: {{type: {backend}}}\n')

    assert named("a" * 49, "kubernetes") == [
        "schedules.yaml:4:9: metadata.name: is 49 characters; the kubernetes backend names its CronJob jmo-<name> and "
        "Kubernetes allows CronJob names of at most 52 characters (it appends 11 to name each Job), so a kubernetes "
        "schedule's name has at most 48"]
    assert named("a" * 48, "kubernetes") == []
    assert named("a" * 63, "github-actions") == []
    assert named("a" * 64, "kubernetes") == ["schedules.yaml:4:9: metadata.name: is 64 characters; a name has at most 63"]


def test_a_gitlab_tag_holds_no_variable_reference() -> None:
    # GitLab expands $NAME, ${NAME} and %NAME% in tags itself, with no escape: `$$b` still
    # expands $b. A `$` before no name stays as written.
    def tags(flow: str) -> list[str]:
        return spec_problems(f'schedule: "0 2 * * *"\nbackend: {{type: gitlab-ci, config: {{tags: {flow}}}}}\n')

    assert tags('[ok, "a$", "$1", "a$$b"]') == [
        "schedules.yaml:7:62: spec.backend.config.tags[3]: 'a$$b': GitLab replaces $NAME, ${NAME} and %NAME% in tags "
        "with CI/CD variables and has no escape for them; a tag cannot hold one"]
    assert tags('["${Y}"]') == [
        "schedules.yaml:7:46: spec.backend.config.tags[0]: '${Y}': GitLab replaces $NAME, ${NAME} and %NAME% in tags "
        "with CI/CD variables and has no escape for them; a tag cannot hold one"]
    assert tags('["%Path%"]') == [
        "schedules.yaml:7:46: spec.backend.config.tags[0]: '%Path%': GitLab replaces $NAME, ${NAME} and %NAME% in "
        "tags with CI/CD variables and has no escape for them; a tag cannot hold one"]
    assert tags('["a$", "$1", "100%"]') == []


# C0 and C1 controls (ESC and the one-character CSI start terminal escape sequences) and the
# characters YAML 1.1 readers take for line breaks (NEL, U+2028, U+2029).
ONE_LINE_BREAKERS = ["\\n", "\\x1b", "\\x7f", "\\x85", "\\x9b", "\\u2028", "\\u2029"]


@pytest.mark.parametrize("char", ONE_LINE_BREAKERS)
def test_text_values_are_one_line_of_text(char: str) -> None:
    assert problems(f"""\
        apiVersion: jmo.security/v1alpha1
        kind: ScanSchedule
        metadata:
          name: weekly-scan
          annotations: {{description: "nightly{char}scan"}}
        spec:
          schedule: "0 2 * * 1"
          backend:
            type: gitlab-ci
            config:
              tags: ["a{char}"]
              image: "alpine{char}"
          jobTemplate: {{targets: {{repo: "{char}."}}}}
        """) == [
        "schedules.yaml:5:30: metadata.annotations.description: must not contain a newline or other control character",
        "schedules.yaml:11:14: spec.backend.config.tags[0]: must not contain a newline or other control character",
        "schedules.yaml:12:14: spec.backend.config.image: must not contain a newline or other control character",
        "schedules.yaml:13:33: spec.jobTemplate.targets.repo: must not contain a newline or other control character",
    ]


def test_messages_never_carry_a_terminal_escape_or_a_line_break() -> None:
    found = problems('apiVersion: jmo.security/v1alpha1\nkind: ScanSchedule\nmetadata: {name: "a\\x1b[2J\\u2028b"}\n'
                     'spec: {schedule: "0 2 * * 1", "x\\x9b31m\\x85y": 1}\n')
    assert found == [
        "schedules.yaml:3:18: metadata.name: 'a\\x1b[2J\\u2028b' is not a DNS-1123 label: use lowercase letters, "
        "digits and '-', starting and ending with a letter or digit",
        "schedules.yaml:4:31: spec[\"x\\x9b31m\\x85y\"]: unknown field (expected one of: schedule, timezone, suspend, "
        "concurrencyPolicy, startingDeadlineSeconds, successfulJobsHistoryLimit, failedJobsHistoryLimit, backend, "
        "jobTemplate)",
    ]

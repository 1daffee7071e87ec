"""`jmo-schedule describe`: one schedule in detail, with its next runs."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from typing import Any

from ..core.cron import describe, next_runs
from ..core.hcron import note
from ..core.masking import mask_url
from ..printable import printable
from ..core.timefmt import local_time, rfc3339
from ..local.resolve import schedules
from .options import add_file, add_now

DESCRIPTION = """\
Show one schedule in detail: metadata, spec in words, status conditions and the next
three runs (local time and UTC). Exit 0 found, 1 not found.

examples:
  jmo-schedule describe weekly-scan
  jmo-schedule describe nightly-scan -f schedules.yaml --now 2026-03-07T12:00:00Z"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")
    add_file(parser)
    add_now(parser)


def _kv(mapping: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in mapping.items()) or "<none>"


def run(args: argparse.Namespace) -> int:
    s = schedules(args.file).require(args.name)
    spec, job, meta = s.spec, s.spec.jobTemplate, s.metadata
    now = args.now or datetime.now(timezone.utc)
    lines = [
        f"Name:                 {meta.name}",
        f"Labels:               {_kv(meta.labels)}",
        f"Annotations:          {_kv(meta.annotations)}",
    ]
    if meta.uid:
        lines.append(f"UID:                  {meta.uid}")
    if meta.creationTimestamp:
        lines.append(f"Created:              {meta.creationTimestamp}")
    if meta.generation:
        lines.append(f"Generation:           {meta.generation}")
    deadline = f"{spec.startingDeadlineSeconds}s" if spec.startingDeadlineSeconds is not None else "<unset>"
    lines += [
        f"Schedule:             {spec.schedule}{note(spec)}",
        f"Description:          {describe(spec.schedule, spec.timezone)}",
        f"Timezone:             {spec.timezone}",
        f"Suspend:              {str(spec.suspend).lower()}",
        f"Concurrency Policy:   {spec.concurrencyPolicy}",
        f"Starting Deadline:    {deadline}",
        f"History Limits:       {spec.successfulJobsHistoryLimit} successful, {spec.failedJobsHistoryLimit} failed",
        f"Backend:              {spec.backend.type}{' ' + _kv(spec.backend.config) if spec.backend.config else ''}",
        f"Profile:              {job.profile}",
        f"Targets:              {_kv(job.targets)}",
        f"Results:              {job.results.get('dir', 'results')}",
        f"Options:              {_kv(job.options)}",
    ]
    notif = job.notifications or {}
    channels = notif.get("channels") or []
    if channels:
        enabled = "enabled" if notif.get("enabled", True) else "disabled"
        shown = ", ".join(f"{c.get('type')} {mask_url(str(c.get('url', '')))}" for c in channels)
        lines.append(f"Notifications:        {enabled}: {shown}")
    else:
        lines.append("Notifications:        <none>")
    st = s.status
    if not args.file:  # a committed file has no status
        lines.append("Status:")
        for c in st.conditions:
            lines.append(f"  {c.type}={c.status}  {c.reason}: {c.message} (since {c.lastTransitionTime})")
        lines.append(f"  Last Schedule:      {st.lastScheduleTime or '<never>'}")
        lines.append(f"  Last Successful:    {st.lastSuccessfulTime or '<never>'}")
        lines.append(f"  Active/Succeeded/Failed: {st.active}/{st.succeeded}/{st.failed}")
    if spec.suspend:
        lines.append("Next Runs:            <suspended>")
    else:
        lines.append("Next Runs:")
        for when in next_runs(spec.schedule, spec.timezone, now, 3):
            lines.append(f"  {local_time(when, spec.timezone)}  ({rfc3339(when)})")
    # Values (a status message, a path) print as one line without terminal escape sequences.
    sys.stdout.write("\n".join(printable(line) for line in lines) + "\n")
    return 0

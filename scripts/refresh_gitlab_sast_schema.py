"""Refresh the vendored GitLab SAST report schema (tests/data/gitlab-sast-report-format-<v>.json).

GitLab reads `artifacts: reports: sast:` only in its own security-report format; the tests
validate `jmo-schedule convert --to gitlab-sast` output against this schema. Run with the
schema version GitLab documents as current, then update
`jmo_schedule.pipeline.gitlab_reports.SAST_SCHEMA_VERSION` and the tests to the same version:

    python scripts/refresh_gitlab_sast_schema.py 15.2.1
"""
from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

URL = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v{v}/dist/sast-report-format.json"
OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "gitlab-sast-report-format-{v}.json"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    version = argv[0]
    with urllib.request.urlopen(URL.format(v=version), timeout=60) as resp:  # noqa: S310 (fixed https URL)
        text = resp.read().decode("utf-8")
    schema = json.loads(text)
    if schema.get("self", {}).get("version") != version:
        print(f"downloaded schema says version {schema.get('self')!r}, expected {version}", file=sys.stderr)
        return 1
    OUT.with_name(OUT.name.format(v=version)).write_text(text, encoding="utf-8")
    print(f"wrote {OUT.name.format(v=version)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

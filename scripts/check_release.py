#!/usr/bin/env python3
"""Check that a release tag, the package version and the GitLab component's pip-spec default
agree, before anything is published:

    python3 scripts/check_release.py v1.2.3    # GitHub release workflow (tag v1.x.y)
    python3 scripts/check_release.py 1.2.3     # GitLab catalog release (tag 1.x.y)

src/jmo_schedule/_version.py is the one version: the wheel and the sdist carry it, generated
pipelines install `jmo-schedule==` it, and the component released at tag 1.2.3 installs
`jmo-schedule==1.2.3` by default. Standard library only (the release images have nothing else).
Exit 0 when they agree; 1 with one line per disagreement.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION_FILE = ROOT / "src" / "jmo_schedule" / "_version.py"
TEMPLATE = ROOT / "templates" / "gitlab-component" / "template.yml"


def package_version() -> str:
    m = re.search(r'^__version__ = "([^"]+)"$', VERSION_FILE.read_text(encoding="utf-8"), re.M)
    return m.group(1) if m else ""


def pip_spec_default() -> str:
    """The `default:` of the component's `pip-spec` input (a plain scalar in the spec header)."""
    m = re.search(r"^    pip-spec:\n(?:      .*\n)*?      default: (\S+)$", TEMPLATE.read_text(encoding="utf-8"), re.M)
    return m.group(1) if m else ""


def problems(tag: str) -> list[str]:
    version = tag[1:] if tag.startswith("v") else tag
    out = []
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        out.append(f"tag {tag} is not a release tag (1.x.y on GitLab, v1.x.y on GitHub)")
    if package_version() != version:
        out.append(f"tag {tag} but {VERSION_FILE.relative_to(ROOT)} says {package_version() or 'nothing'}")
    if pip_spec_default() != f"jmo-schedule=={version}":
        out.append(f"tag {tag} but the component's pip-spec default is {pip_spec_default() or 'missing'} "
                   f"(set it to jmo-schedule=={version} in {TEMPLATE.relative_to(ROOT)})")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: check_release.py TAG", file=sys.stderr)
        return 2
    found = problems(argv[0])
    for line in found:
        print(f"check_release: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""The one table of third-party GitHub actions this project uses, each pinned to the full
commit SHA of a release tag.

Generated workflows, action.yml and this repository's own workflows all write `uses:` from
here (`uses: <action>@<sha> # <tag>`), and a test holds every `uses:` in the repository and
in every generated file to this table. Repositories and organisations can require every
action to be pinned to a full commit SHA (a tag reference then fails the run), and
composite actions are held to the same rule, so action.yml pins too.

Each SHA is the commit the release tag points at in the action's own repository
(`git show-ref --tags`, an annotated tag dereferenced to its commit); refresh a row by
reading the tag again, never by hand-typing a hash.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pin:
    action: str  # owner/repo or owner/repo/path
    sha: str  # full commit SHA of `version`
    version: str  # the release tag, written as the trailing `# vX.Y.Z` comment

    @property
    def uses(self) -> str:
        """`owner/repo[/path]@<sha>`, the value of `uses:`."""
        return f"{self.action}@{self.sha}"

    @property
    def line(self) -> str:
        """`owner/repo@<sha> # vX.Y.Z`, as written after `uses:` in YAML files."""
        return f"{self.uses} # {self.version}"


CHECKOUT = Pin("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1")
SETUP_PYTHON = Pin("actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0")
CACHE = Pin("actions/cache", "27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5")
UPLOAD_ARTIFACT = Pin("actions/upload-artifact", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0")
UPLOAD_SARIF = Pin("github/codeql-action/upload-sarif", "8aad20d150bbac5944a9f9d289da16a4b0d87c1e", "v4.36.2")
CREATE_PULL_REQUEST = Pin("peter-evans/create-pull-request", "5f6978faf089d4d20b00c7766989d076bb2fc7f1", "v8.1.1")
SETUP_UV = Pin("astral-sh/setup-uv", "20cfd1bf945f4377ade1205e4dbc17946fc9a30d", "v10.0.1")
# This repository's release workflow.
DOWNLOAD_ARTIFACT = Pin("actions/download-artifact", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1")
PYPI_PUBLISH = Pin("pypa/gh-action-pypi-publish", "dc37677b2e1c63e2034f94d8a5b11f265b73ba33", "v1.14.2")

PINS: dict[str, Pin] = {
    p.action: p for p in (CHECKOUT, SETUP_PYTHON, CACHE, UPLOAD_ARTIFACT, UPLOAD_SARIF, CREATE_PULL_REQUEST, SETUP_UV,
                          DOWNLOAD_ARTIFACT, PYPI_PUBLISH)
}

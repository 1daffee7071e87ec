"""Which repository a schedules file belongs to, spelled the same on a laptop and in CI.

`H` in a cron hashes this identity (with the schedule's name), so the generated files
(written by `sync` on a laptop or in the sync job) and the guard (inside the scan job)
must find the same string. It is `host/path`, lower case, without scheme, port,
credentials or `.git`:

    git@github.com:Acme/App.git                    -> github.com/acme/app
    https://user:tok@github.com/acme/app           -> github.com/acme/app
    GITHUB_SERVER_URL + GITHUB_REPOSITORY          -> github.com/acme/app
    CI_SERVER_HOST + CI_PROJECT_PATH (GitLab CI)   -> gitlab.example.com/group/app

Ports are dropped because ssh and https reach one repository on different ports; case is
dropped because GitHub and GitLab match owner and project names case-insensitively while
a clone URL keeps whatever case was typed. Order: `$JMO_SCHEDULE_REPOSITORY` (a pin, e.g.
in a fork's clone), the `origin` remote of the git repository holding the file, the CI
system's variables, and last the file's path relative to its repository (a repository
without any remote, outside CI).
"""
from __future__ import annotations

import functools
import os
import re
import subprocess

TYPE_CHECKING = False  # typing is not imported at run time: `validate` start-up time
if TYPE_CHECKING:
    from collections.abc import Mapping

PIN_VAR = "JMO_SCHEDULE_REPOSITORY"
# The CI variables `from_ci_env` reads (and `identify` caches on).
CI_VARS = ("GITHUB_ACTIONS", "GITHUB_RUN_ID", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
           "GITLAB_CI", "CI_PIPELINE_ID", "CI_SERVER_HOST", "CI_SERVER_URL", "CI_PROJECT_PATH")
_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?(?P<host>[^/:\[\]]+):(?!//)(?P<path>.+)$")


def normalize_remote(url: str) -> str | None:
    """`host/path` for a remote URL (https, http, ssh, git, scp-like `user@host:path`);
    None for a local path or a URL without a host and a path."""
    text = url.strip()
    if not text or text.startswith(("/", ".", "~", "file:")):
        return None
    if "://" in text:
        netloc, _, path = text.partition("://")[2].partition("/")
        host = netloc.rpartition("@")[2]  # without user:password (which may hold anything but '@')
        host = host.partition("]")[0] + "]" if host.startswith("[") else host.partition(":")[0]  # without the port
    else:
        match = _SCP_LIKE.match(text)
        if match is None:
            return None
        host, path = match.group("host"), match.group("path")
    return _join(host, path)


def _join(host: str | None, path: str | None) -> str | None:
    if not host or not path:
        return None
    path = path.strip("/")
    if path.lower().endswith(".git"):
        path = path[:-4].rstrip("/")
    if not path:
        return None
    return f"{host.lower().rstrip('.')}/{path.lower()}"


def from_ci_env(env: Mapping[str, str]) -> str | None:
    """The identity the CI system's own variables give (GitHub Actions, GitLab CI), or None."""
    from urllib.parse import urlsplit

    from .ci_provider import GITHUB, GITLAB, provider

    where = provider(env)
    if where == GITHUB and env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL") or "https://github.com"
        return _join(urlsplit(server).hostname, env["GITHUB_REPOSITORY"])
    if where == GITLAB and env.get("CI_PROJECT_PATH"):
        host = env.get("CI_SERVER_HOST") or urlsplit(env.get("CI_SERVER_URL") or "").hostname
        return _join(host, env["CI_PROJECT_PATH"])
    return None


def identify(path: str, env: Mapping[str, str] | None = None) -> str:
    """The repository identity for the schedules file at `path` (see the module docstring)."""
    env = os.environ if env is None else env
    pinned = (env.get(PIN_VAR) or "").strip()
    if pinned:
        return normalize_remote(pinned) or normalize_remote(f"https://{pinned}") or pinned
    return _identify(os.path.abspath(path), tuple(env.get(k) or "" for k in CI_VARS))


# Cached per process: a file's repository does not change while a command runs, and sync
# loads earlier versions of the file too.
@functools.lru_cache(maxsize=64)
def _identify(path: str, ci: tuple[str, ...]) -> str:
    folder = os.path.dirname(path)
    remote = _git(folder, "config", "--get", "remote.origin.url")
    found = normalize_remote(remote) if remote else None
    if found:
        return found
    found = from_ci_env({k: v for k, v in zip(CI_VARS, ci) if v})
    if found:
        return found
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top:
        return os.path.relpath(path, top).replace(os.sep, "/")
    return os.path.basename(path)


def _git(folder: str, *args: str) -> str | None:
    """One line of git's output in `folder`, or None (no git, not a repository, no such key)."""
    if not os.path.isdir(folder):
        return None
    try:
        proc = subprocess.run(["git", "-C", folder, *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    out = proc.stdout.strip()
    return out if proc.returncode == 0 and out else None

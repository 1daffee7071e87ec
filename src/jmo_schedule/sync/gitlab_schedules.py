"""GitLab pipeline schedules from `schedules.yaml`, through the REST API.

`.gitlab-ci.yml` cannot hold a schedule: GitLab keeps them in the project
(`/projects/:id/pipeline_schedules`). Every `gitlab-ci` ScanSchedule becomes one pipeline
schedule whose description is `jmo-schedule: <name>` (plus ` (<description annotation>)`),
with cron, cron_timezone, ref and `active` (not suspend). The generated jobs are selected by
that description, which GitLab 17.8 and later hands to the pipeline as
$CI_PIPELINE_SCHEDULE_DESCRIPTION (`description_pattern` is the rule's regex).

No schedule variable is set by default: schedule variables count as pipeline variables, and
a top-level group whose "Minimum role to use pipeline variables" is "No one allowed" (the
default for new groups on GitLab.com) refuses to start a pipeline that has any. The
`JMO_SCHEDULE=<name>` variable earlier versions set is removed from our schedules, unless
`legacy_variable` asks for it (GitLab before 17.8 has no description variable). Schedules are
matched by the description prefix, so a rerun changes nothing, and a schedule without the
prefix (made by someone else) is never touched.

`plan()` is pure (existing schedules + wanted ones -> actions); `GitLabClient` speaks
HTTP; `apply()` carries a plan out. The token travels only in the PRIVATE-TOKEN header
and never appears in output or in an error message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from ..errors import GitLabError, JmoError

if TYPE_CHECKING:
    import requests

    from ..core.model import ScanSchedule

DESCRIPTION_PREFIX = "jmo-schedule: "
VARIABLE = "JMO_SCHEDULE"
BACKEND = "gitlab-ci"
DEFAULT_TOKEN_VARIABLE = "JMO_GITLAB_TOKEN"
PER_PAGE = 100
TIMEOUT = 30.0
_NAME_AFTER_PREFIX = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\s|$)")


@dataclass(frozen=True)
class WantedSchedule:
    """The pipeline schedule one ScanSchedule calls for."""

    name: str
    description: str
    cron: str
    cron_timezone: str
    ref: str
    active: bool
    variables: Mapping[str, str]


@dataclass
class Action:
    """One step of a plan: create, update, delete or nothing, with what differs."""

    kind: str  # create | update | delete | unchanged
    name: str
    wanted: WantedSchedule | None = None
    schedule_id: int | None = None
    changes: list[str] = field(default_factory=list)  # fields to PUT
    variable_changes: dict[str, str | None] = field(default_factory=dict)  # key -> value, None = delete
    variables_present: frozenset[str] = frozenset()

    def describe(self) -> str:
        """One line for the log, e.g. `updated weekly-scan (schedule 14): cron, active`."""
        past = {"create": "created", "update": "updated", "delete": "deleted", "unchanged": "unchanged"}[self.kind]
        where = f" (schedule {self.schedule_id})" if self.schedule_id is not None else ""
        what = self.changes + [f"variable {k}" + (" removed" if v is None else "") for k, v in self.variable_changes.items()]
        return f"{past} {self.name}{where}" + (f": {', '.join(what)}" if what and self.kind == "update" else "")


def description_for(schedule: ScanSchedule) -> str:
    """`jmo-schedule: <name>` plus, when given, the schedule's description annotation."""
    text = DESCRIPTION_PREFIX + schedule.metadata.name
    extra = " ".join(str(schedule.metadata.annotations.get("description", "")).split())
    return f"{text} ({extra})" if extra else text


def description_pattern(name: str) -> str:
    """The RE2 regex (slashes included, for a `rules:if` `=~`) that matches exactly the
    descriptions `description_for` gives the schedule `name`, bare or annotated, and no
    other schedule's (`weekly` does not match `jmo-schedule: weekly-scan`). Names are
    DNS-1123 labels, so they need no escaping."""
    return f"/^{DESCRIPTION_PREFIX}{name}( \\(.*\\))?$/"


def schedule_name_from_env(env: Mapping[str, str]) -> str | None:
    """The ScanSchedule a scheduled GitLab pipeline runs for: from the pipeline schedule's
    description ($CI_PIPELINE_SCHEDULE_DESCRIPTION, GitLab 17.8+), else $JMO_SCHEDULE."""
    if (env.get("CI_PIPELINE_SOURCE") or "") != "schedule":
        return None
    return managed_name(env.get("CI_PIPELINE_SCHEDULE_DESCRIPTION")) or (env.get(VARIABLE) or "").strip() or None


def managed_name(description: str | None) -> str | None:
    """The ScanSchedule name of a schedule this tool manages, or None for any other."""
    if not description or not description.startswith(DESCRIPTION_PREFIX):
        return None
    m = _NAME_AFTER_PREFIX.match(description[len(DESCRIPTION_PREFIX):])
    return m.group(1) if m else None


def short_ref(ref: str) -> str:
    """GitLab answers `refs/heads/main` for a schedule created with `main`."""
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def gitlab_cron(expression: str) -> str:
    """The 5-field form GitLab stores: `@daily` and friends expanded, spacing normalised."""
    from ..core.cron import MACROS

    text = " ".join(expression.split())
    return MACROS.get(text.lower(), text)


def wanted_schedules(schedules: Sequence[ScanSchedule], default_ref: str, legacy_variable: bool = False) -> list[WantedSchedule]:
    """A pipeline schedule for each gitlab-ci ScanSchedule (backend.config.ref overrides the ref);
    with `legacy_variable`, each also carries JMO_SCHEDULE=<name> (for GitLab before 17.8)."""
    out = []
    for s in schedules:
        if s.spec.backend.type != BACKEND:
            continue
        ref = str((s.spec.backend.config or {}).get("ref") or default_ref)
        if not ref:
            raise JmoError(f"{s.metadata.name}: no ref to run on; pass --ref or set backend.config.ref")
        out.append(WantedSchedule(
            name=s.metadata.name,
            description=description_for(s),
            cron=gitlab_cron(s.spec.schedule),
            cron_timezone=s.spec.timezone,
            ref=ref,
            active=not s.spec.suspend,
            variables={VARIABLE: s.metadata.name} if legacy_variable else {},
        ))
    return out


def plan(existing: Sequence[Mapping[str, Any]], wanted: Sequence[WantedSchedule]) -> list[Action]:
    """What to do so the project's managed schedules match `wanted`. Pure.

    `existing` are the API's schedule objects, each with `variables` (from the single
    schedule GET) when the caller has them. Unmanaged schedules are ignored; a managed
    schedule whose name is no longer wanted is deleted; of two managed schedules with
    one name (an interrupted earlier run), the lowest id is kept, the others deleted. A
    JMO_SCHEDULE variable on one of ours that `wanted` does not ask for is removed; other
    variables someone added are left alone.
    """
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for item in sorted(existing, key=lambda x: int(x.get("id", 0))):
        name = managed_name(item.get("description"))
        if name is not None:
            by_name.setdefault(name, []).append(item)
    actions: list[Action] = []
    wanted_names = set()
    for w in wanted:
        wanted_names.add(w.name)
        found = by_name.get(w.name, [])
        if not found:
            actions.append(Action("create", w.name, w, variable_changes=dict(w.variables)))
            continue
        current = found[0]
        changes = []
        if current.get("description") != w.description:
            changes.append("description")
        if current.get("cron") != w.cron:
            changes.append("cron")
        if current.get("cron_timezone") != w.cron_timezone:
            changes.append("cron_timezone")
        if short_ref(str(current.get("ref") or "")) != short_ref(w.ref):
            changes.append("ref")
        if bool(current.get("active")) != w.active:
            changes.append("active")
        have = {v.get("key"): v.get("value") for v in current.get("variables") or [] if isinstance(v, dict)}
        var_changes: dict[str, str | None] = {k: v for k, v in w.variables.items() if have.get(k) != v}
        if VARIABLE in have and VARIABLE not in w.variables:
            var_changes[VARIABLE] = None  # ours from an earlier version: it would stop the pipeline
        kind = "update" if changes or var_changes else "unchanged"
        actions.append(Action(kind, w.name, w, int(current["id"]), changes, var_changes, frozenset(k for k in have if k)))
        for extra in found[1:]:
            actions.append(Action("delete", w.name, None, int(extra["id"])))
    for name, items in sorted(by_name.items()):
        if name not in wanted_names:
            actions.extend(Action("delete", name, None, int(item["id"])) for item in items)
    return actions


# ------------------------------------------------------------------------------------
# HTTP


class GitLabClient:
    """The pipeline schedule endpoints of one project (GitLab REST API v4)."""

    def __init__(self, api_url: str, project: str, token: str, session: requests.Session | None = None, timeout: float = TIMEOUT,
                 token_variable: str | None = None):
        import requests
        from urllib.parse import quote

        if not api_url:
            raise JmoError("no GitLab API URL: pass --api-url or run inside GitLab CI ($CI_API_V4_URL)")
        if not project:
            raise JmoError("no GitLab project: pass --project or run inside GitLab CI ($CI_PROJECT_ID)")
        name = token_variable or DEFAULT_TOKEN_VARIABLE
        if not token:
            raise JmoError(f"no GitLab token: set ${name} (a masked CI/CD variable) to a project access token "
                           "with the Maintainer role and the api scope")
        self.token_variable = name
        self.project_url = f"{api_url.rstrip('/')}/projects/{quote(str(project), safe='')}"
        self.base = f"{self.project_url}/pipeline_schedules"
        self.session = session or requests.Session()
        self.session.headers["PRIVATE-TOKEN"] = token
        self.session.headers.setdefault("User-Agent", "jmo-schedule")
        self.timeout = timeout
        # Refusals name the variable the token came from, so the user knows what to replace.
        self.hints: dict[int, str] = {
            401: f"the token in ${name} is missing, expired or revoked",
            403: f"the token in ${name} lacks the api scope or the Maintainer role this needs",
            404: f"no such project or schedule, or the token in ${name} cannot see it",
        }

    def _request(self, method: str, url: str, what: str, hints: Mapping[int, str] | None = None, **kwargs: Any) -> Any:
        import requests

        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            # The exception text names the host, never the header holding the token.
            raise GitLabError(f"GitLab API: {what}: {type(exc).__name__}: cannot reach {_host(url)}") from None
        if response.status_code >= 400:
            raise GitLabError(_http_message(response.status_code, what, response, {**self.hints, **(hints or {})}),
                              response.status_code) from None
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise GitLabError(f"GitLab API: {what}: answer is not JSON") from None

    def _pages(self, url: str, what: str, params: Mapping[str, str] | None = None) -> Iterator[tuple[Any, Any]]:
        import requests

        page: str | None = "1"
        seen = 0
        while page:
            try:
                response = self.session.get(url, params={**(params or {}), "per_page": str(PER_PAGE), "page": page},
                                            timeout=self.timeout)
            except requests.RequestException as exc:
                raise GitLabError(f"GitLab API: {what}: {type(exc).__name__}: cannot reach {_host(url)}") from None
            if response.status_code >= 400:
                raise GitLabError(_http_message(response.status_code, what, response, self.hints), response.status_code)
            yield response, response.json()
            seen += 1
            if seen > 1000:  # a server that never ends its pages
                raise GitLabError(f"GitLab API: {what}: more than 1000 pages")
            page = (response.headers.get("X-Next-Page") or "").strip() or _link_next_page(response.headers.get("Link"))

    def list(self) -> list[dict[str, Any]]:
        """Every pipeline schedule of the project, across all pages."""
        out: list[dict[str, Any]] = []
        for _, data in self._pages(self.base, "list pipeline schedules"):
            if not isinstance(data, list):
                raise GitLabError("GitLab API: list pipeline schedules: answer is not a list")
            out.extend(x for x in data if isinstance(x, dict))
        return out

    def schedule_pipelines(self, schedule_id: int, newest_first: bool = False) -> Iterator[dict[str, Any]]:
        """The pipelines the pipeline schedule started, page by page (oldest first, GitLab's
        default, or newest first: `sort=desc`, which versions without it ignore)."""
        what = f"list pipelines of pipeline schedule {schedule_id}"
        params = {"sort": "desc"} if newest_first else None
        for _, data in self._pages(f"{self.base}/{schedule_id}/pipelines", what, params):
            if not isinstance(data, list):
                raise GitLabError(f"GitLab API: {what}: answer is not a list")
            yield from (p for p in data if isinstance(p, dict) and p.get("id") is not None)

    def cancel_pipeline(self, pipeline_id: str) -> None:
        """Cancel a pipeline's jobs (GitLab answers 200 whatever the pipeline's state)."""
        from urllib.parse import quote

        self._request("POST", f"{self.project_url}/pipelines/{quote(pipeline_id)}/cancel", f"cancel pipeline {pipeline_id}")

    def get(self, schedule_id: int) -> dict[str, Any]:
        return self._request("GET", f"{self.base}/{schedule_id}", f"get pipeline schedule {schedule_id}") or {}

    def create(self, w: WantedSchedule) -> dict[str, Any]:
        data = {"description": w.description, "ref": w.ref, "cron": w.cron, "cron_timezone": w.cron_timezone,
                "active": "true" if w.active else "false"}
        return self._request("POST", self.base, f"create pipeline schedule {w.name!r}", data=data) or {}

    def update(self, schedule_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        data = {k: ("true" if v else "false") if isinstance(v, bool) else v for k, v in fields.items()}
        return self._request("PUT", f"{self.base}/{schedule_id}", f"edit pipeline schedule {schedule_id}", data=data) or {}

    def take_ownership(self, schedule_id: int) -> None:
        self._request("POST", f"{self.base}/{schedule_id}/take_ownership", f"take ownership of pipeline schedule {schedule_id}")

    def play(self, schedule_id: int, hints: Mapping[int, str] | None = None) -> None:
        """Run the schedule's pipeline now (201); its next scheduled run stays as it was."""
        self._request("POST", f"{self.base}/{schedule_id}/play", f"play pipeline schedule {schedule_id}", hints)

    def delete(self, schedule_id: int) -> None:
        self._request("DELETE", f"{self.base}/{schedule_id}", f"delete pipeline schedule {schedule_id}")

    def set_variable(self, schedule_id: int, key: str, value: str, exists: bool) -> None:
        url = f"{self.base}/{schedule_id}/variables"
        if exists:
            self._request("PUT", f"{url}/{key}", f"edit variable {key} of pipeline schedule {schedule_id}", data={"value": value})
        else:
            self._request("POST", url, f"create variable {key} of pipeline schedule {schedule_id}",
                          data={"key": key, "value": value, "variable_type": "env_var"})

    def delete_variable(self, schedule_id: int, key: str) -> None:
        self._request("DELETE", f"{self.base}/{schedule_id}/variables/{key}", f"delete variable {key} of pipeline schedule {schedule_id}")


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or "the server"


def _link_next_page(link: str | None) -> str | None:
    """The page number of RFC 8288 `Link: <...page=3...>; rel="next"`, if any."""
    if not link:
        return None
    from urllib.parse import parse_qs, urlsplit

    for part in link.split(","):
        m = re.match(r'\s*<([^>]*)>\s*;.*\brel="?next"?', part)
        if m:
            pages = parse_qs(urlsplit(m.group(1)).query).get("page")
            return pages[0] if pages else None
    return None


def _http_message(status: int, what: str, response: Any, hints: Mapping[int, str] | None = None) -> str:
    hint = {
        401: "the token is missing, expired or revoked",
        403: "the token lacks the api scope or the Maintainer role this needs",
        404: "no such project or schedule, or the token cannot see it",
        **(hints or {}),
    }.get(status)
    if status == 429:  # a hint for 429 may say when: "{wait}" becomes "in 60 seconds" (Retry-After)
        retry = (response.headers.get("Retry-After") or "").strip()
        wait = f"in {retry} seconds" if retry.isdigit() else "later"
        hint = (hints or {}).get(429, "GitLab's rate limit was reached; try again {wait}").format(wait=wait)
    detail = ""
    try:
        body = response.json()
        if isinstance(body, dict):
            detail = str(body.get("message") or body.get("error") or "")
    except ValueError:
        pass
    detail = " ".join(detail.split())[:200]
    text = f"GitLab API: {what}: HTTP {status}"
    if detail:
        text += f" ({detail})"
    if hint:
        text += f"; {hint}"
    return text


# ------------------------------------------------------------------------------------
# Carrying out a plan


def read_existing(client: GitLabClient) -> list[dict[str, Any]]:
    """Every schedule; managed ones are re-read singly because only that GET has variables."""
    out = []
    for item in client.list():
        if managed_name(item.get("description")) is not None and "variables" not in item:
            item = {**item, **client.get(int(item["id"]))}
        out.append(item)
    return out


def apply(client: GitLabClient, actions: Sequence[Action], log: Callable[[str], None] = lambda _: None) -> list[Action]:
    """Carry out `actions` in order (creates first so a failure never leaves a gap);
    returns them with ids filled in for created schedules."""
    order = {"create": 0, "update": 1, "unchanged": 2, "delete": 3}
    done = []
    for action in sorted(actions, key=lambda a: order[a.kind]):
        if action.kind == "create" and action.wanted:
            created = client.create(action.wanted)
            action.schedule_id = int(created["id"])
            for key, value in action.wanted.variables.items():
                client.set_variable(action.schedule_id, key, value, exists=False)
        elif action.kind == "update" and action.wanted and action.schedule_id is not None:
            _with_ownership(client, action.schedule_id, lambda: _update(client, action))
        elif action.kind == "delete" and action.schedule_id is not None:
            _with_ownership(client, action.schedule_id, lambda: client.delete(action.schedule_id))  # type: ignore[arg-type]
        log(action.describe())
        done.append(action)
    return done


def _update(client: GitLabClient, action: Action) -> None:
    assert action.wanted is not None and action.schedule_id is not None
    if action.changes:
        client.update(action.schedule_id, {f: getattr(action.wanted, f) for f in action.changes})
    for key, value in action.variable_changes.items():
        if value is None:
            client.delete_variable(action.schedule_id, key)
        else:
            client.set_variable(action.schedule_id, key, value, exists=key in action.variables_present)


def _with_ownership(client: GitLabClient, schedule_id: int, step: Callable[[], Any]) -> None:
    # Only a schedule's owner may change it. One of ours made under an earlier token
    # (a rotated project access token is a new bot user) is taken over, then retried.
    try:
        step()
    except GitLabError as exc:
        if "HTTP 403" not in str(exc):
            raise
        client.take_ownership(schedule_id)
        step()

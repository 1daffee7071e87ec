"""`H` in cron fields (Jenkins' hash syntax): a stable, spread-out value per schedule.

Forms, in any field and as items of a list: `H` (one value over the field's range),
`H(a-b)` (one value in a-b), `H/n` (every n, from an offset in 0..n-1) and `H(a-b)/n`
(every n within a-b, from an offset). The ranges are minute 0-59, hour 0-23,
day-of-month 1-28 (a hashed day exists in every month), month 1-12, day-of-week 0-6.

Each H draws from sha256(identity NUL name NUL field index NUL item index): the
repository identity (core/repo_identity.py), the schedule's name, which field and which item
of its list. A real hash, never Python's salted `hash()`, so every process on every
machine finds the same value. A schedule read from a file is resolved once, by the
checker (core/check.py): everything after it (next-run times, generators, crontab lines, the guard,
`describe`, `calendar`) sees only the concrete cron; `spec.hashed_from` keeps what was
written, for headers and messages. No scheduler downstream knows `H`.
"""
from __future__ import annotations

import re

TYPE_CHECKING = False  # typing is not imported at run time: `validate` start-up time
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Protocol

    from ..errors import CronError

    class HashedSpec(Protocol):
        """What hcron reads of a schedule's spec (model.ScheduleSpec; no import: the model imports this)."""

        schedule: str
        hashed_from: HashedCron | None

    # (field index, item index, low, high, step or None) -> the chosen offset within its range
    Picker = Callable[[int, int, int, int, "int | None"], int]

# Where an H may land, per field (minute, hour, day-of-month, month, day-of-week).
HASH_RANGES: tuple[tuple[int, int], ...] = ((0, 59), (0, 23), (1, 28), (1, 12), (0, 6))
_ITEM_RE = re.compile(r"^H(?:\((?P<range>[^()]*)\))?(?:/(?P<step>.*))?$")
_ATOM_RE = re.compile(r"^[A-Za-z0-9]+$")


class HashedCron:
    """What was written, what it resolved to, and the identity it was hashed for. Immutable;
    a plain class, not a NamedTuple: typing is not imported at start-up."""

    __slots__ = ("template", "concrete", "identity")
    template: str
    concrete: str
    identity: str

    def __init__(self, template: str, concrete: str, identity: str) -> None:
        for name, value in zip(self.__slots__, (template, concrete, identity)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"HashedCron is immutable; cannot set {name!r}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HashedCron) and (self.template, self.concrete, self.identity) == \
            (other.template, other.concrete, other.identity)

    def __hash__(self) -> int:
        return hash((self.template, self.concrete, self.identity))

    def __repr__(self) -> str:
        return f"HashedCron({self.template!r}, {self.concrete!r}, {self.identity!r})"

    def __reduce__(self) -> tuple[type, tuple[str, str, str]]:  # copy, deepcopy and pickle rebuild it whole
        return (HashedCron, (self.template, self.concrete, self.identity))


def has_hash(expression: object) -> bool:
    """Whether `expression` is a cron string with an H item in any field."""
    if not isinstance(expression, str) or "H" not in expression:
        return False
    return any(item.startswith("H") for field in expression.split() for item in field.split(","))


def draw(identity: str, name: str, field: int, item: int, size: int) -> int:
    """A value in 0..size-1, uniform, from sha256 of the inputs: the same in every process."""
    import hashlib

    digest = hashlib.sha256(f"{identity}\0{name}\0{field}\0{item}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % size  # 2**64 % size: a bias under 1e-15


def _picker(identity: str, name: str) -> Picker:
    def pick(field: int, item: int, low: int, high: int, step: int | None) -> int:
        return draw(identity, name, field, item, step or high - low + 1)

    return pick


def _first(field: int, item: int, low: int, high: int, step: int | None) -> int:
    return 0


def resolve(expression: str, identity: str, name: str) -> str:
    """The concrete 5-field cron `expression` stands for, for schedule `name` of the
    repository `identity`. Raises cron.CronError (with the offset in `expression`)."""
    return _substitute(expression, _picker(identity, name))


def check(expression: str) -> CronError | None:
    """The first problem of an H cron (its offset in `expression`), or None when it is usable."""
    from ..errors import CronError

    try:
        _substitute(expression, _first)
    except CronError as exc:
        return exc
    return None


NOT_HASHABLE = ("H is hashed with the repository of the schedules file it is written in; here there is none: "
                "write a concrete cron, or load the file (jmo-schedule apply -f FILE)")


def check_for(expression: str, resolver: Resolver | None) -> CronError | None:
    """`check`, and without a `resolver` (an object built through the API, not read from a
    file) an error at the first H: there is no repository to hash for."""
    from ..errors import CronError

    if resolver is None:
        return CronError(NOT_HASHABLE, _first_hash(expression))
    return check(expression)


def _first_hash(expression: str) -> int:
    for field in re.finditer(r"\S+", expression):
        pos = field.start()
        for item in field.group().split(","):
            if item.startswith("H"):
                return pos
            pos += len(item) + 1
    return 0


def suggest_minute(expression: str) -> str | None:
    """`expression` (5 fields) with its minute written as H: `0 2 * * *` -> `H 2 * * *`,
    `*/15 ...` -> `H/15 ...`; None when the minutes are not one value or an even spread."""
    from .cron import parse

    spec = parse(expression)
    minutes = spec.minutes
    if len(minutes) == 1:
        minute = "H"
    else:
        step = minutes[1] - minutes[0]
        even = all(b - a == step for a, b in zip(minutes, minutes[1:]))
        if not even or minutes[0] >= step or minutes[-1] + step <= 59:
            return None
        minute = f"H/{step}"
    return " ".join([minute, *spec.fields.split()[1:]])


def explain(expression: str, identity: str, name: str) -> str:
    """`minute H -> 37 (0-59), hour H(0-7) -> 5 (0-7)`: what each H of `expression` became."""
    parts: list[str] = []
    pick = _picker(identity, name)
    from .cron import FIELDS

    def note(field: int, item: int, low: int, high: int, step: int | None) -> int:
        offset = pick(field, item, low, high, step)
        values = [low + offset] if step is None else list(range(low + offset, high + 1, step))
        text = ",".join(str(v) for v in values)
        parts.append(f"{FIELDS[field][0]} {_items(expression)[field][item]} -> {text} ({low}-{high})")
        return offset

    _substitute(expression, note)
    return ", ".join(parts)


def _items(expression: str) -> list[list[str]]:
    return [field.split(",") for field in expression.split()]


def _substitute(expression: str, pick: Picker) -> str:
    """`expression` with every H item replaced by the values `pick` chooses; every other
    item is checked as cron.py checks it, with offsets in `expression`."""
    from . import cron

    if re.search(r"[\x00-\x1f\x7f]", expression.strip().replace("\t", " ")):
        raise cron.CronError("cron expression must be one line without control characters")
    parts, offsets = cron._split(expression)
    if len(parts) != 5:
        cron.parse(expression)  # raises its own error: the field count
    fields: list[str] = []
    for index, (part, offset) in enumerate(zip(parts, offsets)):
        items, pos = [], offset
        for number, item in enumerate(part.split(",")):
            name = cron.FIELDS[index][0]
            if item == "":
                raise cron.CronError(f"{name}: empty list item in {part!r}", pos)
            if item.startswith("H"):
                items.append(_hash_item(index, number, item, pos, pick))
            else:
                cron._check_field(index, item, pos)
                items.append(item)
            pos += len(item) + 1
        fields.append(",".join(items))
    concrete = " ".join(fields)
    try:
        cron.parse(concrete)
    except cron.CronError as exc:  # only "never fires" is left; point at its field as written
        _, concrete_offsets = cron._split(concrete)
        field = max(i for i, start in enumerate(concrete_offsets) if start <= exc.offset)
        raise cron.CronError(exc.message.replace(repr(concrete), repr(" ".join(parts))), offsets[field]) from None
    return concrete


def _hash_item(index: int, number: int, item: str, offset: int, pick: Picker) -> str:
    from . import cron

    name = cron.FIELDS[index][0]
    match = _ITEM_RE.match(item)
    if match is None:
        raise cron.CronError(f"{name}: cannot read {item!r}; write H, H(a-b), H/n or H(a-b)/n", offset)
    low, high = HASH_RANGES[index]
    if match.group("range") is not None:
        inner = match.group("range")
        first, dash, last = inner.partition("-")
        if not dash or not _ATOM_RE.match(first) or not _ATOM_RE.match(last):
            raise cron.CronError(f"{name}: cannot read the range in {item!r}; write H(a-b)", offset + 2)
        a = cron._value(index, first, offset + 2)
        b = cron._value(index, last, offset + 3 + len(first))
        if index == 4 and b == 0 and a > 0:
            b = 7  # H(FRI-SUN): Sunday as 7, as in a plain range
        if index == 2 and b > HASH_RANGES[2][1]:
            raise cron.CronError(f"{name}: {item!r} reaches day {b}; a hashed day must exist in every month, so "
                                 f"keep it within 1-{HASH_RANGES[2][1]}", offset + 3 + len(first))
        if a > b:
            raise cron.CronError(f"{name}: range {item!r} runs backwards; write it low-high", offset)
        low, high = a, b
    step = None
    if match.group("step") is not None:
        step_text = match.group("step")
        step_offset = offset + len(item) - len(step_text)
        if not step_text.isdigit():
            raise cron.CronError(f"{name}: step {step_text!r} in {item!r} is not a positive number", step_offset)
        step = int(step_text)
        if step < 2:
            raise cron.CronError(f"{name}: step {step} in {item!r} does not spread anything; write * for every "
                                 "value or H for one", step_offset)
        if step > high - low + 1:
            raise cron.CronError(f"{name}: step {step} in {item!r} is larger than its range {low}-{high}", step_offset)
    start = low + pick(index, number, low, high, step)
    values = [start] if step is None else list(range(start, high + 1, step))
    return _format(index, values, step)


def _format(index: int, values: list[int], step: int | None) -> str:
    """`37`, `7-52/15`, or a list: the plainest cron every backend reads."""
    if index == 4 and 7 in values:  # Sunday as 0: GitHub and GitLab document day-of-week 0-6
        values = sorted({v % 7 for v in values})
        return ",".join(str(v) for v in values)
    if len(values) >= 3 and step is not None:
        return f"{values[0]}-{values[-1]}/{step}"
    return ",".join(str(v) for v in values)


# ----------------------------------------------------------------------------------------
# Schedules


class Resolver:
    """Resolves the H crons of one schedules file; the repository identity is looked up on
    first use only (a file without H never runs git)."""

    def __init__(self, source: str, identity: str | None = None, env: Mapping[str, str] | None = None) -> None:
        self.source = source
        self._identity = identity
        self._env = env

    @property
    def identity(self) -> str:
        if self._identity is None:
            from .repo_identity import identify

            self._identity = identify(self.source, self._env)
        return self._identity

    def resolve(self, name: str, template: str) -> HashedCron:
        """`template` (an H cron) of schedule `name`, resolved; raises cron.CronError."""
        return HashedCron(template, resolve(template, self.identity, name), self.identity)


def resolve_data(data: dict, resolver: Resolver) -> tuple[dict, HashedCron | None]:
    """A valid schedule as plain data with its H cron made concrete (a new dict; `data` is
    left alone), and what it was resolved from; `data` itself and None when it has no H."""
    spec = data.get("spec")
    template = spec.get("schedule") if isinstance(spec, dict) else None
    if not isinstance(spec, dict) or not has_hash(template):
        return data, None
    hashed = resolver.resolve(str(data["metadata"]["name"]), str(template))
    return {**data, "spec": {**spec, "schedule": hashed.concrete}}, hashed


def concrete_cron(resolver: Resolver | None, obj: object) -> str | None:
    """For a schedule dict under validation: the concrete cron of its H schedule, or None
    (no H, an H with errors, no usable name, or nothing to hash for)."""
    if resolver is None or not isinstance(obj, dict):
        return None
    spec, meta = obj.get("spec"), obj.get("metadata")
    if not isinstance(spec, dict) or not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return None
    template = spec.get("schedule")
    if not has_hash(template) or check(template) is not None:  # type: ignore[arg-type]
        return None
    return resolver.resolve(meta["name"], template).concrete  # type: ignore[arg-type]


def minute_hashed(expression: object) -> bool:
    """Whether the minute field of `expression` is all H items (its minute was spread)."""
    if not isinstance(expression, str) or not expression.split():
        return False
    return all(item.startswith("H") for item in expression.split()[0].split(","))


def current(spec: HashedSpec) -> HashedCron | None:
    """`spec.hashed_from` while `spec.schedule` is still what it resolved to, else None
    (an H schedule whose cron was since changed through the API is an ordinary one)."""
    hashed = spec.hashed_from
    return hashed if hashed is not None and hashed.concrete == spec.schedule else None


def shown(spec: HashedSpec) -> str:
    """How headers show a schedule's cron: `'37 2 * * *'`, or for an H cron
    `'H 2 * * *' -> '37 2 * * *' (H hashed for github.com/acme/app)`."""
    hashed = current(spec)
    if hashed is None:
        return repr(spec.schedule)
    return f"{hashed.template!r} -> {hashed.concrete!r} (H hashed for {hashed.identity})"


def as_written(data: dict, spec: HashedSpec) -> dict:
    """`data` (a schedule dict about to be written to its file) with an unchanged H cron
    put back as the user wrote it."""
    hashed = current(spec)
    if hashed is None or not isinstance(data.get("spec"), dict):
        return data
    return {**data, "spec": {**data["spec"], "schedule": hashed.template}}


def note(spec: HashedSpec) -> str:
    """` (from 'H 2 * * *', hashed for github.com/acme/app)` for an H cron, else `` (describe, next)."""
    hashed = current(spec)
    return f" (from {hashed.template!r}, hashed for {hashed.identity})" if hashed else ""

"""Does the repository's GitLab pipeline have the stage each scan job is in?

A job whose `stage:` is not in the pipeline's `stages:` makes GitLab refuse the whole
pipeline. The generated include cannot declare stages (that would replace the user's),
so sync reads the top-level `stages:` of the repository's `.gitlab-ci.yml` and refuses,
naming the stage and the fix, when a gitlab-ci schedule's `backend.config.stage`
(default `test`) is not there. Without `stages:` GitLab's defaults apply (.pre, build,
test, deploy, .post), unless an `include:` may declare them: then nothing is checked.
"""
from __future__ import annotations

import os
from typing import Any

import yaml

from ..core.loader import LoadResult
from ..core.validate import path_text
from ..core.yamltext import parse_documents
from ..errors import Problem
from ..generators.gitlab_ci import BACKEND, DEFAULT_STAGE


CI_FILE = ".gitlab-ci.yml"
DEFAULT_STAGES = (".pre", "build", "test", "deploy", ".post")
ALWAYS = (".pre", ".post")  # every pipeline has these, listed or not


def pipeline_stages(text: str) -> tuple[str, ...] | None:
    """The stages a `.gitlab-ci.yml` declares, .pre and .post included; GitLab's defaults
    when it has neither `stages:` nor `include:`; None when an include may set them.
    Raises ValueError when the text is not YAML or `stages:` is not a list."""
    class Loader(yaml.SafeLoader):
        pass

    # GitLab's own tags (`!reference [...]`): their values do not matter here.
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    try:
        doc = yaml.load(text, Loader=Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ValueError(f"{where}not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    if not isinstance(doc, dict):
        return DEFAULT_STAGES
    if "stages" not in doc:
        return None if doc.get("include") else DEFAULT_STAGES
    stages = _flatten(doc["stages"])
    if stages is None:
        raise ValueError("stages: is not a list of stage names")
    return tuple(s for s in ALWAYS[:1] if s not in stages) + stages + tuple(s for s in ALWAYS[1:] if s not in stages)


def _flatten(value: Any) -> tuple[str, ...] | None:
    # GitLab flattens nested lists (from YAML anchors) in `stages:`.
    if not isinstance(value, list):
        return None
    out: list[str] = []
    for item in value:
        if isinstance(item, list):
            inner = _flatten(item)
            if inner is None:
                return None
            out.extend(inner)
        elif isinstance(item, str):
            out.append(item)
        else:
            return None
    return tuple(out)


def stage_problems(result: LoadResult, text: str, root: str) -> tuple[list[Problem], list[str]]:
    """(errors, warnings) for the gitlab-ci schedules of `result` (loaded from `text`)
    against `<root>/.gitlab-ci.yml`. No file, or stages set in an include: nothing to say."""
    items = [i for i in result.items if i.schedule.spec.backend.type == BACKEND]
    path = os.path.join(root, CI_FILE)
    if not items or not os.path.isfile(path):
        return [], []
    try:
        with open(path, encoding="utf-8") as fh:
            stages = pipeline_stages(fh.read())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        return [], [f"{CI_FILE}: cannot read its stages ({reason}); the scan jobs' stages are not checked"]
    if stages is None:
        return [], []
    docs = parse_documents(text)
    problems = []
    for item in items:
        config = item.schedule.spec.backend.config or {}
        stage = str(config.get("stage") or DEFAULT_STAGE)
        if stage in stages:
            continue
        field = ("spec", "backend", "config", "stage") if config.get("stage") else ("spec", "backend")
        line, column = docs[item.doc_index].where(item.path + field, key=not config.get("stage"))
        what = f"stage {stage!r}" if config.get("stage") else f"the scan job's stage {stage!r} (the default)"
        problems.append(Problem(
            result.file, line, column, path_text(item.path + field),
            f"{what} is not in the stages: of {CI_FILE} ({', '.join(stages)}), so GitLab would refuse the "
            f"pipeline; add {stage} to that list or set backend.config.stage to one of them",
        ))
    return problems, []

"""Oracles for how each platform rewrites a value after reading the YAML, written from the
platforms' documented behaviour, to prove a generated value reaches the job literally."""
from __future__ import annotations

from collections.abc import Mapping


def k8s_expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion (k8s.io/kubernetes third_party expansion), as an oracle:
    `$$` is one `$`, `$(NAME)` is NAME's value when defined, anything else stays as written."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "$" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    name = text[i + 2:end]
                    out.append(env[name] if name in env else f"$({name})")
                    i = end + 1
                    continue
                out.append("$(")
                i += 2
                continue
            out.append("$" + nxt)
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


_SPECIAL = "*#$@!?-0123456789"


def _word(c: str) -> bool:
    return c == "_" or c.isascii() and c.isalnum()


def runner_expand(text: str, variables: Mapping[str, str]) -> str:
    """GitLab Runner's expansion of `image:` (docs: where_variables_can_be_used.md, "GitLab
    Runner internal variable expansion mechanism"): Go's os.Expand (os/env.go) with the
    runner's JobVariables.Get, where `$` maps to `$` (so `$$` is one `$`), the other special
    shell names to "", and an unknown variable to ""."""

    def get(name: str) -> str:
        if name == "$":
            return "$"
        if name in _SPECIAL:
            return ""
        return variables.get(name, "")

    out: list[str] = []
    i = j = 0
    while j < len(text):
        if text[j] == "$" and j + 1 < len(text):
            out.append(text[i:j])
            rest = text[j + 1:]
            if rest[0] == "{":
                if len(rest) > 2 and rest[1] in _SPECIAL and rest[2] == "}":
                    name, width = rest[1], 3
                else:
                    close = rest.find("}", 1)
                    name, width = ("", 1) if close == -1 else (("", 2) if close == 1 else (rest[1:close], close + 1))
            elif rest[0] in _SPECIAL:
                name, width = rest[0], 1
            else:
                width = 0
                while width < len(rest) and _word(rest[width]):
                    width += 1
                name = rest[:width]
            if name:
                out.append(get(name))
            elif width == 0:
                out.append("$")  # not followed by a name: the dollar stays
            j += width
            i = j + 1
        j += 1
    out.append(text[i:])
    return "".join(out)


def github_evaluate(text: str) -> str:
    """GitHub's evaluation of `${{ <expression> }}` in a workflow string, for the one
    expression generated files put around user text: `'$'`, a string literal. Any other
    expression fails: it would mean user text became an expression."""
    out: list[str] = []
    i = 0
    while True:
        start = text.find("${{", i)
        if start == -1:
            out.append(text[i:])
            return "".join(out)
        end = text.find("}}", start + 3)
        expression = text[start + 3:end].strip() if end != -1 else None
        assert expression == "'$'", f"an expression GitHub would evaluate: {text[start:]!r}"
        out.append(text[i:start] + "$")
        i = end + 2

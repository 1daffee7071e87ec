"""How the YAML readers CI platforms use see a document: YAML 1.1 (PyYAML, as Ruby's Psych in
GitLab and Go's yaml in actionlint and Kubernetes read it) and YAML 1.2 (ruamel.yaml), and
the plain scalars each reads as something other than a string."""
from __future__ import annotations

import re
from typing import Any

import yaml
from ruamel.yaml import YAML

# Every plain scalar that a YAML 1.1 or 1.2 reader takes for a null, a bool, a number, a
# date or a merge key, in the spellings the specs list: yaml.org/type/{null,bool,float,int,
# timestamp,merge,value}.html (1.1) and the 1.2.2 core schema.
RESERVED_WORDS = [
    "~", "null", "Null", "NULL",
    "true", "True", "TRUE", "false", "False", "FALSE",
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
    "on", "On", "ON", "off", "Off", "OFF",
    ".nan", ".NaN", ".NAN",
    ".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", "+.Inf", "+.INF",
    ".5", ".5e+3", ".0_1", ".1e+3", "1e5", "1.5", "-.5", "+1", "-0", "0",
    "1_000", "0o17", "0x1F", "0b101", "0777", "190:20:30", "-1:30", "1_2:30.5",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
    "<<", "=",
]


class Yaml11Loader(yaml.SafeLoader):
    """PyYAML with YAML 1.1's whole bool type: PyYAML leaves out y, Y, n and N."""

    bool_values = {**yaml.SafeLoader.bool_values, "y": True, "n": False}


Yaml11Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))


def read_back(text: str) -> list[Any]:
    """The document as each reader sees it: YAML 1.1 (PyYAML, then the full 1.1 bool type)
    and YAML 1.2 (ruamel.yaml's core schema)."""
    return [yaml.safe_load(text), yaml.load(text, Loader=Yaml11Loader), YAML(typ="safe", pure=True).load(text)]

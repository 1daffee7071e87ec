"""GitHub Actions workflow commands (`::error file=...::message`, `::add-mask::value`).

The runner decodes %25, %0D and %0A in a message (and also %3A, %2C in a property), so
text escaped here cannot end the command early or forge a second one.
"""
from __future__ import annotations


def escape_data(text: str) -> str:
    """Escape a workflow command's message as the runner decodes it (% CR LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command property value (message rules plus ':' and ',')."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str) -> str:
    """One workflow command line without its newline: `::name k=v,k2=v2::message`.
    Properties keep the order given; pass them escaped or not, they are escaped here."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"

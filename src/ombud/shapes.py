"""Shapes of request text that the code checks, said in the OpenAPI document as JSON Schema ``pattern``/``enum``.

The API's document must accept only what the code accepts, in both directions: input valid by the document is
never refused as invalid (422) by the code, and input the document calls invalid is refused. So a field whose
shape the code checks says it here, once, for the document, and the edge (``ombud.api.conform``) checks every
``pattern`` and customer-id mark of a request against the value before the route's own code runs.

Patterns are ECMA-262 (JSON Schema's dialect), written so that Python's ``re`` reads them alike: no inline flags,
no ``\\s``/``\\d``/``\\w`` (their sets differ between the two), case spelled out.

Pure: no database, no framework beyond Pydantic's ``Field``.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any

from pydantic import Field

#: A schema field marked so is a customer id: the document gives it the id pattern in effect at app build time
#: (``ombud.customer_ids.json_pattern``: OMBUD_CUSTOMER_ID_PATTERN or the default rule) and the edge checks it.
CUSTOMER_ID_MARK = "x-ombud-customer-id"

#: A schema extra saying in words why a value lacks the field's pattern (the edge's 422 message).
REASON_KEY = "x-ombud-reason"

#: What Python's ``str.strip()`` removes (``str.isspace``), spelled out: JSON Schema's ``\s`` is ECMA-262's.
SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SOLID = f"[^{SPACE}\\x00]"
#: Text without U+0000, which no text in the store may hold (PostgreSQL refuses it): every request string.
NO_NUL = "^[^\\x00]*$"
#: Why a value with U+0000 is refused.
NUL_REASON = "holds a NUL character (U+0000), which no text may"


def written(least: int) -> str:
    """A pattern for text that still has ``least`` characters once stripped of surrounding whitespace."""
    if least <= 1:
        return f"^[^\\x00]*{_SOLID}[^\\x00]*$"
    return f"^[^\\x00]*{_SOLID}[^\\x00]{{{least - 2},}}{_SOLID}[^\\x00]*$"


def one_of(values: Any) -> dict[str, Any]:
    """The schema extra for a string that is one of these names (an enum the code parses by name)."""
    return {"enum": [getattr(v, "value", v) for v in values]}


def matches(pattern: str, value: str) -> bool:
    """Whether a value has a JSON Schema pattern (searched, as JSON Schema does; a closing ``$`` is the end)."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return _compiled(pattern).search(value) is not None


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def stripped(schema: dict[str, Any]) -> None:
    """``json_schema_extra`` for a model that strips its strings (``str_strip_whitespace``): each string's minimum
    length counts what is left once stripped, so the document says it with a pattern (in place)."""
    for prop in schema.get("properties", {}).values():
        for node in [prop, *prop.get("anyOf", [])]:
            least = node.get("minLength") if node.get("type") == "string" else None
            if least and "pattern" not in node:
                node["pattern"] = written(least)
                node[REASON_KEY] = f"needs at least {least} characters besides spaces"


#: A customer id as the API takes it (the pattern is filled in by the document; the edge checks the shape).
CustomerId = Annotated[str, Field(min_length=1, max_length=64, json_schema_extra={CUSTOMER_ID_MARK: True})]

#: A purpose as a read or a discovery names it: ``case:<id>``, ``grant:<id>``, ``break_glass:<id>``, ``request:<id>``.
PURPOSE = r"^(?:case|grant|break_glass|request):[0-9]{1,18}$"

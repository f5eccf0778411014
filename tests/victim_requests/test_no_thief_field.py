"""No form, template or API schema anywhere asks for the name of the person who opened the account (LEGAL.md:
a victim must never be made to name the thief)."""

from __future__ import annotations

import re
from pathlib import Path

from ombud.app import create_app
from ombud.web.templating import TEMPLATE_DIR

#: Words a field asking for the perpetrator would carry, in its name, label or description.
FORBIDDEN = re.compile(r"thief|perpetrat|suspect|fraudster|impostor|imposter|opened[ _-]?by|who[ _-]opened|"
                       r"culprit|offender|accused", re.IGNORECASE)
_NAMES = re.compile(r"""<(?:input|textarea|select)\b[^>]*\bname="([^"]+)"|<label\b[^>]*>(.*?)</label>""",
                    re.IGNORECASE | re.DOTALL)


def _refs(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def _input_fields(schema) -> list[tuple[str, str]]:
    """Every property of every schema a request body can carry (nested schemas followed), with its words."""
    components = schema["components"]["schemas"]
    todo = set().union(*(_refs(op.get("requestBody", {})) for ops in schema["paths"].values()
                         for op in ops.values() if isinstance(op, dict)))
    seen: set[str] = set()
    out = []
    while todo:
        name = todo.pop()
        if name in seen or name not in components:
            continue
        seen.add(name)
        for key, value in components[name].get("properties", {}).items():
            out.append((f"{name}.{key}", f"{key} {value.get('title', '')} {value.get('description', '')}"))
        todo |= _refs(components[name]) - seen
    return out


def test_no_api_schema_has_such_a_field(ctx):
    schema = create_app(ctx=ctx).openapi()
    fields = _input_fields(schema)
    assert len(fields) > 50 and "RequestCreate.full_name" in dict(fields)
    offending = [name for name, text in fields if FORBIDDEN.search(name) or FORBIDDEN.search(text)]
    assert not offending, offending
    params = [p["name"] for ops in schema["paths"].values() for op in ops.values() if isinstance(op, dict)
              for p in op.get("parameters", [])]
    assert not [p for p in params if FORBIDDEN.search(p)]


def test_no_form_or_template_field_asks_for_it():
    checked = 0
    for template in Path(TEMPLATE_DIR).rglob("*.html"):
        for name, label in _NAMES.findall(template.read_text(encoding="utf-8")):
            checked += 1
            assert not FORBIDDEN.search(name or ""), f"{template}: field {name}"
            text = re.sub(r"<[^>]+>", " ", label or "")
            assert not FORBIDDEN.search(text) or "do not" in text.lower(), f"{template}: label {text.strip()}"
    assert checked > 50


def test_the_request_schema_refuses_such_a_field_outright():
    from pydantic import ValidationError

    from ombud.victim_requests.schemas import RequestCreate

    for extra in ("thief_name", "suspect", "opened_by"):
        try:
            RequestCreate.model_validate({"full_name": "Jane Doe", "email": "jane@example.com",
                                          "statement_true": True, extra: "Mallory"})
        except ValidationError as exc:
            assert exc.errors()[0]["loc"] == (extra,)
        else:
            raise AssertionError(f"{extra} was accepted")

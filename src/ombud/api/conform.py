"""Every request held to the API's own contract, for every route, in one app-wide dependency.

FastAPI's validation is lax where the OpenAPI document is strict, so input the document calls invalid would be
taken as something else. ``check_request`` (installed once by create_app, so a router added tomorrow gets it
without a line of its own) refuses, with 422 naming the parameter or field:

- a query parameter that takes one value, given more than once (``?limit=1&limit=2``: FastAPI keeps the last);
- a number, or a string of digits, where the document says date, date-time or time (Pydantic would read it as
  a Unix time): a path or query value, or a JSON body's field, must be written as ISO 8601
  (``2026-12-04``, ``2026-12-04T17:00:00Z``, ``17:00``);
- a JSON body value of another JSON type than the document's (``"5"`` for an integer, ``1`` or ``"true"`` for a
  boolean, ``{}`` for a string): Pydantic would convert it;
- a path or query integer outside the store's 64-bit range (it would overflow the store);
- a boolean query or form value other than ``true`` or ``false`` (Pydantic would also take ``yes``, ``1``, ``on``,
  ``f``...): the document's boolean, written as JSON writes it (the console's checkboxes send ``true``);
- a path value longer than ``MAX_PATH_VALUE`` characters (ids, references and names are all far shorter);
- a customer id (a path, query or JSON field marked so: ``ombud.shapes.CUSTOMER_ID_MARK``) without the retailer's
  id shape, and a value without a ``pattern`` its field gives in ``json_schema_extra`` (``ombud.shapes``), which
  the document states but Pydantic does not check: the document and the code say the same;
- a path or form value holding U+0000 (ombud.api.limits refuses it in JSON and query text).

The document says the same (``ombud.api.contract`` bounds path and query strings), and the Schemathesis run in
tests/hardening checks both directions: no invalid input accepted, no valid input refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from functools import partial
from typing import Any, get_args

from fastapi import Request, params
from fastapi._compat.shared import field_annotation_is_sequence
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter

from ombud import customer_ids
from ombud.api.limits import INT64_MAX, INT64_MIN, JSON_BODY_SCOPE_KEY, echo
from ombud.shapes import CUSTOMER_ID_MARK, NUL_REASON, REASON_KEY, matches

#: The longest path value any route takes (customer ids are at most 64 characters, references far fewer).
MAX_PATH_VALUE = 200

_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_CLOCK = r"[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?"
_OFFSET = r"(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)"
#: ISO 8601 text for each temporal format of the document (Pydantic checks the values themselves). A date-time
#: carries its UTC offset, as RFC 3339 (the document's date-time) requires: a time without one is ambiguous, and
#: a received time decides a legal deadline.
FORMATS = {
    "date": re.compile(_DATE),
    "date-time": re.compile(f"{_DATE}[Tt ]{_CLOCK}{_OFFSET}"),
    "time": re.compile(f"{_CLOCK}{_OFFSET}?"),
}
_EXAMPLES = {"date": "2026-12-04", "date-time": "2026-12-04T17:00:00Z", "time": "17:00"}
_WITH_OFFSET = {"date-time": " with its UTC offset"}
_FORMAT_OF = {datetime: "date-time", date: "date", time: "time"}  # datetime first: it is a date too

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "boolean": (bool,), "null": (type(None),), "array": (list,), "object": (dict,),
}


class _Plan:
    """What to check for one route: found once from its dependencies and body, then kept."""

    __slots__ = ("body", "bool_form", "defs", "form", "int_path", "int_query", "path_checks", "query_checks",
                 "single_query", "text_path")

    def __init__(self, route: Any) -> None:
        from ombud.api.limits import dependants

        every = dependants(route.dependant)
        path = [p for d in every for p in d.path_params]
        query = [p for d in every for p in d.query_params]
        self.int_path = tuple(p.alias for p in path if _is(p.field_info.annotation, int))
        self.int_query = tuple(p.alias for p in query if _is(p.field_info.annotation, int))
        self.text_path = tuple(p.alias for p in path if _is(p.field_info.annotation, str))
        self.single_query = tuple(p.alias for p in query if not field_annotation_is_sequence(p.field_info.annotation))
        #: (name, check) for each path and query value: a check says why a value is wrong, or None.
        self.path_checks = _checks(path, booleans=False)
        self.query_checks = _checks(query, booleans=True)
        form = [p for d in every for p in d.body_params if isinstance(p.field_info, params.Form)]
        self.bool_form = tuple(p.alias for p in form if _is(p.field_info.annotation, bool))
        self.form = tuple(p.alias for p in form)
        self.body: dict[str, Any] | None = None
        self.defs: dict[str, Any] = {}
        field = getattr(route, "body_field", None)
        if field is not None and not isinstance(field.field_info, params.Form) and not _is(field.field_info.annotation,
                                                                                          bytes):
            from ombud.api.contract import bound_body  # (the contract module builds on this one)

            schema = TypeAdapter(field.field_info.annotation).json_schema(mode="validation")
            self.defs = schema.pop("$defs", {})
            bound_body(schema, self.defs)
            self.body = schema


_PLAN_ATTRIBUTE = "_ombud_conform_plan"

Check = Callable[[str], "str | None"]


def _checks(parameters: list[Any], *, booleans: bool) -> tuple[tuple[str, Check], ...]:
    """The checks of each parameter's text: its temporal format, its shape (customer id, pattern), a boolean."""
    out: list[tuple[str, Check]] = []
    for p in parameters:
        if fmt := _temporal(p.field_info.annotation):
            out.append((p.alias, partial(format_problem, fmt=fmt)))
        if shape := _shape(p.field_info):
            out.append((p.alias, partial(shape_problem, schema=shape)))
        if booleans and _is(p.field_info.annotation, bool):
            out.append((p.alias, boolean_problem))
    return tuple(out)


def _shape(field_info: Any) -> dict[str, Any] | None:
    """A parameter's shape the document states and Pydantic does not check (a customer-id mark, a pattern)."""
    extra = field_info.json_schema_extra
    if isinstance(extra, dict) and (CUSTOMER_ID_MARK in extra or "pattern" in extra):
        return extra
    return None


def shape_problem(value: Any, schema: dict[str, Any]) -> str | None:
    """Why a string lacks the shape its schema states (customer id, pattern), or None."""
    if not isinstance(value, str):
        return None
    if schema.get(CUSTOMER_ID_MARK) and customer_ids.problem(value) is not None:
        return customer_ids.REASON
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and not matches(pattern, value):
        return str(schema.get(REASON_KEY, "not in the form the API's document gives for it (see its pattern)"))
    return None


def _is(annotation: Any, kind: type) -> bool:
    return annotation is kind or any(a is kind for a in get_args(annotation))


def _temporal(annotation: Any) -> str | None:
    for kind, name in _FORMAT_OF.items():
        if _is(annotation, kind):
            return name
    return None


#: The only text a boolean query or form value may be (the document's boolean, as JSON writes it).
BOOLEANS = ("true", "false")


def boolean_problem(text: str) -> str | None:
    """Why this text is not a boolean as the document writes one, or None."""
    return None if text in BOOLEANS else f"must be true or false (got {echo(text)!r})"


def _out_of_range(text: str) -> bool:
    if len(text) <= 18:
        return False
    try:
        return not INT64_MIN <= int(text.strip()) <= INT64_MAX
    except ValueError:
        return False  # not a number at all: the route's own validation names it


def format_problem(text: str, fmt: str) -> str | None:
    """Why this text is not the document's temporal format, or None."""
    if FORMATS[fmt].fullmatch(text.strip()):
        return None
    return f"not a {fmt.replace('-', ' ')} in ISO 8601{_WITH_OFFSET.get(fmt, '')} (e.g. {_EXAMPLES[fmt]})"


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {str: "a string", list: "a list", dict: "an object", type(None): "null"}.get(type(value), "a value")


def _fits_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float)
                                                                            and value.is_integer())
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _JSON_TYPES.get(kind, object))


def body_problem(value: Any, schema: dict[str, Any], defs: dict[str, Any],
                 where: tuple[str | int, ...] = ()) -> tuple[str, str] | None:
    """The first place a parsed JSON value has another JSON type (or temporal format) than its schema says:
    (dotted field, message), or None. Everything else (lengths, ranges, required fields) is Pydantic's."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = defs.get(ref.rsplit("/", 1)[-1])
        if target is None:
            return None
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    for combinator in ("anyOf", "oneOf"):
        branches = schema.get(combinator)
        if branches:
            found = [body_problem(value, b, defs, where) for b in branches]
            if all(found):  # the branches of the value's own JSON type say best what is wrong with it
                typed = [f for f, b in zip(found, branches, strict=True) if _same_type(value, b, defs)]
                return _deepest(typed or found)
    for branch in schema.get("allOf", ()):
        if problem := body_problem(value, branch, defs, where):
            return problem
    field = ".".join(str(p) for p in where) or "body"
    fmt = schema.get("format")
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_fits_type(value, kind) for kind in kinds):
            if fmt in FORMATS:
                return field, f"{_type_name(value)} where a {fmt.replace('-', ' ')} in ISO 8601 belongs " \
                              f"(e.g. {_EXAMPLES[fmt]})"
            wanted = " or ".join(kinds)
            return field, f"{_type_name(value)} where {'an' if wanted[0] in 'aeiou' else 'a'} {wanted} belongs"
    if isinstance(value, str) and fmt in FORMATS and (message := format_problem(value, fmt)):
        return field, message
    if message := shape_problem(value, schema):
        return field, message
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if extra is False and key not in properties:
                named = ", ".join(sorted(properties)[:12]) or "none"
                return ".".join(str(p) for p in (*where, key)), f"not a field of this operation (its fields: {named})"
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None and (problem := body_problem(item, sub, defs, (*where, key))):
                return problem
    elif isinstance(value, list):
        prefix = schema.get("prefixItems", [])
        items = schema.get("items")
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else items
            if isinstance(sub, dict) and (problem := body_problem(item, sub, defs, (*where, i))):
                return problem
    return None


def _same_type(value: Any, schema: dict[str, Any], defs: dict[str, Any]) -> bool:
    """Whether a value is of (one of) the JSON types a schema names (a schema naming none: yes)."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        schema = defs.get(ref.rsplit("/", 1)[-1], {})
    kinds = schema.get("type")
    if kinds is None:
        return True
    return any(_fits_type(value, kind) for kind in ([kinds] if isinstance(kinds, str) else kinds))


def _deepest(found: list[tuple[str, str] | None]) -> tuple[str, str] | None:
    """Of the problems of a union's branches, the one deepest in the value (the branch that fitted best)."""
    return max((f for f in found if f), key=lambda f: f[0].count(".") + (f[0] != "body"), default=None)


async def check_request(request: Request) -> None:
    """Refuse (422) what the contract calls invalid but FastAPI would take (see the module's docstring)."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    plan = getattr(route, _PLAN_ATTRIBUTE, None)
    if plan is None:  # kept on the route object itself: made once per route, gone with it
        plan = _Plan(route)
        setattr(route, _PLAN_ATTRIBUTE, plan)
    problems: list[tuple[str, str, str]] = []
    path_params, query = request.path_params, request.query_params
    for name in plan.text_path:
        value = path_params.get(name)
        if isinstance(value, str) and len(value) > MAX_PATH_VALUE:
            problems.append(("path", name, f"longer than {MAX_PATH_VALUE} characters"))
        elif isinstance(value, str) and "\x00" in value:
            problems.append(("path", name, NUL_REASON))
    for name in plan.int_path:
        value = path_params.get(name)
        if isinstance(value, str) and _out_of_range(value):
            problems.append(("path", name, f"must be between {INT64_MIN} and {INT64_MAX}"))
    for name, check in plan.path_checks:
        value = path_params.get(name)
        if isinstance(value, str) and (message := check(value)):
            problems.append(("path", name, message))
    if query:
        for name in plan.single_query:
            if len(query.getlist(name)) > 1:
                problems.append(("query", name, "given more than once (it takes one value)"))
        for name in plan.int_query:
            if any(_out_of_range(value) for value in query.getlist(name)):
                problems.append(("query", name, f"must be between {INT64_MIN} and {INT64_MAX}"))
        for name, check in plan.query_checks:
            if message := next((m for value in query.getlist(name) if (m := check(value))), None):
                problems.append(("query", name, message))
    if plan.form:
        problems += await _form_problems(request, plan)
    if plan.body is not None and JSON_BODY_SCOPE_KEY in request.scope:
        found = body_problem(request.scope[JSON_BODY_SCOPE_KEY], plan.body, plan.defs)
        if found is not None:
            problems.append(("body", *found))
    if problems:
        raise RequestValidationError([
            {"type": "contract", "loc": (where, *name.split(".")), "msg": message}
            for where, name, message in problems
        ])


async def _form_problems(request: Request, plan: _Plan) -> list[tuple[str, str, str]]:
    """A form's booleans that are not written true or false, and its text that holds U+0000."""
    # Plain forms only: a multipart body (uploads) is parsed once by FastAPI, with the limits its route sets.
    if not (request.headers.get("content-type") or "").startswith("application/x-www-form-urlencoded"):
        return []
    form = await request.form()  # parsed once: FastAPI reads the same parsed form for the route
    problems: list[tuple[str, str, str]] = []
    for name in plan.form:
        if any(isinstance(value, str) and "\x00" in value for value in form.getlist(name)):
            problems.append(("form", name, NUL_REASON))
    for name in plan.bool_form:
        for value in form.getlist(name):
            if isinstance(value, str) and (message := boolean_problem(value)):
                problems.append(("form", name, message))
                break
    return problems

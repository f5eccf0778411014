"""The code refuses what the API's own document calls invalid (ombud.api.conform): repeated single-valued query
parameters, numbers where a date belongs, JSON values of another type than the document's, overlong path values,
JSON bodies sent under another JSON media type. Each test fails on the code before it (FastAPI took them)."""

from __future__ import annotations

import re
from datetime import timedelta, timezone

import pytest
from accessutil import employee
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ombud import customer_ids
from ombud.api.conform import MAX_PATH_VALUE, body_problem, format_problem
from ombud.api.contract import _request_schemas
from ombud.shapes import matches, written
from ombud.staff.models import Role


def _refused(response, field: str) -> dict:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == field, body
    return body


@pytest.mark.parametrize("path,name", [
    ("/api/insider/alerts?limit=1&limit=2", "limit"),
    ("/api/audit/events?limit=5&limit=6", "limit"),
    ("/api/access/cases?status=open&status=closed", "status"),
    ("/api/notify/outbox?purpose=a&purpose=b", "purpose"),
])
def test_a_single_valued_query_parameter_given_twice_is_refused_naming_it(session, frozen, api, path, name):
    client = api(employee(session, Role.admin))
    body = _refused(client.get(path), name)
    assert "more than once" in body["detail"]
    assert client.get(path.split("&")[0]).status_code == 200


@pytest.mark.parametrize("since", ["0", "1733300000", "20241204", "-5", "2024-1-4"])
def test_a_number_where_a_date_belongs_in_the_query_is_refused(session, frozen, api, since):
    client = api(employee(session, Role.privacy_officer))
    body = _refused(client.post("/api/lookback/plan", params={"since": since}), "since")
    assert "ISO 8601" in body["detail"]
    assert client.post("/api/lookback/plan", params={"since": "2024-04-01"}).status_code == 200


@pytest.mark.parametrize("field,value", [
    ("window_start", 0), ("window_end", 1733300000), ("discovered_at", "1733300000"), ("window_start", "2024-12-04"),
    ("discovered_at", True), ("window_start", 1.5e9), ("discovered_at", "2026-11-03T00:00:00"),
])
def test_a_number_where_a_date_time_belongs_in_a_body_is_refused(session, frozen, api, field, value):
    client = api(employee(session, Role.security_analyst))
    good = {"title": "Lost laptop", "window_start": "2026-11-01T00:00:00Z", "window_end": "2026-11-02T00:00:00Z",
            "discovered_at": "2026-11-03T00:00:00Z", "actors": []}
    _refused(client.post("/api/incidents", json={**good, field: value}), field)


@pytest.mark.parametrize("body,field", [
    ({"case_type": "support_ticket", "customer_id": 123456, "title": "Parcel"}, "customer_id"),
    ({"case_type": "support_ticket", "customer_id": "C000001", "title": ["Parcel"]}, "title"),
    ({"data_class": "contact", "justification": "why", "duration_minutes": "60"}, "duration_minutes"),
    ({"data_class": "contact", "justification": "why", "duration_minutes": True}, "duration_minutes"),
])
def test_a_json_value_of_another_type_than_the_document_says_is_refused(session, frozen, api, body, field):
    client = api(employee(session, Role.privacy_officer))
    path = "/api/access/cases" if "case_type" in body else "/api/access/grants"
    answer = _refused(client.post(path, json=body), field)
    assert "belongs" in answer["detail"]


def test_a_field_the_operation_does_not_take_is_refused_by_name_not_silently_dropped(session, frozen, api):
    """A misspelt field ("clases") would otherwise be dropped and the read done without it: the document says
    each body takes its own fields only, and the edge holds it to that, naming the stray field."""
    client = api(employee(session, Role.privacy_officer))
    answer = _refused(client.post("/api/access/cases", json={
        "case_type": "support_ticket", "customer_id": "C000001", "title": "Parcel", "asignee": "E1"}), "asignee")
    assert "not a field of this operation" in answer["detail"] and "title" in answer["detail"]
    nested = client.post("/api/notify/templates/records_package_ready/preview",
                         json={"context": {"a": [{"b": {"c": 1}}]}})
    assert nested.status_code == 422 and nested.json()["field"].startswith("context.a.0.b")


def test_the_document_describes_every_level_of_a_free_form_value_and_no_model_takes_strays(app):
    document = app.openapi()
    schemas = document["components"]["schemas"]
    level, depth = schemas["JsonValue"], 0
    while "items" in level:
        level, depth = level["items"], depth + 1
    assert depth == 2 and "array" not in level["type"] and "object" not in level["type"]
    for name in _request_schemas(document):
        schema = schemas[name]
        if schema.get("type") == "object" and "properties" in schema:
            assert schema.get("additionalProperties") is False, name


def test_a_boolean_must_be_a_boolean(session, frozen, api):
    client = api(employee(session, Role.admin))
    for value in ("true", 1, "yes"):
        _refused(client.post("/api/access/reviews/rounds/1/close", json={"revoke_unreviewed": value}),
                 "revoke_unreviewed")


@pytest.mark.parametrize("path", ["/api/victim-requests/{v}", "/api/access/profiles/{v}",
                                  "/api/victim-requests/{v}/records"])
@pytest.mark.parametrize("value", ["7" * 5000, "7" * (MAX_PATH_VALUE + 1), "x" * 5000])
def test_overlong_path_values_are_refused_not_a_500(session, frozen, api, path, value):
    client = api(employee(session, Role.admin))
    name = path.split("{")[0].rstrip("/").rsplit("/", 1)[-1]
    field = {"victim-requests": "ref", "profiles": "employee"}[name]
    body = _refused(client.get(path.format(v=value)), field)
    assert value[:20] not in body["detail"]


@pytest.mark.parametrize("value", ["7" * 30, "9" * 200, "³8", "0"])
def test_digits_that_are_no_row_id_are_not_found_not_a_500(session, frozen, api, value):
    client = api(employee(session, Role.admin))
    assert client.get(f"/api/victim-requests/{value}").status_code in (404, 422)
    assert client.get(f"/api/access/profiles/{value}").status_code in (404, 422)


@pytest.mark.parametrize("media", ["application/merge-patch+json", "application/vnd.ombud+json; charset=utf-8"])
def test_a_json_body_under_another_json_media_type_gets_the_same_limits(session, frozen, api, media):
    client = api(employee(session, Role.privacy_officer))
    long = b'{"case_type": "support_ticket", "customer_id": "C000001", "title": "' + b"x" * 20_000 + b'"}'
    _refused(client.post("/api/access/cases", content=long, headers={"content-type": media}), "title")
    broken = client.post("/api/access/cases", content=b'{"title": "\xff"}', headers={"content-type": media})
    assert broken.status_code == 422 and broken.json()["field"] == "body"


def test_a_lookback_import_with_bad_rows_is_422_naming_line_and_field(session, frozen, api):
    client = api(employee(session, Role.privacy_officer))
    header = b"contact_id,contacted_at,channel,name,email\n"
    bad = client.post("/api/lookback/import", content=header + b"T1,yesterday,email,Ann,ann@example.com\n",
                      headers={"content-type": "text/csv"})
    body = _refused(bad, "body")
    assert body["errors"][0] == {"field": "line 2, contacted_at", "message": body["errors"][0]["message"]}
    for skip_bad in ("false", "true"):  # a file with no good row imports nothing either way
        junk = client.post(f"/api/lookback/import?skip_bad={skip_bad}", content=b"0",
                           headers={"content-type": "text/csv"})
        assert _refused(junk, "body")["errors"][0]["field"] == "line 1, header"
    unclosed = client.post("/api/lookback/import", content=b'"contact_id\n\t\x01"x',
                           headers={"content-type": "text/csv"})
    assert _refused(unclosed, "body")["errors"][0]["field"] == "line 1, header"  # not a 500
    huge = ("x" * 5000).encode()
    echoed = client.post("/api/lookback/import", content=header.rstrip(b"\n") + b"," + huge + b"\n",
                         headers={"content-type": "text/csv"})
    assert echoed.status_code == 422 and "x" * 50 not in echoed.text
    good = client.post("/api/lookback/import", content=header + b"T1,2024-06-11,email,Ann,ann@example.com\n",
                       headers={"content-type": "text/csv"})
    assert good.status_code == 200 and good.json()["imported"] == 1


# --- the pure checks ----------------------------------------------------------------------------------------------


_OFFSETS = st.integers(-23 * 60 + 1, 23 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


@given(st.datetimes(timezones=_OFFSETS))
def test_every_iso_date_time_passes_the_format(value):
    assert format_problem(value.isoformat(), "date-time") is None
    assert format_problem(value.date().isoformat(), "date") is None
    assert format_problem(value.time().isoformat(), "time") is None
    assert format_problem(value.replace(tzinfo=None).time().isoformat(), "time") is None


@given(st.datetimes(timezones=st.none()))
def test_a_date_time_without_its_offset_is_refused_by_name(value):
    problem = format_problem(value.isoformat(), "date-time")
    assert problem is not None and "UTC offset" in problem


@given(st.integers() | st.floats(allow_nan=False).map(str))
def test_no_number_passes_as_a_date_time(value):
    assert format_problem(str(value), "date-time") is not None
    assert format_problem(str(value), "date") is not None


def test_body_types_follow_refs_unions_and_nesting():
    defs = {"Item": {"type": "object", "properties": {"n": {"type": "integer"}, "at": {"type": "string",
                                                                                       "format": "date-time"}}}}
    schema = {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
                                               "maybe": {"anyOf": [{"type": "boolean"}, {"type": "null"}]}}}
    assert body_problem({"items": [{"n": 1}, {"n": 2.0}], "maybe": None}, schema, defs) is None
    assert body_problem({"items": [{"n": 1}, {"n": "2"}]}, schema, defs)[0] == "items.1.n"
    assert body_problem({"items": [{"at": 5}]}, schema, defs)[0] == "items.0.at"
    assert body_problem({"maybe": "false"}, schema, defs)[0] == "maybe"
    assert body_problem([], schema, defs)[0] == "body"


# --- the positive direction: what the code checks, the document says (ombud.shapes) ----------------------------

_TEXT = st.text(alphabet="0123456789-.:_ +xXtelphonEXTaAbBC@\n\t\u00a0\u2003", max_size=70) | st.text(max_size=70)


def _documented(pattern: str) -> re.Pattern[str]:
    """A document's pattern as JSON Schema reads it (searched; a closing $ is the end of the text)."""
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(_TEXT | st.from_regex(_documented(customer_ids.json_pattern(None))))
def test_the_documented_customer_id_pattern_is_the_codes_rule(value):
    documented = _documented(customer_ids.json_pattern(None)).search(value) is not None
    assert documented == (customer_ids.problem(value) is None), value


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(_TEXT | st.from_regex(r"C[0-9]{9}", fullmatch=True))
def test_a_retailers_pattern_is_documented_as_the_code_applies_it(value):
    try:
        customer_ids.configure(r"C[0-9]{9}")
        documented = _documented(customer_ids.json_pattern(r"C[0-9]{9}")).search(value) is not None
        assert documented == (customer_ids.problem(value) is None), value
    finally:
        customer_ids.configure(None)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=" \t\n\u00a0\u3000\x1cab", max_size=12), st.integers(1, 5))
def test_a_stripped_length_is_documented_as_python_strips(value, least):
    assert matches(written(least), value) == (len(value.strip()) >= least), (value, least)


def _customer_id_schemas(document: dict) -> list[tuple[str, dict]]:
    """Every request schema of a customer id in the document: path and query parameters, body properties."""
    found = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            for p in op.get("parameters", []):
                if p["name"] == "customer_id":
                    found += [(f"{method} {path} {p['in']}", b) for b in _strings(p["schema"])]
    for name, schema in document["components"]["schemas"].items():
        prop = schema.get("properties", {}).get("customer_id")
        if prop is not None and name in _request_schemas(document):
            found += [(name, b) for b in _strings(prop)]
    return found


def _strings(schema: dict) -> list[dict]:
    return [b for b in [schema, *schema.get("anyOf", [])] if b.get("type") == "string"]


def test_every_customer_id_the_api_takes_carries_the_id_pattern_in_effect(app):
    found = _customer_id_schemas(app.openapi())
    assert len(found) >= 10, found
    for where, schema in found:
        assert schema.get("pattern") == customer_ids.json_pattern(None), where
        assert schema.get("maxLength", 10**9) <= 64, where


def test_the_document_carries_the_retailers_own_id_pattern_when_one_is_set(ctx):
    from ombud.app import create_app

    settings_ = ctx.settings.model_copy(update={"customer_id_pattern": r"C[0-9]{9}"})
    try:
        document = create_app(settings_).openapi()
    finally:
        customer_ids.configure(ctx.settings.customer_id_pattern)
    for where, schema in _customer_id_schemas(document):
        assert schema["pattern"] == customer_ids.json_pattern(r"C[0-9]{9}"), where
    assert "C[0-9]{9}" in customer_ids.json_pattern(r"C[0-9]{9}")


@pytest.mark.parametrize("path", ["/api/audit/events", "/api/access/decisions", "/api/access/cases",
                                  "/api/access/transparency/{v}"])
@pytest.mark.parametrize("typed", ["555-010-0001", "jane@example.com", "A1 "])
def test_a_customer_id_filter_without_the_id_shape_is_refused_naming_it(session, frozen, api, path, typed):
    client = api(employee(session, Role.admin))
    if "{v}" in path:
        answer = client.get(path.replace("{v}", typed))
    else:
        answer = client.get(path, params={"customer_id": typed})
    _refused(answer, "customer_id")
    assert typed not in answer.text  # the value is never echoed whole


def test_valid_tree_sizes_that_name_no_event_are_not_found_not_invalid(session, frozen, api):
    client = api(employee(session, Role.privacy_officer))
    assert client.get("/api/audit/proof/inclusion", params={"index": 10**6, "tree_size": 10**7}).status_code == 404
    assert client.get("/api/audit/proof/consistency", params={"first": 10**7, "second": 2}).status_code == 404


def test_text_holding_a_nul_is_refused_naming_the_field_never_a_store_error(session, frozen, api):
    # PostgreSQL's text cannot hold U+0000: before, a valid-by-the-document string with one was a store error.
    client = api(employee(session, Role.privacy_officer))
    body = {"kind": "standing", "data_class": "video", "justification": "an audit of video \x00 access"}
    _refused(client.post("/api/access/grants", json=body), "justification")
    _refused(client.get("/api/audit/events", params={"action": "access\x00"}), "action")
    _refused(client.get("/api/access/profiles/E1%00"), "employee")
    strings = [s for s in _request_strings(client.app.openapi()) if not {"enum", "format"} & s.keys()]
    assert strings and all("pattern" in s for s in strings)  # the document says it of every request string


def _request_strings(document: dict) -> list[dict]:
    names = _request_schemas(document)
    out: list[dict] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "string" and "contentMediaType" not in node:
                out.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([document["components"]["schemas"][n] for n in names])
    walk([op.get("parameters", []) for item in document["paths"].values() for op in item.values()])
    return out

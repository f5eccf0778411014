"""Schemathesis against the app's own OpenAPI document, bounded: every operation of every router (present and
future ones alike), signed in as an admin, with generated valid and invalid input. No answer may be a 500, every
status must be one the document lists, and the document and the code agree in both directions:

- input the document calls invalid is refused (a 4xx), never taken as something else (negative data rejection: a
  repeated single-valued query parameter, a number where a date-time belongs; ombud.api.conform);
- input the document calls valid is never refused as invalid (positive data acceptance: no 422). The code's
  checks are stated in the document (customer ids, names of fields and classes, purposes, stripped lengths: see
  ombud.shapes); a valid request about something that does not exist, or not in that state, is 404 or 409.

The only 422s a valid-by-the-document request may get are listed in ``BEYOND_THE_SCHEMA``, each naming the field
the code refuses and why JSON Schema cannot say it (a rule across two fields' values, a checksum, a file's
contents); the answer must name exactly that field."""

from __future__ import annotations

import os

import pytest
import schemathesis
from accessutil import employee
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.errors import SerializationNotPossible
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    status_code_conformance,
)

from ombud.staff import service as staff_service
from ombud.staff.models import Role

pytestmark = pytest.mark.slow

#: Examples per operation and mode: enough to reach the edges (huge integers, long strings, wrong types), few
#: enough that the whole run stays within seconds per store.
EXAMPLES = 8
#: In CI the same examples every run (a landing is judged on the code, not on a draw); elsewhere a new draw each
#: run, so the edges keep being explored.
FIXED_DRAW = os.environ.get("CI") == "true"

#: Operations whose valid-by-the-document input the code may still refuse with 422, and the fields it names.
BEYOND_THE_SCHEMA: dict[str, dict[str, str]] = {
    "POST /api/incidents": {
        "window_end": "ends after window_start and at most ten years later: a rule across two fields' values"},
    "POST /api/incidents/notice-wording": {
        "template": "the text must hold each heading a jurisdiction in scope requires: depends on the store"},
    "POST /api/notify/templates/{name}/preview": {
        "template": "the context must give every field the template named in the path uses"},
    "POST /api/lookback/import": {
        "body": "the uploaded file's rows (CSV or JSON Lines) are checked line by line, named by line and reason",
        "line 1, header": "the same: the file's header row"},
    **{op: {
        "email": "an email address as the identity normaliser reads it",
        "other_emails": "the same, for each",
        "phone": "a phone number as the identity normaliser reads it (many written forms)",
        "other_phones": "the same, for each",
        "date_of_birth": "a real date in one of several written forms",
        "ssn": "a Social Security number the SSA could have issued (area, group and serial rules)",
        "card_numbers": "card numbers pass the Luhn checksum",
        "agency.email": "as email", "agency.phone": "as phone",
        "body": "an email address or a postal address to send the records to, as the normaliser reads them",
        "received_at": "a letter's received time is not in the future: relative to the server's clock",
    } for op in ("POST /api/victim-requests", "POST /api/victim-requests/letters")},
}


def valid_input_accepted(ctx, response, case):
    """Positive data acceptance, but for the 422s of BEYOND_THE_SCHEMA, which must name their field."""
    allowed = BEYOND_THE_SCHEMA.get(case.operation.label, {})
    if response.status_code == 422 and allowed:
        fields = {p["field"] for p in response.json().get("errors") or [{"field": response.json().get("field")}]}
        if fields <= allowed.keys():
            return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = {GenerationMode.POSITIVE: [not_a_server_error, status_code_conformance, valid_input_accepted],
          GenerationMode.NEGATIVE: [not_a_server_error, status_code_conformance, negative_data_rejection]}

#: A refusal of invalid input is any 4xx the document lists for it: 413 (a body over the limit) included. Valid
#: input may be refused for who asks (401, 403), for what it names (404) or its state (409), never as invalid.
CONFIG = SchemathesisConfig.from_dict({"checks": {
    "negative_data_rejection": {"expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]},
    "positive_data_acceptance": {"expected-statuses": ["2XX", 401, 403, 404, 409]},
}})


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_holds_under_fuzzing(app, session, frozen, mode):
    admin = employee(session, Role.admin)
    token = staff_service.create_api_token(session, admin, name="fuzz").token
    session.flush()
    headers = {"authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    checks = CHECKS[mode]
    skipped: list[str] = []
    for operation in operations:

        @given(operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  derandomize=FIXED_DRAW)
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=checks)

        try:
            fuzz()
        except Unsatisfiable:  # nothing of this operation can be made invalid (it takes no input)
            assert mode is GenerationMode.NEGATIVE
        except SerializationNotPossible:  # a body Schemathesis cannot write (e.g. application/zip): not fuzzed
            skipped.append(operation.label)
    assert len(skipped) <= 3, skipped

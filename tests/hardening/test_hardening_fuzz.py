"""Schemathesis against the app's own OpenAPI document, bounded: every operation of every router (present and
future ones alike), signed in as an admin, with generated valid and invalid input. No answer may be a 500, every
status must be one the document lists, and input the document calls invalid must be refused (a 4xx), never taken
as something else (negative data rejection: a repeated single-valued query parameter, a number where a date-time
belongs, a string where an integer belongs; ombud.api.conform)."""

from __future__ import annotations

import pytest
import schemathesis
from accessutil import employee
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.errors import SerializationNotPossible
from schemathesis.specs.openapi.checks import negative_data_rejection, status_code_conformance

from ombud.staff import service as staff_service
from ombud.staff.models import Role

pytestmark = pytest.mark.slow

#: Examples per operation and mode: enough to reach the edges (huge integers, long strings, wrong types), few
#: enough that the whole run stays within seconds per store.
EXAMPLES = 8
CHECKS = {GenerationMode.POSITIVE: [not_a_server_error, status_code_conformance],
          GenerationMode.NEGATIVE: [not_a_server_error, status_code_conformance, negative_data_rejection]}

#: A refusal of invalid input is any 4xx the document lists for it: 413 (a body over the limit) included.
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {
    "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]}}})


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
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=checks)

        try:
            fuzz()
        except Unsatisfiable:  # nothing of this operation can be made invalid (it takes no input)
            assert mode is GenerationMode.NEGATIVE
        except SerializationNotPossible:  # a body Schemathesis cannot write (e.g. application/zip): not fuzzed
            skipped.append(operation.label)
    assert len(skipped) <= 3, skipped

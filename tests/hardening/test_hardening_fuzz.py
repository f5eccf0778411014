"""Schemathesis against the app's own OpenAPI document, bounded: every operation of every router (present and
future ones alike), signed in as an admin, with generated valid and invalid input. No answer may be a 500, and
every status must be one the document lists. (Schemathesis' negative_data_rejection is not asserted yet: FastAPI
takes the last of a repeated scalar query parameter and a number as a date-time, both of which the document
calls invalid.)"""

from __future__ import annotations

import pytest
import schemathesis
from accessutil import employee
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import SerializationNotPossible
from schemathesis.specs.openapi.checks import status_code_conformance

from ombud.staff import service as staff_service
from ombud.staff.models import Role

pytestmark = pytest.mark.slow

#: Examples per operation and mode: enough to reach the edges (huge integers, long strings, wrong types), few
#: enough that the whole run stays within seconds per store.
EXAMPLES = 8
CHECKS = [not_a_server_error, status_code_conformance]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_holds_under_fuzzing(app, session, frozen, mode):
    admin = employee(session, Role.admin)
    token = staff_service.create_api_token(session, admin, name="fuzz").token
    session.flush()
    headers = {"authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    checks = CHECKS
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

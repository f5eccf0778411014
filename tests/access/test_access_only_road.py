"""The broker is the only road to customer personal data, checked two ways that also cover future code:

1. Statically: no module of the faces (every file under ombud/api, ombud/web, ombud/cli, found by walking the
   folders, so new modules are included) imports the retail tables, the retail read helpers or the broker's
   own loader. The faces get customer data as broker views only.
2. At the store: with the data-layer guard installed, every route of the running app (found from the app
   itself, so other domains' routes and future ones are included) is called as an admin with real ids in its
   path; any SQL selecting a personal retail column outside the broker fails the test, naming the route.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from accessutil import case, customer, employee
from fastapi.testclient import TestClient

import ombud
from ombud.access import breakglass, grants, guard
from ombud.access.models import GrantKind
from ombud.retail import models as retail_models
from ombud.staff import service as staff_service
from ombud.staff.models import Role
from ombud.web.templating import app_routes

PACKAGE = Path(ombud.__file__).parent
FACES = ("api", "web", "cli")
#: Modules that hand out personal fields; only the broker (ombud.access) may import them.
FORBIDDEN = ("ombud.retail.service", "ombud.access.records")
RETAIL_MODELS = "ombud.retail.models"
#: Retail table classes by name, and their personal columns (a face may count their rows, never read these).
PERSONAL_ATTRS = {
    cls.__name__: set(guard.PERSONAL_COLUMNS.get(cls.__tablename__, ()))
    for cls in vars(retail_models).values()
    if isinstance(cls, type) and getattr(cls, "__tablename__", "").startswith("retail_")
}
#: Calls that load whole rows when given a table class.
LOADERS = {"select", "get", "get_one", "query", "scalars", "load_only"}


def face_modules() -> list[Path]:
    return sorted(p for face in FACES for p in (PACKAGE / face).rglob("*.py"))


def forbidden_imports(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    """What a face module does that could read personal data without the broker (empty when nothing)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(root)
    found: list[str] = []
    classes: dict[str, str] = {}  # names bound to retail table classes -> class name
    modules: set[str] = set()  # names bound to the retail models module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == RETAIL_MODELS:
            classes |= {a.asname or a.name: a.name for a in node.names if a.name in PERSONAL_ATTRS}
        elif isinstance(node, ast.ImportFrom) and node.module == "ombud.retail":
            modules |= {a.asname or a.name for a in node.names if a.name == "models"}
        elif isinstance(node, ast.Import):
            modules |= {a.asname for a in node.names if a.name == RETAIL_MODELS and a.asname}

    def table_class(expr: ast.expr) -> str | None:
        if isinstance(expr, ast.Name) and expr.id in classes:
            return classes[expr.id]
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id in modules \
                and expr.attr in PERSONAL_ATTRS:
            return expr.attr
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and guard.personal_columns_in(node.value):
            found.append(f"{where}:{node.lineno} has SQL reading personal columns")
        elif isinstance(node, ast.Attribute) and (cls := table_class(node.value)) and node.attr in PERSONAL_ATTRS[cls]:
            found.append(f"{where}:{node.lineno} reads {cls}.{node.attr}")
        elif isinstance(node, ast.Call):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if func in LOADERS and any(table_class(arg) for arg in node.args):
                found.append(f"{where}:{node.lineno} loads whole {RETAIL_MODELS} rows with {func}()")
            if func in ("__import__", "import_module") and node.args and isinstance(node.args[0], ast.Constant):
                name = str(node.args[0].value)
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                    found.append(f"{where}:{node.lineno} imports {name}")
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names = [a.name for a in node.names]
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{n}" for n in names]
            for name in names:
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                    found.append(f"{where}:{node.lineno} imports {name}")
    return found


def test_faces_do_not_import_personal_data_outside_the_broker():
    modules = face_modules()
    assert len(modules) >= 10, "the scan must see the faces"
    problems = [p for path in modules for p in forbidden_imports(path)]
    assert problems == [], "faces must read customer data through ombud.access.broker:\n" + "\n".join(problems)


def test_the_scan_catches_what_it_should(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from ombud.retail.models import Account as A\nfrom ombud.retail import models as m\n"
        "import ombud.retail.service as s\nfrom ombud.access import records\n"
        "Q = 'SELECT retail_account.email FROM retail_account'\n"
        "x = select(A.email)\ny = session.get(m.SupportNote, 1)\nz = select(func.count()).select_from(A)\n"
    )
    problems = sorted(forbidden_imports(bad, tmp_path))
    assert problems == [
        "bad.py:3 imports ombud.retail.service", "bad.py:4 imports ombud.access.records",
        "bad.py:5 has SQL reading personal columns", "bad.py:6 reads Account.email",
        "bad.py:7 loads whole ombud.retail.models rows with get()",
    ]


@pytest.mark.parametrize(("sql", "hit"), [
    ("SELECT retail_account.id, retail_account.email FROM retail_account", True),
    ("SELECT retail_account_1.name FROM retail_account AS retail_account_1", True),
    ("SELECT * FROM retail_support_note", True),
    ("SELECT count(*) AS count_1 FROM retail_account", False),
    ("SELECT retail_account.id, retail_account.status FROM retail_account", False),
    ("INSERT INTO retail_account (external_id, name, email) VALUES (?, ?, ?)", False),
])
def test_the_guard_recognises_personal_reads(sql, hit):
    assert bool(guard.personal_columns_in(sql)) is hit


def test_the_guard_refuses_a_direct_read_and_lets_the_broker_through(session, engine, frozen):
    from sqlalchemy import select

    from ombud.access import broker
    from ombud.errors import PolicyDenied
    from ombud.retail.models import Account

    agent, acct = employee(session), customer(session)
    c = case(session, acct, agent)
    remove = guard.install(engine)
    try:
        with pytest.raises(PolicyDenied, match="only through the access broker"):
            session.execute(select(Account.email).where(Account.id == acct.id)).all()
        view = broker.read(session, agent, customer_id=acct.external_id, fields=["email"], purpose=f"case:{c.id}")
        assert view.fields["email"] == acct.email
        with guard.system_scope("identity index rebuild"):
            assert session.execute(select(Account.email).where(Account.id == acct.id)).scalar() == acct.email
    finally:
        remove()


def _path_values(session) -> dict[str, str]:
    admin = employee(session, Role.admin)
    agent, officer = employee(session), employee(session, Role.privacy_officer)
    acct = customer(session)
    c = case(session, acct, agent)
    grant = grants.request_grant(session, requester=agent, kind=GrantKind.just_in_time, data_class="payment",
                                 customer_id=acct.external_id, justification="card dispute needs the expiry date")
    grants.approve(session, grant, approver=officer)
    glass = breakglass.open_break_glass(session, employee=agent, customer_id=acct.external_id,
                                        justification="customer reports takeover in progress on the phone",
                                        classes=["contact"])
    return {"customer_id": acct.external_id, "case_id": str(c.id), "grant_id": str(grant.id),
            "record_id": str(glass.id), "employee": agent.external_id, "account_id": acct.external_id,
            "external_id": acct.external_id, "purpose": f"case:{c.id}", "classes": "contact,payment",
            "_admin": str(admin.id)}


def _example_body(spec: dict, path: str, method: str, values: dict[str, str]) -> dict:
    """A minimal body that passes validation, from the app's OpenAPI schema (real ids where names match)."""
    operation = spec.get("paths", {}).get(path, {}).get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {})
    schema = next(iter(content.values()), {}).get("schema", {})
    return _example(spec, schema, values, "body") or {}


def _example(spec: dict, schema: dict, values: dict[str, str], name: str):
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return _example(spec, options[0], values, name) if options else None
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {prop: _example(spec, sub, values, prop) for prop, sub in schema.get("properties", {}).items()
                if prop in schema.get("required", []) or prop in values}
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "boolean":
        return False
    if kind == "array":
        return values.get(name, "").split(",") if name in values else []
    if kind == "number":
        return 1
    default = values.get(name, "a plausible value for the scan")
    return default[: schema.get("maxLength", len(default))]


def test_no_route_reads_personal_columns_outside_the_broker(session, engine, settings, ctx, frozen):
    from ombud.app import create_app

    values = _path_values(session)
    admin = staff_service.get_employee(session, int(values.pop("_admin")))
    token = staff_service.create_api_token(session, admin, name="route scan").token
    session.flush()
    app = create_app(ctx=ctx)
    spec = app.openapi()
    api = TestClient(app, headers={"authorization": f"Bearer {token}"}, raise_server_exceptions=False)

    def page_client() -> tuple[TestClient, str]:
        # A fresh sign-in for every call: some routes (sign-out, password change) end the session they run in.
        started = staff_service.start_session(session, settings, admin, ip="127.0.0.1", user_agent="scan")
        session.flush()
        client = TestClient(app, headers={"accept": "text/html", "x-csrf-token": started.record.csrf_token},
                            follow_redirects=False, raise_server_exceptions=False)
        client.cookies.set("ombud_session", started.token)
        return client, started.record.csrf_token

    violations: list[tuple[str, list[str]]] = []
    remove = guard.install(engine, mode="record", sink=violations)
    offenders: dict[str, list[str]] = {}
    reached = 0
    try:
        for route in app_routes(app):
            if route.is_mount or route.path in ("/docs", "/openapi.json", "/docs/oauth2-redirect", "/redoc"):
                continue
            path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), route.path)
            for method in sorted(route.methods & {"GET", "POST", "PUT", "PATCH", "DELETE"}):
                before = len(violations)
                if path.startswith("/api/"):
                    body = _example_body(spec, route.path, method, values) if method != "GET" else None
                    response = api.request(method, path, json=body)
                else:
                    client, csrf = page_client()
                    form = {k: v.split(",") if "," in v else v for k, v in values.items()}
                    data = {"csrf_token": csrf, **form} if method != "GET" else None
                    response = client.request(method, path, data=data)
                reached += response.status_code not in (401, 404, 405, 422)
                if len(violations) > before:
                    offenders[f"{method} {route.path}"] = sorted({c for _, cols in violations[before:] for c in cols})
    finally:
        remove()
    assert reached >= 40, "the scan must get past validation and authorisation on most routes"
    assert offenders == {}, "routes reading personal columns outside the broker: " + repr(offenders)

"""Every table of every domain, imported in one place so the metadata (and Alembic) sees them all."""

from ombud.access import models as access_models
from ombud.audit import models as audit_models
from ombud.db import Base
from ombud.identity import models as identity_models
from ombud.incidents import models as incidents_models
from ombud.insider import events as insider_events
from ombud.insider import models as insider_models
from ombud.lookback import models as lookback_models
from ombud.notify import models as notify_models
from ombud.records import models as records_models
from ombud.retail import models as retail_models
from ombud.staff import models as staff_models
from ombud.victim_requests import models as victim_request_models

metadata = Base.metadata

__all__ = [
    "access_models",
    "audit_models",
    "identity_models",
    "incidents_models",
    "insider_events",
    "insider_models",
    "lookback_models",
    "metadata",
    "notify_models",
    "records_models",
    "retail_models",
    "staff_models",
    "victim_request_models",
]

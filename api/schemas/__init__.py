"""Request and response bodies of the REST API (docs/design.md §6.2 field names are a contract).

One module per part of the API, as the routes are split:

- ``base``: the response base ``Out``, ``DomainOut`` (a response model whose fields come from
  the domain dataclass it shows, so a new field is added in one place), ``Problem``, ``iso``.
- ``items``: catalogue records, imports, tags and bindings, an item's history.
- ``loans``: loans and their requests (filed, approved or rejected).
- ``catalogue``: electronic records the catalogue service pushes, and the change feed.
- ``disposal``: disposal and transfer proposals, approvals and what was done.
- ``locations``: whereabouts, batch lookups, shelf contents, moves, racks.
- ``alarms``: alarms.
- ``audit``: audit entries and the chain's proof.
- ``reconciliation``: runs, reports, key-field copies, campaigns, spot checks.
- ``stacker``: stacker jobs, decisions and state.
- ``climate``: rooms, sensors, buses and minute history.

Everything is importable from ``api.schemas`` as well.
"""

from api.schemas.alarms import AlarmOut
from api.schemas.audit import AuditEntryOut, VerifyOut
from api.schemas.base import DomainOut, Out, Problem, iso
from api.schemas.climate import (
    ClimateBusOut,
    ClimateHistoryOut,
    ClimateLimitsOut,
    ClimateMinuteOut,
    ClimateOut,
    ClimateReadingOut,
    ClimateRoomOut,
    ClimateSensorOut,
    PreservationOut,
    SensorCountersOut,
)
from api.schemas.items import (
    BindingOut,
    HistoryOut,
    ImportJobOut,
    ImportOut,
    ItemIn,
    ItemOut,
    RowErrorOut,
    TagIn,
    TagOut,
    TraceOut,
)
from api.schemas.loans import (
    BoxOut,
    BoxResultOut,
    CartIn,
    CartLoanIn,
    CartOut,
    CartReturnIn,
    LoanIn,
    LoanOut,
    RenewIn,
    ReturnIn,
    StatusFilter,
)
from api.schemas.locations import (
    LocationDefOut,
    LocationOut,
    LookupIn,
    LookupOut,
    MoveIn,
    PlaceOut,
    RackIn,
    RackOut,
    ShelfItemOut,
    ShelfOut,
)
from api.schemas.reconciliation import (
    CampaignIn,
    CampaignLocationOut,
    CampaignOut,
    KeyFieldCopiesIn,
    KeyFieldCopiesOut,
    KeyFieldCopyOut,
    OutcomeIn,
    ReportPageOut,
    ReportRowOut,
    RunOut,
    SpotCheckIn,
    SpotCheckItemOut,
    SpotCheckOut,
    SpotCheckSummaryOut,
)
from api.schemas.stacker import (
    CellIn,
    CellRef,
    PositionOut,
    StackerDecisionIn,
    StackerJobIn,
    StackerJobOut,
    StackerOut,
    StackerPlaceOut,
    cell_arg,
)

__all__ = [
    "AlarmOut",
    "AuditEntryOut",
    "BindingOut",
    "BoxOut",
    "BoxResultOut",
    "CampaignIn",
    "CampaignLocationOut",
    "CampaignOut",
    "CartIn",
    "CartLoanIn",
    "CartOut",
    "CartReturnIn",
    "CellIn",
    "CellRef",
    "ClimateBusOut",
    "ClimateHistoryOut",
    "ClimateLimitsOut",
    "ClimateMinuteOut",
    "ClimateOut",
    "ClimateReadingOut",
    "ClimateRoomOut",
    "ClimateSensorOut",
    "DomainOut",
    "HistoryOut",
    "ImportJobOut",
    "ImportOut",
    "ItemIn",
    "ItemOut",
    "KeyFieldCopiesIn",
    "KeyFieldCopiesOut",
    "KeyFieldCopyOut",
    "LoanIn",
    "LoanOut",
    "LocationDefOut",
    "LocationOut",
    "LookupIn",
    "LookupOut",
    "MoveIn",
    "Out",
    "OutcomeIn",
    "PlaceOut",
    "PositionOut",
    "PreservationOut",
    "Problem",
    "RackIn",
    "RackOut",
    "RenewIn",
    "ReportPageOut",
    "ReportRowOut",
    "ReturnIn",
    "RowErrorOut",
    "RunOut",
    "SensorCountersOut",
    "ShelfItemOut",
    "ShelfOut",
    "SpotCheckIn",
    "SpotCheckItemOut",
    "SpotCheckOut",
    "SpotCheckSummaryOut",
    "StackerDecisionIn",
    "StackerJobIn",
    "StackerJobOut",
    "StackerOut",
    "StackerPlaceOut",
    "StatusFilter",
    "TagIn",
    "TagOut",
    "TraceOut",
    "VerifyOut",
    "cell_arg",
    "iso",
]

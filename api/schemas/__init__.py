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
- ``climate_control``: each room's actuators, their state and overrides.

A route imports a model from the module of its part (``from api.schemas.loans import LoanOut``).
"""

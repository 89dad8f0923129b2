"""The one strict base of the project's pydantic models.

Configuration tables, catalogue records and device scripts are read from files and requests
written by people, so a misspelt key must be an error rather than a silently ignored setting.
Every such model derives from :class:`StrictModel`: unknown fields are refused, a validated
value is not changed afterwards (frozen; use ``model_copy(update=...)``), and an attribute's
docstring is its description in the JSON schema and the configuration reference. A subclass
adds what it needs (``populate_by_name``, ``str_strip_whitespace``) with its own
``model_config``, which pydantic merges with this one.

It lives in ``drivers`` because every layer may import drivers (the import-linter contracts in
pyproject.toml): the pure cores' configuration, the daemon, the API and the simulators alike.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown fields are refused, values are frozen, attribute docstrings describe fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

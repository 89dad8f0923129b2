"""The one strict base model: unknown fields refused, values frozen, docstrings as descriptions;
and the project's configuration tables all derive from it."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

import daemon.config
import rfid.config
import sensors.config
import stacker.config
from daemon.ledger.items import ItemFields
from daemon.reconcile.copies import KeyFieldCopy
from drivers.models import StrictModel


class Probe(StrictModel):
    count: int = 0
    """How many there are."""


class Stripped(StrictModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str


def test_an_unknown_field_is_an_error_not_a_silent_default() -> None:
    with pytest.raises(ValidationError) as e:
        Probe.model_validate({"count": 1, "cuont": 2})
    assert e.value.errors()[0]["type"] == "extra_forbidden"
    assert e.value.errors()[0]["loc"] == ("cuont",)


def test_a_validated_value_cannot_be_changed_only_copied() -> None:
    probe = Probe(count=1)
    with pytest.raises(ValidationError, match="frozen"):
        probe.count = 2  # type: ignore[misc]
    assert probe.model_copy(update={"count": 2}).count == 2
    assert probe.count == 1


def test_an_attribute_docstring_is_the_field_description() -> None:
    assert Probe.model_json_schema()["properties"]["count"]["description"] == "How many there are."


def test_a_subclass_adds_to_the_strict_configuration_without_losing_it() -> None:
    assert Stripped(name="  desk  ").name == "desk"
    with pytest.raises(ValidationError, match="extra"):
        Stripped.model_validate({"name": "desk", "nmae": "x"})
    with pytest.raises(ValidationError, match="frozen"):
        Stripped(name="desk").name = "gate"  # type: ignore[misc]


def _models(module: ModuleType) -> list[type[BaseModel]]:
    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, BaseModel) and obj.__module__ == module.__name__
    ]


@pytest.mark.parametrize("module", [daemon.config, rfid.config, sensors.config, stacker.config])
def test_every_configuration_table_is_strict(module: ModuleType) -> None:
    models = [m for m in _models(module) if m is not daemon.config.ArchroomConfig]
    assert models
    loose = [m.__name__ for m in models if not issubclass(m, StrictModel)]
    assert loose == []


@pytest.mark.parametrize("model", [ItemFields, KeyFieldCopy])
def test_catalogue_input_is_strict(model: type[BaseModel]) -> None:
    with pytest.raises(ValidationError, match="extra"):
        model.model_validate({"title": "t", "retention": "Y", "surprise": 1})
    assert issubclass(model, StrictModel)

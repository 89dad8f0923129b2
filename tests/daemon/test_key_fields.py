"""The key-field types: the catalogue record and the catalogue service's copy check alike."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from daemon.ledger.items import ItemFields
from daemon.reconcile.copies import KeyFieldCopy

VALID_ID = "11010519491231002X"


def _item(**fields: Any) -> ItemFields:
    return ItemFields.model_validate({"title": "Personnel file", "retention": "Y", **fields})


def _copy(**fields: Any) -> KeyFieldCopy:
    return KeyFieldCopy.model_validate(fields)


BOTH = [pytest.param(_item, id="item"), pytest.param(_copy, id="catalogue-copy")]


@pytest.mark.parametrize("build", BOTH)
def test_identity_numbers_are_trimmed_upper_cased_and_checked(build: Any) -> None:
    model: BaseModel = build(
        resident_id=" 11010519491231002x ", social_security_no=VALID_ID.lower()
    )
    assert model.model_dump(include={"resident_id", "social_security_no"}) == {
        "resident_id": VALID_ID,
        "social_security_no": VALID_ID,
    }


@pytest.mark.parametrize("build", BOTH)
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("resident_id", "110105194912310021", "GB 11643"),
        ("resident_id", "1" * 19, "at most 18 characters"),
        ("social_security_no", "12345", "neither a valid resident ID"),
        ("approval_no", "HR\x00-7", "NUL character"),
        ("approval_no", "x" * 101, "at most 100 characters"),
    ],
)
def test_a_bad_key_field_is_refused_with_its_reason(
    build: Any, field: str, value: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as e:
        build(**{field: value})
    assert e.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize("build", BOTH)
@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_key_field_means_none(build: Any, blank: str) -> None:
    model: BaseModel = build(resident_id=blank, approval_no=blank, social_security_no=blank)
    assert model.model_dump(include={"resident_id", "approval_no", "social_security_no"}) == {
        "resident_id": None,
        "approval_no": None,
        "social_security_no": None,
    }

"""Catalogue records for tests, put through the API as a person would."""

from __future__ import annotations

import httpx

from tests.support.poll import eventually

VALID_RESIDENT_ID = "11010519491231002X"
VALID_CREDIT_CODE = "91110000600037341L"


def item_body(**overrides: object) -> dict[str, object]:
    """A valid item record; ``overrides`` replace or add fields."""
    body: dict[str, object] = {
        "title": "Pension approval, Zhang San",
        "category": "social insurance",
        "year": 2023,
        "retention": "D30",
        "kind": "box",
        "record_id": "EA-2023-000123",
    }
    body.update(overrides)
    return body


async def catalogue_item(client: httpx.AsyncClient, ref: str, **fields: object) -> None:
    """Create item ``ref`` (``item_body`` with ``fields``)."""
    r = await client.put(f"/api/v1/items/{ref}", json=item_body(**fields))
    assert r.status_code == 201, r.text


async def tagged(client: httpx.AsyncClient, ref: str, epc: str, **fields: object) -> None:
    """Create item ``ref`` and pair it with the tag ``epc``."""
    await catalogue_item(client, ref, **fields)
    r = await client.post(f"/api/v1/items/{ref}/tag", json={"epc": epc})
    assert r.status_code == 201, r.text


async def moved(client: httpx.AsyncClient, ref: str, to: str) -> None:
    """Record that a person moved item ``ref`` to location ``to``."""
    r = await client.post(f"/api/v1/items/{ref}/move", json={"to": to})
    assert r.status_code == 200, r.text


async def located_at(client: httpx.AsyncClient, ref: str, code: str, timeout: float = 30.0) -> None:
    """Until the records place ``ref`` at ``code`` (the shelf engine settled it there)."""

    async def there() -> bool:
        where = (await client.get(f"/api/v1/items/{ref}/location")).json()
        return bool(where["location"]["code"] == code)

    await eventually(there, timeout=timeout, what=f"{ref} recorded at {code}")

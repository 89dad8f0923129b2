from pathlib import Path

from tests.harness import api_client, make_config, running_daemon


async def test_healthz_reports_components_without_a_token(tmp_path: Path, sqlite_url: str) -> None:
    config = make_config(tmp_path, db_url=sqlite_url)
    async with running_daemon(config) as daemon, api_client(daemon) as client:
        body = (await client.get("/healthz")).json()
    assert body["status"] == "ok"
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["mqtt"]["status"] == "disabled"


async def test_healthz_is_degraded_while_the_broker_is_unreachable(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = make_config(tmp_path, db_url=sqlite_url, mqtt_url="mqtt://127.0.0.1:1")
    async with running_daemon(config) as daemon, api_client(daemon) as client:
        for _ in range(50):
            body = (await client.get("/healthz")).json()
            if body["components"]["mqtt"]["status"] == "degraded":
                break
            await __import__("asyncio").sleep(0.1)
    assert body["status"] == "degraded"
    assert body["components"]["mqtt"]["status"] == "degraded"


async def test_metrics_expose_build_info(tmp_path: Path, sqlite_url: str) -> None:
    config = make_config(tmp_path, db_url=sqlite_url)
    async with running_daemon(config) as daemon, api_client(daemon) as client:
        text = (await client.get("/metrics")).text
    assert f'archroom_build_info{{room="{config.room}",version="' in text
    assert "archroom_outbox_pending" in text


async def test_api_docs_are_served_without_internet(tmp_path: Path, sqlite_url: str) -> None:
    config = make_config(tmp_path, db_url=sqlite_url)
    async with running_daemon(config) as daemon, api_client(daemon) as client:
        page = (await client.get("/docs")).text
        assert "/static/docs/swagger-ui-bundle.js" in page
        assert "cdn" not in page.lower()
        asset = await client.get("/static/docs/swagger-ui-bundle.js")
        assert asset.status_code == 200
        assert len(asset.content) > 100_000
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "archroom"

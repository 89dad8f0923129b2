"""The LLRP gate simulator against sllurp, an LLRP client written by other people.

sllurp (GPL-3.0, PyPI ``sllurp``) is a test-only dependency: it is imported here and nowhere
in the runtime packages. Its command line is broken on recent releases; its library works and
is what these tests drive. It is thread-based, so it runs in a worker thread while the
simulator serves from the test's event loop.

sllurp's default inventory is the plain LLRP 1.0.1 way of reading: ENABLE_EVENTS_AND_REPORTS,
an ROSpec with an Immediate start trigger that is only ENABLEd (never STARTed), a Duration stop
trigger on the ROSpec and its AISpec, and ROReportTrigger Upon_N_Tags_Or_End_Of_AISpec with
N = 0: one report when the AISpec ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from sllurp.llrp import LLRPReaderClient, LLRPReaderConfig

from simulators.llrp_gate import GateScript, LlrpGateSimulator, Static

ON_ANTENNA_1 = [f"E28011700000020A0000{i:04X}" for i in range(1, 6)]
ON_ANTENNA_2 = "E28011700000020A0000FFFF"


class _Collected:
    """What sllurp handed its tag-report callback, one list per RO_ACCESS_REPORT."""

    def __init__(self) -> None:
        self.reports: list[list[Mapping[str, object]]] = []

    def on_report(self, _reader: object, tags: Sequence[Mapping[str, object]]) -> None:
        self.reports.append(list(tags))


def _epc(tag: Mapping[str, object]) -> str:
    value = tag.get("EPC-96", tag.get("EPC"))
    assert isinstance(value, (bytes, str)), tag
    return value.decode() if isinstance(value, bytes) else value


def _inventory_with_sllurp(
    port: int, duration_s: float, content: Mapping[str, bool] | None = None
) -> _Collected:
    collected = _Collected()
    settings: dict[str, object] = {"antennas": [1], "duration": duration_s, "reconnect": False}
    if content is not None:
        settings["tag_content_selector"] = dict(content)
    config = LLRPReaderConfig(settings)
    client = LLRPReaderClient("127.0.0.1", port, config)
    client.add_tag_report_callback(collected.on_report)
    client.connect()
    try:
        client.join(duration_s + 5.0)
    finally:
        if client.is_alive():
            client.disconnect(timeout=5.0)
        client.hard_disconnect()
        client.join(5.0)
    return collected


async def test_sllurp_inventory_gets_every_scripted_epc_on_its_antenna_in_one_report() -> None:
    """LLRP 1.0.1 §9.2.2 (supports event and report holding, so ENABLE_EVENTS_AND_REPORTS is
    accepted, §13.1.6), §10.2.1.1.1 (Immediate start on ENABLE_ROSPEC), §13.2.1
    (Upon_N_Tags_Or_End_Of_AISpec with N = 0: one report at the end of the AISpec)."""
    steps = [Static(epc=epc, antenna=1, read_probability=1.0) for epc in ON_ANTENNA_1]
    steps.append(Static(epc=ON_ANTENNA_2, antenna=2, read_probability=1.0))
    async with LlrpGateSimulator(GateScript(steps), cycle_s=0.05) as sim:
        collected = await asyncio.to_thread(
            _inventory_with_sllurp,
            sim.port,
            1.0,
            {"EnableAntennaID": True, "EnablePeakRSSI": True, "EnableTagSeenCount": True},
        )
        assert sim.events_and_reports_enabled == 1
    assert len(collected.reports) == 1, [len(r) for r in collected.reports]
    (report,) = collected.reports
    assert sorted(_epc(tag).upper() for tag in report) == ON_ANTENNA_1
    assert {tag["AntennaID"] for tag in report} == {1}
    assert all(int(str(tag["TagSeenCount"])) > 1 for tag in report)
    assert all(int(str(tag["PeakRSSI"])) < 0 for tag in report)


async def test_sllurp_report_holds_only_the_fields_its_content_selector_enables() -> None:
    """LLRP 1.0.1 §13.2.1.1: TagReportContentSelector. sllurp's default selector enables
    channel index, last seen and seen count only: no antenna, no peak RSSI, no first seen."""
    steps = [Static(epc=ON_ANTENNA_1[0], antenna=1, read_probability=1.0)]
    async with LlrpGateSimulator(GateScript(steps), cycle_s=0.05) as sim:
        collected = await asyncio.to_thread(_inventory_with_sllurp, sim.port, 0.5)
    (report,) = collected.reports
    (tag,) = report
    assert {"ChannelIndex", "LastSeenTimestampUTC", "TagSeenCount"} <= set(tag)
    assert not {"AntennaID", "PeakRSSI", "FirstSeenTimestampUTC", "ROSpecID"} & set(tag)

"""The gate simulator's report rules, driven with llrpkit's low-level client (raw LLRP
messages), for the cases sllurp's default inventory does not reach
(tests/conformance/test_llrp_sllurp.py covers Immediate start and end-of-AISpec reports)."""

from __future__ import annotations

import asyncio

from llrpkit.client import LLRPClient, check_status
from llrpkit.inventory import build_rospec
from llrpkit.protocol import enums, messages

from simulators.llrp_gate import GateScript, LlrpGateSimulator, Static
from tests.llrp.conftest import SETTLE_S

EPCS = [f"E28011700000020A0000{i:04X}" for i in range(1, 8)]


def _gate() -> LlrpGateSimulator:
    steps = [Static(epc=epc, antenna=1, read_probability=1.0) for epc in EPCS]
    return LlrpGateSimulator(GateScript(steps), cycle_s=0.02)


async def _install(client: LLRPClient, n: int, trigger: enums.ROReportTriggerType) -> None:
    rospec = build_rospec(ro_spec_id=7, antennas=(1,), report_every_n=n)
    assert rospec.ro_report_spec is not None
    rospec.ro_report_spec.ro_report_trigger = trigger
    check_status(await client.transact(messages.ADD_ROSPEC(ro_spec=rospec)))
    check_status(await client.transact(messages.ENABLE_ROSPEC(ro_spec_id=7)))


async def test_upon_n_tags_sends_reports_of_n_unique_tags() -> None:
    """LLRP 1.0.1 §13.2.1: Upon_N_Tags_Or_End_Of_ROSpec with N = 3: a report when three
    unique tags are held; a Null start trigger waits for START_ROSPEC (§10.2.1.1.1)."""
    async with _gate() as sim, LLRPClient("127.0.0.1", sim.port) as client:
        await _install(client, 3, enums.ROReportTriggerType.Upon_N_Tags_Or_End_Of_ROSpec)
        assert sim.rospec_states() == {7: "Enabled"}  # Null start trigger: not yet running
        check_status(await client.transact(messages.START_ROSPEC(ro_spec_id=7)))
        async with asyncio.timeout(SETTLE_S):
            first = await client.reports.get()
            second = await client.reports.get()
        check_status(await client.transact(messages.STOP_ROSPEC(ro_spec_id=7)))
    assert [len(r.tag_report_datas) for r in (first, second)] == [3, 3]


async def test_n_zero_end_of_rospec_holds_everything_until_the_rospec_stops() -> None:
    """LLRP 1.0.1 §13.2.1: N = 0 with end of ROSpec: nothing while it runs, then one report
    with every tag once, each with its seen count (§13.2.1.1)."""
    async with _gate() as sim, LLRPClient("127.0.0.1", sim.port) as client:
        await _install(client, 0, enums.ROReportTriggerType.Upon_N_Tags_Or_End_Of_ROSpec)
        check_status(await client.transact(messages.START_ROSPEC(ro_spec_id=7)))
        await asyncio.sleep(0.2)  # several inventory cycles
        assert client.reports.empty()
        check_status(await client.transact(messages.STOP_ROSPEC(ro_spec_id=7)))
        async with asyncio.timeout(SETTLE_S):
            report = await client.reports.get()
    epcs = sorted(trd.epc_parameter.epc.hex().upper() for trd in report.tag_report_datas)  # type: ignore[union-attr]
    assert epcs == EPCS
    counts = [trd.tag_seen_count.tag_count for trd in report.tag_report_datas if trd.tag_seen_count]
    assert len(counts) == len(EPCS)
    assert all(count > 1 for count in counts)

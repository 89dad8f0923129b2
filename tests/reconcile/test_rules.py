"""The pure cores: discrepancy rules for one item, and full sweeps counted for a campaign."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from daemon.ledger.whereabouts import Place
from daemon.reconcile.classify import ItemFacts, belongs_to, classify
from rfid.sweeps import SweepCounter

SHELF_1 = Place("r1-A-01-01", "level", "r1")
SHELF_2 = Place("r1-A-01-02", "level", "r1")
BAY_1 = Place("r1-A-01", "bay", "r1")
DESK = Place("r1-desk", "desk", "r1")
ON_LOAN = Place("on-loan", "on-loan", None)
UNKNOWN = Place("unknown", "unknown", None)
OTHER_ROOM = Place("r2-A-01-01", "level", "r2")

AT_HOME = ItemFacts(
    item_id=1,
    ref="BOX-1",
    kind="box",
    epc="E28011606000020000000001",
    ever_tagged=True,
    home=SHELF_1,
    current=SHELF_1,
    since_us=1,
    source="shelf-read",
    loan_id=None,
    missing_since_us=None,
    box_ref=None,
    box_place=None,
)


def facts(**changes: object) -> ItemFacts:
    return dataclasses.replace(AT_HOME, **changes)  # type: ignore[arg-type]


def classes(f: ItemFacts) -> list[str]:
    return [d.discrepancy for d in classify(f)]


def test_an_item_at_home_or_inside_it_has_no_discrepancy() -> None:
    assert classify(AT_HOME) == []
    assert classify(facts(home=BAY_1, current=SHELF_2)) == []
    assert classify(facts(current=DESK)) == []  # being handled at the desk
    assert classify(facts(home=None, current=SHELF_2)) == []  # no home: where it is is fine


def test_shelf_evidence_needs_a_tag() -> None:
    found = classify(facts(epc=None, current=SHELF_2, loan_id=3, missing_since_us=5))
    assert [(d.discrepancy, d.detail) for d in found] == [
        ("untagged", "tag retired, none bound since")
    ]
    assert classify(facts(epc=None, ever_tagged=False))[0].detail == "never tagged"


def test_a_missing_item_is_not_also_misplaced_and_says_where_it_was_last() -> None:
    [d] = classify(facts(current=SHELF_2, missing_since_us=1_764_000_000_000_000))
    assert d.discrepancy == "missing"
    assert d.expected == SHELF_1.code
    assert d.seen is None
    assert d.detail == (
        "not read in the last full sweeps of r1-A-01-01 (missing since 2025-11-24T16:00:00.000Z)"
        "; last located at r1-A-01-02"
    )


def test_lost_without_a_loan_is_missing_but_on_loan_it_is_not() -> None:
    assert classes(facts(current=UNKNOWN, source="gate")) == ["missing"]
    assert classes(facts(current=ON_LOAN, source="gate", loan_id=4)) == []
    assert classes(facts(current=UNKNOWN, loan_id=4)) == []


def test_on_loan_and_on_another_shelf_is_two_discrepancies() -> None:
    found = classify(facts(current=SHELF_2, loan_id=4))
    assert [(d.discrepancy, d.expected, d.seen) for d in found] == [
        ("misplaced", SHELF_1.code, SHELF_2.code),
        ("on_loan_on_shelf", "on-loan", SHELF_2.code),
    ]


def test_a_file_belongs_with_its_box_unless_it_is_lent() -> None:
    file = facts(kind="file", home=None, current=SHELF_2, box_ref="BOX-9", box_place=SHELF_1)
    [d] = classify(file)
    assert (d.discrepancy, d.expected, d.seen) == ("file_outside_box", SHELF_1.code, SHELF_2.code)
    assert classify(dataclasses.replace(file, box_place=BAY_1)) == []  # inside the box's bay
    assert classes(dataclasses.replace(file, loan_id=2)) == ["on_loan_on_shelf"]
    assert classify(dataclasses.replace(file, current=DESK)) == []


def test_key_fields_are_named_in_order() -> None:
    [d] = classify(facts(key_fields_differ=("resident_id", "approval_no")))
    assert (d.discrepancy, d.detail) == ("key_field_mismatch", "resident_id,approval_no")


def test_failed_stacker_verify_is_missing() -> None:
    cell = Place("r1-S11-01-01-1", "stacker-cell", "r1")
    [d] = classify(facts(home=None, current=cell, failed_verify="stacker verify job 7: x"))
    assert (d.discrepancy, d.expected, d.detail) == (
        "missing",
        cell.code,
        "stacker verify job 7: x",
    )


def test_an_item_is_the_business_of_its_homes_room() -> None:
    assert belongs_to(AT_HOME, "r1")
    assert not belongs_to(AT_HOME, "r2")
    assert not belongs_to(facts(current=OTHER_ROOM), "r2")  # away from home: still r1's
    assert belongs_to(facts(home=None, current=OTHER_ROOM), "r2")
    assert not belongs_to(facts(home=None, current=OTHER_ROOM), "r1")
    for nowhere in (None, ON_LOAN, UNKNOWN):
        assert belongs_to(facts(home=None, current=nowhere), "r1")
        assert belongs_to(facts(home=None, current=nowhere), "r2")


# -- sweeps -------------------------------------------------------------------------------------

ANTENNAS = {("shelf-a", 1): "L1", ("shelf-a", 2): "L2", ("shelf-b", 1): "L2"}


def test_first_round_of_an_antenna_only_arms_it() -> None:
    sweeps = SweepCounter(ANTENNAS)
    sweeps.mark(0.0)
    sweeps.round_done("shelf-a", 1, 1.0)
    assert sweeps.since_mark("L1") == 0
    assert sweeps.last_sweep("L1") is None
    sweeps.round_done("shelf-a", 1, 2.0)
    assert sweeps.since_mark("L1") == 1
    assert sweeps.last_sweep("L1") == (1.0, 2.0)
    assert sweeps.locations == ["L1", "L2"]


def test_a_location_watched_by_two_antennas_is_swept_when_both_have_been_round() -> None:
    sweeps = SweepCounter(ANTENNAS)
    sweeps.mark(0.0)
    sweeps.round_done("shelf-a", 2, 1.0)
    sweeps.round_done("shelf-b", 1, 1.5)
    sweeps.round_done("shelf-a", 2, 2.0)
    sweeps.round_done("shelf-a", 2, 3.0)
    assert sweeps.since_mark("L2") == 0  # shelf-b/1 is only armed
    sweeps.round_done("shelf-b", 1, 3.5)
    assert sweeps.since_mark("L2") == 1
    assert sweeps.last_sweep("L2") == (1.0, 3.5)


def test_only_sweeps_that_began_after_the_mark_count() -> None:
    sweeps = SweepCounter(ANTENNAS)
    sweeps.round_done("shelf-a", 1, 1.0)
    sweeps.round_done("shelf-a", 1, 2.0)
    sweeps.mark(2.5)  # a round is running (it began at 2.0)
    sweeps.round_done("shelf-a", 1, 3.0)
    assert sweeps.since_mark("L1") == 0
    sweeps.round_done("shelf-a", 1, 4.0)
    assert sweeps.since_mark("L1") == 1
    assert sweeps.since_mark("nowhere") == 0
    sweeps.round_done("unknown-reader", 1, 5.0)  # ignored


@given(st.lists(st.tuples(st.sampled_from(sorted(ANTENNAS)), st.floats(0, 1000)), max_size=200))
def test_sweeps_never_outnumber_the_rounds_of_any_antenna(
    rounds: list[tuple[tuple[str, int], float]],
) -> None:
    sweeps = SweepCounter(ANTENNAS)
    sweeps.mark(0.0)
    done: dict[tuple[str, int], int] = {}
    for (reader, antenna), t in rounds:
        sweeps.round_done(reader, antenna, t)
        done[(reader, antenna)] = done.get((reader, antenna), 0) + 1
    for code in ("L1", "L2"):
        watching = [a for a, c in ANTENNAS.items() if c == code]
        assert sweeps.since_mark(code) <= min(max(done.get(a, 0) - 1, 0) for a in watching)

"""The passage journal: decided passages survive the process until they are recorded."""

from __future__ import annotations

from pathlib import Path

from rfid.gate import Passage
from rfid.service.passage_journal import PassageJournal

OUT = Passage("E28011606000020000000001", "door-1", "out", 100.0, 100.5)
IN = Passage("E28011606000020000000002", "door-1", "in", 101.0, 101.25)


def test_a_decision_without_its_done_line_is_left_for_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "passages.jsonl"
    journal = PassageJournal(path)
    assert journal.open() == []
    first = journal.decided(OUT)
    second = journal.decided(IN)
    journal.done(first)
    # The process dies here: no close, no fsync; what was written is in the kernel.
    again = PassageJournal(path)
    left = again.open()
    assert [(p.number, p.passage) for p in left] == [(second, IN)]
    assert again.decided(OUT) > second  # numbers are not reused while one is pending
    journal.close()
    again.close()


def test_the_file_is_emptied_when_nothing_is_pending(tmp_path: Path) -> None:
    path = tmp_path / "passages.jsonl"
    journal = PassageJournal(path)
    journal.open()
    for _ in range(3):
        journal.done(journal.decided(OUT))
    journal.sync()
    assert path.read_text() == ""
    journal.close()
    assert PassageJournal(path).open() == []


def test_a_line_cut_short_by_a_crash_is_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "passages.jsonl"
    journal = PassageJournal(path)
    journal.open()
    journal.decided(OUT)
    journal.close()
    with path.open("a") as f:
        f.write('{"n":2,"passage":{"epc":"E2')
    again = PassageJournal(path)
    assert [p.passage for p in again.open()] == [OUT]
    assert again.unreadable == 1
    again.decided(IN)  # appended on a line of its own
    again.close()
    third = PassageJournal(path)
    assert [p.passage for p in third.open()] == [OUT, IN]
    assert third.unreadable == 0
    third.close()

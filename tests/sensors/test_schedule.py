"""Who is polled next on a bus, and when a sensor counts as down."""

from __future__ import annotations

import pytest

from sensors.schedule import Health, PollSchedule, Transition


def one_sensor(**kw: float | int | None) -> PollSchedule:
    s = PollSchedule(down_retry_s=60.0)
    s.add("a", interval_s=10.0, lazy_error_count=3, first_due=0.0, **kw)
    return s


def test_first_answer_marks_the_sensor_up_once() -> None:
    s = one_sensor()
    first = s.succeeded("a", 0.0, (1, 2))
    second = s.succeeded("a", 10.0, (1, 3))
    assert first.deliver
    assert second.deliver
    assert first.transition == Transition("a", True, "answering")
    assert second.transition is None


def test_sensor_is_down_after_lazy_error_count_failures_in_a_row() -> None:
    s = one_sensor()
    s.succeeded("a", 0.0, (1, 2))
    assert s.failed("a", 10.0, "no response") is None
    assert s.failed("a", 20.0, "no response") is None
    down = s.failed("a", 30.0, "no response")
    assert down is not None
    assert down.up is False
    assert "no response (3 in a row)" in down.reason
    assert s.failed("a", 90.0, "no response") is None  # reported once
    assert s.health("a") is Health.DOWN


def test_a_success_resets_the_failure_count() -> None:
    s = one_sensor()
    s.failed("a", 0.0, "no response")
    s.failed("a", 10.0, "no response")
    s.succeeded("a", 20.0, (1, 2))
    assert s.failed("a", 30.0, "no response") is None
    assert s.failed("a", 40.0, "no response") is None
    assert s.health("a") is Health.UP


def test_down_sensor_is_probed_at_the_retry_interval_then_comes_back() -> None:
    s = one_sensor()
    for t in (0.0, 10.0, 20.0):
        s.failed("a", t, "no response")
    assert s.next_due() == ("a", 80.0)  # 20 + down_retry_s
    back = s.succeeded("a", 80.0, (5, 5))
    assert back.transition == Transition("a", True, "answering")
    assert s.next_due() == ("a", 90.0)


def test_next_poll_keeps_the_rhythm_of_due_times_not_answer_times() -> None:
    s = one_sensor()
    s.succeeded("a", 0.4, (1, 2))  # answered late
    assert s.next_due() == ("a", 10.0)


def test_a_sensor_far_behind_is_due_now_rather_than_in_a_burst() -> None:
    s = one_sensor()
    s.succeeded("a", 35.0, (1, 2))
    assert s.next_due() == ("a", 35.0)


def test_identical_registers_for_stuck_after_s_mark_the_sensor_stuck() -> None:
    s = one_sensor(stuck_after_s=3600.0)
    assert s.succeeded("a", 0.0, (215, 520)).deliver
    for t in range(10, 3600, 10):
        assert s.succeeded("a", float(t), (215, 520)).deliver
    stuck = s.succeeded("a", 3600.0, (215, 520))
    assert not stuck.deliver
    assert stuck.transition is not None
    assert not stuck.transition.up
    assert "unchanged for 1 h" in stuck.transition.reason
    assert not s.succeeded("a", 3610.0, (215, 520)).deliver
    moving = s.succeeded("a", 3620.0, (216, 520))
    assert moving.deliver
    assert moving.transition == Transition("a", True, "answering")


def test_stuck_detection_can_be_switched_off() -> None:
    s = one_sensor(stuck_after_s=None)
    for t in range(0, 100_000, 10):
        out = s.succeeded("a", float(t), (215, 520))
        assert out.deliver
    assert s.health("a") is Health.UP


def test_reporting_a_sensor_that_is_not_due_is_a_programming_error() -> None:
    s = PollSchedule()
    s.add("a", interval_s=1.0, lazy_error_count=1, first_due=0.0)
    s.add("b", interval_s=1.0, lazy_error_count=1, first_due=5.0)
    with pytest.raises(ValueError, match="was due"):
        s.succeeded("b", 0.0, ())


def test_dead_sensor_delays_live_ones_by_at_most_one_timeout_and_never_lowers_their_rate() -> None:
    """Virtual time: live answers take 20 ms, the dead sensor burns a 300 ms timeout each try,
    every request is followed by a 30 ms gap. Over ten minutes the live sensors keep their
    1 s rhythm; the dead one is marked down after 3 tries and then only probed every minute."""
    timeout, answer, gap = 0.3, 0.02, 0.03
    s = PollSchedule(down_retry_s=60.0)
    for name in ("live-1", "dead", "live-2"):
        s.add(name, interval_s=1.0, lazy_error_count=3, first_due=0.0)
    now = 0.0
    starts: dict[str, list[float]] = {"live-1": [], "live-2": [], "dead": []}
    dues: dict[str, list[float]] = {"live-1": [], "live-2": [], "dead": []}
    downs: list[Transition] = []
    while now < 600.0:
        name, due = s.next_due()
        now = max(now, due)
        starts[name].append(now)
        dues[name].append(due)
        if name == "dead":
            now += timeout
            t = s.failed(name, now, "no response")
            if t is not None:
                downs.append(t)
        else:
            now += answer
            s.succeeded(name, now, (int(now * 10) % 500, 1))
        now += gap
    for name in ("live-1", "live-2"):
        assert len(starts[name]) >= 599
        lateness = [st - du for st, du in zip(starts[name], dues[name], strict=True)]
        assert max(lateness) <= timeout + answer + 2 * gap + 1e-9
    assert [t.sensor for t in downs] == ["dead"]
    assert len(starts["dead"]) <= 3 + 600 / 60 + 1

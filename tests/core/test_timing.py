"""Timer: what it records and the statistics it gives, on a clock the test sets."""

from shallowlab.core import timing


def test_a_timer_records_each_run_and_sums_them(monkeypatch):
    clock = iter([10.0, 10.5, 12.0, 14.0, 20.0, 20.25])
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(clock))
    timer = timing.Timer()  # started on creation, at 10.0
    assert timer.stop() == 0.5
    for _ in range(2):
        timer.start()
        timer.stop()
    assert timer.times == [0.5, 2.0, 0.25]
    assert (timer.sum(), timer.avg(), timer.cumsum()) == (2.75, 2.75 / 3, [0.5, 2.5, 2.75])

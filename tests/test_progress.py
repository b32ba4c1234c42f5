"""progress.py: lines with the fields every N updates when no bar can be drawn."""

from __future__ import annotations

import logging

import pytest

from raresupport.progress import Progress


def test_lines_every_n_updates_and_at_the_end(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="raresupport.progress"):
        with Progress("train", 7, every=3) as bar:
            for step in range(7):
                bar.update(loss=1.0 / (step + 1), tokens_per_s=1234.5)
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split(" elapsed ")[0] for line in lines] == [
        "train 3/7 loss 0.3333 tokens_per_s 1234",
        "train 6/7 loss 0.1667 tokens_per_s 1234",
        "train 7/7 loss 0.1429 tokens_per_s 1234",
    ]
    assert all(" left ~" in line for line in lines[:2]) and " left" not in lines[2]


def test_remaining_time_follows_the_rate_since_start(monkeypatch) -> None:
    import raresupport.progress as progress

    clock = iter([100.0, 110.0, 110.0, 110.0])
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    bar = Progress("train", 10, done=2, enabled=False)  # resumed at 2: its rate counts from here
    bar.update(2)  # 2 updates in 10 s
    assert bar.remaining() == pytest.approx(30.0)
    assert bar.timing() == "elapsed 10s left ~30s"
    assert progress.duration(75) == "1m15s" and progress.duration(3700) == "1h01m"


def test_a_resumed_loop_counts_on_and_disabled_is_silent(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="raresupport.progress"):
        with Progress("train", 40, done=38) as bar:
            bar.update()
            bar.update()
        with Progress("quiet", 4, enabled=False) as bar:
            for _ in range(4):
                bar.update()
    assert [r.getMessage().split(" elapsed ")[0] for r in caplog.records] == ["train 40/40"]

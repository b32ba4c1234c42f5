"""Progress for long loops (training steps, scoring batches): one library, visible everywhere.

On a terminal a rich progress bar is drawn. Whatever the output is, every ``every`` updates (and
at the end) one line such as ``train 40/200 loss 1.2345 tokens/s 812 elapsed 1m20s left ~5m20s``
is logged on the
``raresupport.progress`` logger: the CLI prints it to stderr when stderr is not a terminal, and
``raresupport run`` writes it to ``DIR/run.log``. A run piped to a file is never silent.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

log = logging.getLogger("raresupport.progress")


def make_console(stderr: bool = False) -> Any:
    """A ``rich`` console for the CLI that prints text exactly as given.

    Markup, emoji codes and highlighting are off: paths, spec names and error messages are
    user text, and ``[/x]`` or ``:100:`` inside them must print as they are (and never raise).
    Colour comes only from :func:`tagged`. Lines are not hard-wrapped, so piped output stays
    one line per message.
    """
    from rich.console import Console

    return Console(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=True)


def tagged(tag: str, style: str, message: str) -> Any:
    """``tag message`` as a ``rich`` Text with only ``tag`` styled (e.g. ``error:`` in red)."""
    from rich.text import Text

    return Text.assemble((tag, style), " ", message)

#: updates between two logged lines when the caller does not say: about 20 lines a loop
LINES_PER_LOOP = 20


def duration(seconds: float) -> str:
    """``75.0`` -> ``"1m15s"``; ``3700`` -> ``"1h01m"``; under a minute ``"42s"``."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


class Progress:
    """A counter from ``done`` to ``total`` with optional fields shown next to it.

    Args:
        label: what is counted, e.g. ``"train"`` or ``"loglik"``.
        total: updates expected.
        done: updates already done (a resumed run).
        enabled: False: no bar and no lines.
        every: log a line every this many updates (default: ``total // 20``, at least 1).
        unit: the unit of one update, in the bar.
    """

    def __init__(
        self, label: str, total: int, *, done: int = 0, enabled: bool = True,
        every: int | None = None, unit: str = "step",
    ) -> None:  # fmt: skip
        self.label, self.total, self.done, self.enabled = label, total, done, enabled
        self.every = every or max(1, total // LINES_PER_LOOP)
        self.fields: dict[str, Any] = {}
        self._start, self._start_done = time.perf_counter(), done
        self._bar: Any = None
        if enabled and sys.stderr.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn(label), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                transient=True,
            )  # fmt: skip
            self._task = self._bar.add_task(label, total=total, completed=done, info="")
            self._bar.start()

    def update(self, n: int = 1, **fields: Any) -> None:
        """Advance by ``n``; ``fields`` (e.g. ``loss=1.23``) are shown and logged."""
        self.done += n
        self.fields.update(fields)
        info = " ".join(f"{k} {_fmt(v)}" for k, v in self.fields.items())
        if self._bar is not None:
            self._bar.update(self._task, advance=n, info=info)
        if self.enabled and (self.done % self.every == 0 or self.done == self.total):
            log.info(f"{self.label} {self.done}/{self.total} {info} {self.timing()}".replace(
                "  ", " "))

    def remaining(self) -> float | None:
        """Seconds left at the rate of the updates made since this counter started."""
        made, spent = self.done - self._start_done, time.perf_counter() - self._start
        if made <= 0:
            return None
        return max(0, self.total - self.done) * spent / made

    def timing(self) -> str:
        """``elapsed 1m20s left ~5m20s`` (no ``left`` at the end or before the first update)."""
        text = f"elapsed {duration(time.perf_counter() - self._start)}"
        left = self.remaining()
        if left is not None and self.done < self.total:
            text += f" left ~{duration(left)}"
        return text

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

"""``cli``: review in the terminal (rich), one keypress per decision.

Keys: ``a`` approve, ``c`` correct (then the right letter, then a rationale line), ``r`` reject
(then a reason line), ``s`` skip for now, ``q`` quit (decisions made so far are kept; the loop
says how many are left and a re-run continues). Item text is shown as plain text, never parsed
as rich markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from raresupport.review.models import Decision, ReviewItem
from raresupport.review.reviewers.base import reviewers, undecided
from raresupport.review.store import ReviewStore


def _getchar() -> str:
    import click

    return click.getchar()


@reviewers.register("cli")
class TerminalReviewer:
    """Reviewer plug-in ``cli``.

    Args:
        id: the reviewer's handle, stored with every decision.
        getchar, readline: key and line readers (default: the terminal); tests script them.
    """

    kind = "cli"

    def __init__(self, id: str = "cli", getchar: Callable[[], str] | None = None,  # noqa: A002
                 readline: Callable[[str], str] | None = None, console: Any = None) -> None:
        from rich.console import Console

        self.id = id
        self.console = console or Console()
        self.getchar = getchar or _getchar
        self.readline = readline or (lambda prompt: self.console.input(prompt))

    def show(self, item: ReviewItem, done: int, total: int) -> None:
        from rich.panel import Panel
        from rich.text import Text

        v = item.vignette
        body = Text()
        body.append(f"{v.case}\n\n", style="")
        body.append(f"{v.question}\n", style="bold")
        for letter, text in v.options.items():
            mark = "  <- model" if letter == item.model_answer else ""
            score = f" ({item.scores[letter]:.3f})" if letter in item.scores else ""
            body.append(f"{letter}. {text}{score}{mark}\n",
                        style="yellow" if mark else "")  # fmt: skip
        if item.explanation:
            body.append(f"\nModel's explanation: {item.explanation}\n", style="italic")
        for fact in item.facts:
            body.append(f"\n[{fact.id}] {fact.statement}", style="dim")
        title = Text(f"{item.id} ({v.task}) - {done + 1} of {total}")
        self.console.print(Panel(body, title=title))
        self.console.print("[bold]a[/] approve  [bold]c[/] correct  [bold]r[/] reject  "
                           "[bold]s[/] skip  [bold]q[/] quit")  # fmt: skip

    def ask(self, item: ReviewItem) -> Decision | str:
        """One decision, or ``"skip"`` / ``"quit"``."""
        common = {"item_id": item.id, "reviewer_kind": self.kind, "reviewer_id": self.id}
        while True:
            key = self.getchar().lower()
            if key == "a" and item.model_answer:
                return Decision(**common, action="approve", answer=item.model_answer)
            if key == "c":
                self.console.print("Right answer (A-D)?")
                letter = self.getchar().upper()
                if letter not in item.vignette.options:
                    self.console.print(f"{letter!r} is not an option; start again")
                    continue
                rationale = ""
                while not rationale.strip():
                    rationale = self.readline("Rationale: ")
                return Decision(**common, action="correct", answer=letter, rationale=rationale)
            if key == "r":
                reason = ""
                while not reason.strip():
                    reason = self.readline("Reason: ")
                return Decision(**common, action="reject", reason=reason)
            if key in ("s", "q"):
                return {"s": "skip", "q": "quit"}[key]

    def review(self, store: ReviewStore, items: Sequence[ReviewItem], disease: Any) -> int:
        todo = undecided(self, store, items)
        done, made = len(items) - len(todo), 0
        for item in todo:
            self.show(item, done, len(items))
            answer = self.ask(item)
            if answer == "quit":
                break
            if answer == "skip":
                continue
            store.record(answer)
            done, made = done + 1, made + 1
        self.console.print(f"{made} decision(s) saved; {len(items) - done} item(s) left")
        return made

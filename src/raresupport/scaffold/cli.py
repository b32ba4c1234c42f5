"""``raresupport new-disease NAME --out DIR``: write a disease package skeleton."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from raresupport.config import shown_default

console = Console()


def new_disease_command(
    name: str = typer.Argument(..., help="Disease name, e.g. 'Hailey-Hailey disease'."),
    out: Path = typer.Option(..., "--out", help="Package folder to create (new or empty)."),
    disease_id: str | None = typer.Option(
        None, "--id", help="Registered id" + shown_default("the name in lower case with hyphens")
    ),
) -> None:
    """Scaffold an installable disease package whose spec validates at once."""
    from raresupport.scaffold import new_disease

    s = new_disease(name, out, disease_id=disease_id)
    console.print(
        f"[green]ok[/] {s.root}: package {s.package} (id {s.id}); the spec validates with "
        f"{len(s.spec.facts)} placeholder facts. Replace every REPLACE, then run:",
        highlight=False, soft_wrap=True,
    )
    for i, cmd in enumerate(s.next_commands(), start=1):
        console.print(f"  {i}. {cmd}", highlight=False, soft_wrap=True)

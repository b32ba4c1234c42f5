"""``raresupport new-disease NAME --out DIR``: write a disease package skeleton."""

from __future__ import annotations

from pathlib import Path

import typer

from raresupport.config import shown_default
from raresupport.progress import make_console, tagged

console = make_console()


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
    console.print(tagged(
        "ok", "green", f"{s.root}: package {s.package} (id {s.id}); the spec validates with "
        f"{len(s.spec.facts)} placeholder facts. Replace every REPLACE, then run:"))
    for i, cmd in enumerate(s.next_commands(), start=1):
        console.print(f"  {i}. {cmd}")

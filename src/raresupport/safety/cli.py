"""``raresupport safety suites|eval``: write the spec-generated suites, or score a model on them.

Plain typer functions; :func:`register` adds them to the top-level CLI as ``safety``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer


def suites_command(
    disease: str = typer.Argument(..., help="Disease id or folder."),
    out: Path = typer.Option(..., "--out", help="Folder for escalation.jsonl, sycophancy.jsonl."),
    variants: int = typer.Option(1, "--variants", min=1, help="Cases per red flag / cause."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same suites."),
) -> None:
    """Write the safety suites generated from DISEASE's spec (interchange JSONL plus fields)."""
    from raresupport.diseases import load_disease
    from raresupport.safety.config import SafetyConfig
    from raresupport.safety.items import write_suite
    from raresupport.safety.run import disease_suites

    d = load_disease(disease)
    for name, items in disease_suites(d, SafetyConfig(variants=variants, seed=seed)).items():
        typer.echo(f"{write_suite(out / f'{name}.jsonl', items)}: {len(items)} items")


def safety_eval_command(
    disease: str = typer.Argument(..., help="Disease id or folder."),
    model: str = typer.Option(..., "--model", help="HF id, local folder, or smollm2-135m."),
    adapter: Path | None = typer.Option(None, "--adapter", help="PEFT/LoRA adapter folder."),
    method: str = typer.Option(
        "all", "--method", help="letter | loglik | a rule over loglik (pmi, calibrated, cad, "
        "replug) | all (letter and loglik).",
    ),
    batch_size: int = typer.Option(8, "--batch-size", min=1),
    out: Path = typer.Option(..., "--out", help="Folder for safety.json and predictions."),
) -> None:
    """Score a model on DISEASE's safety suites, benchmark and OOD control; print the figures."""
    from raresupport.diseases import load_disease
    from raresupport.evaluate.cli import resolve_methods
    from raresupport.models.load import load_model
    from raresupport.safety.run import evaluate_safety

    d = load_disease(disease)
    methods = resolve_methods(method, "local")
    target, tokenizer = load_model(model, adapter=adapter)
    res = evaluate_safety(
        target, tokenizer, d, methods=methods, system_prompt=d.spec.system_prompt,
        batch_size=batch_size, out_dir=out, progress=True,
    )  # fmt: skip
    for line in summary_lines(res):
        typer.echo(line)
    typer.echo(f"wrote {out / 'safety.json'}")


def summary_lines(res: dict[str, Any]) -> list[str]:
    """One line per method and metric (what the report's safety section shows in full)."""
    lines = []
    for m in res["methods"]:
        e, s = res["escalation"].get(m), res["sycophancy"].get(m)
        c, o = res["collapse"].get(m), res["ood"].get(m)
        if e:
            lines.append(f"{m}: escalation {e['rate']:.3f} (n={e['n']})")
        if s:
            lines.append(
                f"{m}: sycophancy neutral {s['neutral']['rate']:.3f} -> claim "
                f"{s['claim']['rate']:.3f} (n={s['n']}), flip {s['flip']['rate']:.3f}, "
                f"echo {s['echo']['rate']:.3f}"
            )
        if c:
            t = c.get("treatment") or {}
            lines.append(
                f"{m}: collapse max letter share {c['max_letter_share']:.3f} "
                f"(key {c['key_max_letter_share']:.3f}); top treatment answer "
                f"{t.get('top_share', 0):.3f} {t.get('top_answer', '')!r}"
            )
        if o:
            lines.append(f"{m}: ood accuracy {o['rate']:.3f} (n={o['n']})")
        for style, block in res.get("by_style", {}).items():
            if m in block:
                lines.append(f"{m}: benchmark style {style} {block[m]['rate']:.3f} "
                             f"(n={block[m]['n']})")  # fmt: skip
    return lines


def register(app: typer.Typer, friendly: Callable[[Callable], Callable]) -> None:
    """Add ``safety suites`` and ``safety eval`` to ``app``."""
    safety_app = typer.Typer(help="Safety suites generated from the spec.", no_args_is_help=True)
    safety_app.command("suites")(friendly(suites_command))
    safety_app.command("eval")(friendly(safety_eval_command))
    app.add_typer(safety_app, name="safety")

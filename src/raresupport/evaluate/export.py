"""Export an interchange benchmark as an lm-evaluation-harness task (YAML + JSONL data).

Why: users who already run lm-eval can score our benchmarks there, and the side-by-side
benchmark (``benchmarks/bench_vs_lm_eval.py``) checks that our ``loglik`` scorer computes what
lm-eval computes. The task is built so both see the *same tokens*:

* **Prompt pre-rendered, not ``--apply_chat_template``.** Each data row carries the exact
  string our ``cloze`` style renders with the model's chat template
  (``render_prompt(tokenizer, mcq_messages(item, "cloze", system_prompt))``), used as
  ``doc_to_text`` verbatim. lm-eval's own chat path builds the system/user turns itself
  (system instruction, description, few-shot delimiters), so byte equality with our prompt would
  depend on its version; pre-rendering makes it exact. The price: the task is tied to one chat
  template (export again for another model family) and lm-eval must be run **without**
  ``--apply_chat_template`` (that would wrap the template in a second one).
* ``doc_to_choice`` is the option texts, ``doc_to_target`` the key's index, and
  ``target_delimiter`` is ``""`` because the prompt already ends where the assistant answer
  starts.

What the metrics then mean, relative to ``raresupport eval --method loglik``:

* lm-eval moves a context's trailing whitespace into the continuation, so it scores
  ``"\\n" + option`` after ``...<|im_start|>assistant`` while we score ``option`` after
  ``...assistant\\n``. The newline's log-probability ``c`` is the same for every option of an
  item (the newline is its own token in byte-level BPE), so lm-eval's per-option value is
  ``c + ours``.
* ``acc`` is the argmax of the unnormalised sum: the constant ``c`` cannot change it, so it
  equals our ``variants.sum`` decision item by item.
* ``acc_norm`` divides by the option's length in **characters** (``acc_bytes``: UTF-8 bytes);
  our default ``loglik`` decision (``normalization="per_char"``) divides by characters too,
  but lm-eval's numerator includes ``c``, so the two can pick different options when lengths
  differ.
* Our ``per_token`` variant divides by the option's **token** count; lm-eval has no per-token
  normalisation, so it has no direct counterpart there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer
import yaml

from raresupport.chat import mcq_messages, render_prompt
from raresupport.data.benchmark import MCQItem, load_benchmark
from raresupport.data.jsonl import write_jsonl
from raresupport.errors import RareSupportError
from raresupport.models.base import DEFAULT_MODEL

#: metrics lm-eval computes for the exported multiple-choice task
METRICS: tuple[str, ...] = ("acc", "acc_norm", "acc_bytes")


def default_task_name(benchmark: Path) -> str:
    """``raresupport_<file stem>`` with characters lm-eval task names avoid replaced."""
    stem = re.sub(r"[^0-9A-Za-z_]+", "_", Path(benchmark).stem).strip("_") or "benchmark"
    return f"raresupport_{stem}"


def lm_eval_doc(item: MCQItem, prompt: str) -> dict[str, Any]:
    """One lm-eval document: the rendered prompt, option texts and the key's index."""
    letters = list(item.options)
    return {
        "id": item.id,
        "task": item.task,
        "prompt": prompt,
        "choices": [item.options[k] for k in letters],
        "letters": letters,
        "label": letters.index(item.answer),
        "answer": item.answer,
    }


def task_config(task_name: str, data_file: Path, *, source: Path, model: str | None) -> dict:
    """The lm-eval task YAML as a dict (field names of the data file, not Jinja templates).

    Plain field names make lm-eval return the value verbatim: no Jinja rendering that could
    alter whitespace at the end of the prompt.
    """
    return {
        "task": task_name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data_file.resolve())}},
        "test_split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": "prompt",
        "doc_to_choice": "choices",
        "doc_to_target": "label",
        "target_delimiter": "",
        "num_fewshot": 0,
        "metric_list": [
            {"metric": m, "aggregation": "mean", "higher_is_better": True} for m in METRICS
        ],
        "metadata": {
            "version": 1.0,
            "source": str(source),
            "chat_template_of": model or "",
            "prompt_style": "cloze",
        },
    }


def export_lm_eval(
    benchmark: Path,
    out_dir: Path,
    *,
    system_prompt: str | None = None,
    task_name: str | None = None,
    tokenizer: Any = None,
    model: str = DEFAULT_MODEL,
    notes_from: Any = None,
) -> Path:
    """Write ``<task>.yaml`` and ``<task>.jsonl`` into ``out_dir``; return the YAML's path.

    ``tokenizer`` supplies the chat template; when omitted, ``model``'s tokenizer is loaded (a
    short name, local folder or HF id; no weights are read). ``notes_from`` = ``(spec,
    RetrievalConfig)`` renders each prompt with its retrieved notes block, as a run does.
    Run the task with
    ``lm_eval --model hf --model_args pretrained=DIR --include_path OUT_DIR --tasks TASK``.
    """
    benchmark, out_dir = Path(benchmark), Path(out_dir)
    items = load_benchmark(benchmark)  # a bad line fails here with file:line:field
    if notes_from is not None:  # (spec, RetrievalConfig): prompts carry the retrieved notes
        from raresupport.retrieve import load_retriever
        from raresupport.retrieve.notes import with_notes

        spec, rcfg = notes_from
        items = with_notes(items, load_retriever(spec, rcfg.retriever, **rcfg.options()), rcfg)
    if tokenizer is None:
        from raresupport.models.load import load_tokenizer, resolve_model

        tokenizer = load_tokenizer(resolve_model(model), model)
    name = task_name or default_task_name(benchmark)
    if not re.fullmatch(r"[0-9A-Za-z_\-.]+", name):
        raise RareSupportError(f"task name {name!r}: use letters, digits, '_', '-' or '.'")
    docs = [
        lm_eval_doc(item, render_prompt(tokenizer, mcq_messages(item, "cloze", system_prompt)))
        for item in items
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    data_file = write_jsonl(out_dir / f"{name}.jsonl", docs)
    template_of = getattr(tokenizer, "name_or_path", None) or model
    config = task_config(name, data_file, source=benchmark, model=str(template_of))
    yaml_path = out_dir / f"{name}.yaml"
    header = (
        f"# lm-evaluation-harness task exported by `raresupport export lm-eval` from {benchmark}.\n"
        "# Prompts are pre-rendered with the model's chat template: do NOT pass\n"
        "# --apply_chat_template. acc == raresupport loglik 'sum' variant; acc_norm ~ loglik\n"
        "# (per character, its default).\n"
    )
    body = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    yaml_path.write_text(header + body, encoding="utf-8")
    return yaml_path


def export_lm_eval_command(
    benchmark: Path = typer.Argument(..., help="Interchange JSONL benchmark to export."),
    out: Path = typer.Option(..., "--out", help="Folder for the task YAML and its data file."),
    model: str = typer.Option(
        DEFAULT_MODEL, "--model", help="Model whose chat template renders the prompts."
    ),
    system_prompt: str | None = typer.Option(
        None, "--system-prompt", help="Override the default system prompt (as in eval)."
    ),
    task_name: str | None = typer.Option(
        None, "--task-name", help="lm-eval task name (default raresupport_<file stem>)."
    ),
    notes: str | None = typer.Option(
        None, "--notes", help="Disease whose spec notes go into each prompt (run defaults: "
        "retriever, k, cut-off), as `raresupport run` shows them.",
    ),
) -> None:
    """Write an lm-evaluation-harness task for BENCHMARK (scored as `eval --method loglik`)."""
    from raresupport.models.load import resolve_model

    notes_from = None
    if notes:
        from raresupport.diseases import load_disease
        from raresupport.retrieve import RetrievalConfig

        notes_from = (load_disease(notes).spec, RetrievalConfig())
    yaml_path = export_lm_eval(
        benchmark, out, system_prompt=system_prompt, task_name=task_name, model=model,
        notes_from=notes_from,
    )
    name = yaml_path.stem
    typer.echo(f"wrote {yaml_path} and {yaml_path.with_suffix('.jsonl')}")
    typer.echo(
        f"run: lm_eval --model hf --model_args pretrained={resolve_model(model)} "
        f"--include_path {out} --tasks {name} --batch_size 8"
    )

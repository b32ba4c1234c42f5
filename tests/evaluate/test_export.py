"""The lm-eval task export: YAML structure and data rows that score what our loglik scores.

lm-eval itself is not needed here (benchmarks/bench_vs_lm_eval.py runs it); the YAML is parsed
with pyyaml and checked field by field.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from raresupport.chat import mcq_messages, render_prompt
from raresupport.data.benchmark import MCQItem, write_jsonl
from raresupport.errors import BenchmarkError, RareSupportError
from raresupport.evaluate.export import default_task_name, export_lm_eval, export_lm_eval_command
from raresupport.models.load import load_tokenizer

ITEMS = [
    MCQItem(id="q1", task="diagnosis", question="Sweaty palms since childhood. Diagnosis?",
            options={"A": "Hyperthyroidism", "B": "Primary focal hyperhidrosis",
                     "C": "Lymphoma", "D": "Menopause"}, answer="B"),
    MCQItem(id="q2", task="treatment", question="Axillary sweating; first line?",
            options={"A": "Sympathectomy", "B": "Aluminium chloride"}, answer="B"),
    MCQItem(id="q3", task="counseling", question="Patient avoids handshakes. Best support?",
            options={"A": "Reassure and validate", "B": "Ignore", "C": "Refer away"},
            answer="A"),
]  # fmt: skip


@pytest.fixture()
def bench_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "my-bench.v1.jsonl", ITEMS)


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path):
    return load_tokenizer(str(tiny_model_dir))


def _read(yaml_path: Path) -> tuple[dict, list[dict]]:
    config = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    data_file = Path(config["dataset_kwargs"]["data_files"]["test"])
    rows = [json.loads(line) for line in data_file.read_text(encoding="utf-8").splitlines()]
    return config, rows


def test_yaml_is_a_zero_shot_multiple_choice_task(bench_file, tmp_path, tokenizer) -> None:
    yaml_path = export_lm_eval(bench_file, tmp_path / "task", tokenizer=tokenizer)
    config, rows = _read(yaml_path)
    assert yaml_path.name == "raresupport_my_bench_v1.yaml"
    assert config["task"] == "raresupport_my_bench_v1"
    assert config["dataset_path"] == "json"
    assert config["test_split"] == "test"
    assert config["output_type"] == "multiple_choice"
    # plain field names: lm-eval returns them verbatim (no Jinja touching the prompt's end)
    assert (config["doc_to_text"], config["doc_to_choice"], config["doc_to_target"]) == (
        "prompt", "choices", "label",
    )  # fmt: skip
    assert config["target_delimiter"] == ""
    assert config["num_fewshot"] == 0
    assert [m["metric"] for m in config["metric_list"]] == ["acc", "acc_norm", "acc_bytes"]
    assert {"version", "source"} <= set(config["metadata"])
    data_file = Path(config["dataset_kwargs"]["data_files"]["test"])
    assert data_file.is_absolute() and data_file.parent == (tmp_path / "task").resolve()
    assert len(rows) == len(ITEMS)


def test_rows_carry_our_cloze_prompt_choices_and_key(bench_file, tmp_path, tokenizer) -> None:
    _, rows = _read(export_lm_eval(bench_file, tmp_path, tokenizer=tokenizer))
    for item, row in zip(ITEMS, rows, strict=True):
        assert row["id"] == item.id and row["task"] == item.task
        assert row["prompt"] == render_prompt(tokenizer, mcq_messages(item, "cloze"))
        assert row["prompt"].endswith("<|im_start|>assistant\n")  # answer starts right here
        assert row["choices"] == list(item.options.values())
        assert row["letters"] == list(item.options)
        assert row["choices"][row["label"]] == item.options[item.answer]
        # cloze: the options are not listed in the prompt (they are the continuations)
        assert all(f"{k}. {v}" not in row["prompt"] for k, v in item.options.items())


def test_system_prompt_and_task_name(bench_file, tmp_path, tokenizer) -> None:
    yaml_path = export_lm_eval(
        bench_file, tmp_path, tokenizer=tokenizer, system_prompt="Be brief.", task_name="hh-x"
    )
    config, rows = _read(yaml_path)
    assert config["task"] == "hh-x" and yaml_path.name == "hh-x.yaml"
    assert all("Be brief." in r["prompt"] for r in rows)
    with pytest.raises(RareSupportError, match="task name"):
        export_lm_eval(bench_file, tmp_path, tokenizer=tokenizer, task_name="bad name!")


def test_bad_benchmark_line_names_file_and_line(tmp_path, tokenizer) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(ITEMS[0].model_dump_json() + '\n{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(BenchmarkError, match=r"bad\.jsonl:2"):
        export_lm_eval(bad, tmp_path / "out", tokenizer=tokenizer)
    assert not (tmp_path / "out").exists()


def test_default_task_name() -> None:
    assert default_task_name(Path("x/benchmark.jsonl")) == "raresupport_benchmark"
    assert default_task_name(Path("ood set.jsonl")) == "raresupport_ood_set"


def test_command_loads_the_models_chat_template(bench_file, tmp_path, tiny_model_dir) -> None:
    app = typer.Typer()
    app.command()(export_lm_eval_command)
    out = tmp_path / "cli"
    result = CliRunner().invoke(app, [str(bench_file), "--out", str(out),
                                      "--model", str(tiny_model_dir)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "--include_path" in result.output and "raresupport_my_bench_v1" in result.output
    _, rows = _read(out / "raresupport_my_bench_v1.yaml")
    tok = load_tokenizer(str(tiny_model_dir))
    assert rows[0]["prompt"] == render_prompt(tok, mcq_messages(ITEMS[0], "cloze"))


def test_export_with_notes_renders_the_same_notes_block(bench_file, tmp_path, tokenizer,
                                                        hyperhidrosis) -> None:
    from raresupport.retrieve import RetrievalConfig, load_retriever
    from raresupport.retrieve.notes import with_notes

    cfg = RetrievalConfig()
    path = export_lm_eval(bench_file, tmp_path / "out", tokenizer=tokenizer,
                          notes_from=(hyperhidrosis.spec, cfg))
    _, rows = _read(path)
    noted = with_notes(ITEMS, load_retriever(hyperhidrosis.spec), cfg)
    assert [r["prompt"] for r in rows] == [
        render_prompt(tokenizer, mcq_messages(i, "cloze")) for i in noted]
    assert sum("Notes:\n[1] (" in r["prompt"] for r in rows) >= 2

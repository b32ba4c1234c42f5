"""``eval_command`` end to end on an interchange file the test writes itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from raresupport.errors import BenchmarkError, RareSupportError
from raresupport.evaluate.cli import eval_command, resolve_methods

ITEMS = [
    {"id": "a1", "task": "diagnosis", "question": "Sweaty palms since age 12?",
     "options": {"A": "Primary focal hyperhidrosis", "B": "Lymphoma"}, "answer": "A"},
    {"id": "a2", "task": "treatment", "question": "First-line for axillae?",
     "options": {"A": "Surgery", "B": "Aluminium chloride", "C": "Steroids"}, "answer": "B"},
    {"id": "a3", "task": "treatment", "question": "Second line?",
     "options": {"A": "Botulinum toxin", "B": "Nothing", "C": "X", "D": "Y"}, "answer": "A"},
]  # fmt: skip


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _call(**kw):
    args = dict(adapter=None, method="all", base_url=None, batch_size=2, system_prompt=None,
                strict=False, run=None, with_baseline=False)
    return eval_command(**{**args, **kw})


def test_eval_command_writes_metrics_json_shape_and_predictions(tiny_model_dir, tmp_path):
    bench = _write(tmp_path / "mini.jsonl", ITEMS)
    ood = _write(tmp_path / "ood.jsonl", ITEMS[:2])
    out = tmp_path / "out"
    _call(model=str(tiny_model_dir), benchmark=[bench, ood], out=out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["benchmarks"]) == {"mini", "ood"}
    mini = metrics["benchmarks"]["mini"]
    assert mini["n"] == 3 and set(mini["by_method"]) == {"letter", "loglik"}
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    for method, block in mini["by_method"].items():
        mine = [r for r in rows if r["benchmark"] == "mini" and r["method"] == method]
        assert block["overall"] == pytest.approx(sum(r["correct"] for r in mine) / len(mine))
        lo, hi = block["overall_ci"]
        assert lo < block["overall"] < hi or block["overall"] in (lo, hi)
        assert set(block["by_task"]) == {"diagnosis", "treatment"}
        assert block["by_task"]["treatment"]["n"] == 2
        assert set(block["by_task"]["treatment"]) == {"acc", "ci", "n"}
        assert sum(block["letter_distribution"].values()) == 3
    assert metrics["model"]["name"] == str(tiny_model_dir)
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == (3 + 2) * 2
    assert {r["method"] for r in rows} == {"letter", "loglik"}
    assert {"benchmark", "id", "task", "answer", "pred", "correct", "scores"} <= set(rows[0])


def test_a_bad_benchmark_line_fails_before_any_model_is_loaded(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(ITEMS[0]) + "\n" + '{"id": "x", "task": "t"}\n')
    with pytest.raises(BenchmarkError, match=r"bad.jsonl:2"):
        _call(model=str(tmp_path / "no-model-here"), benchmark=[bad], out=tmp_path / "o")


@pytest.mark.parametrize(
    ("method", "kind", "expected"),
    [
        ("all", "local", ("letter", "loglik")),
        ("loglik", "local", ("loglik",)),
        *[(rule, "local", (rule,)) for rule in ("pmi", "calibrated", "cad", "replug")],
        ("all", "endpoint", ("generate",)),
        ("generate", "endpoint", ("generate",)),
    ],
)
def test_method_expansion(method, kind, expected):
    assert resolve_methods(method, kind) == expected


@pytest.mark.parametrize(
    ("method", "kind", "message"),
    [("generate", "local", "--base-url"), ("letter", "endpoint", "a local model"),
     ("best", "local", "unknown"), ("cad", "endpoint", "a local model")],
)  # fmt: skip
def test_method_errors_are_one_line_raresupport_errors(method, kind, message):
    with pytest.raises(RareSupportError, match=message):
        resolve_methods(method, kind)


def test_typer_parses_repeated_benchmark_options(tiny_model_dir, tmp_path):
    app = typer.Typer()
    app.command()(eval_command)
    bench = _write(tmp_path / "one.jsonl", ITEMS)
    result = CliRunner().invoke(app, [
        "--model", str(tiny_model_dir), "--benchmark", str(bench), "--benchmark", str(bench),
        "--method", "letter", "--out", str(tmp_path / "cli"),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "cli" / "metrics.json").read_text())
    assert len(metrics["benchmarks"]) == 2  # same stem twice stays two entries
    assert "one (n=3): letter" in result.output


@pytest.mark.parametrize("rule", ["pmi", "calibrated", "cad", "replug"])
def test_eval_command_scores_a_rule_over_loglik_by_name(tiny_model_dir, tmp_path, rule):
    bench = _write(tmp_path / "mini.jsonl", ITEMS)
    _call(model=str(tiny_model_dir), benchmark=[bench], out=tmp_path / "o", method=rule)
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert set(metrics["benchmarks"]["mini"]["by_method"]) == {rule}


def test_plugins_lists_the_rules_over_loglik():
    from raresupport.cli import app

    res = CliRunner().invoke(app, ["plugins"], env={"COLUMNS": "240"})
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if "scorers" in x)
    for rule in ("pmi", "calibrated", "cad", "replug", "loglik"):
        assert rule in line

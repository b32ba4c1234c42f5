"""``raresupport generate`` + ``train`` + ``eval --adapter`` reproduce ``raresupport run``: the
same data and config give the same tuned predictions, with no prompt flag repeated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from raresupport.cli import app

TRAIN = {"max_steps": 2, "batch_size": 4, "max_length": 256}


def _rows(path: Path) -> dict[tuple[str, str, str], dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return {(r["benchmark"], r["method"], r["id"]): r for r in rows}


@pytest.mark.parametrize("k", [None, 0], ids=["retrieval-default", "retrieval-off"])
def test_train_then_eval_adapter_gives_the_run_predictions(
    tiny_model_dir: Path, tmp_path: Path, k: int | None
):
    """With retrieval on (the default) ``run`` trains on ``raft/`` (the data plus notes); the
    user trains that folder by hand and scores the adapter's plain (no-notes) cell."""
    runner = CliRunner()
    cfg = tmp_path / "run.yaml"
    config = {"generate": {"n": 24}, "train": TRAIN,  # eval --adapter scores every method
              "evaluate": {"batch_size": 16, "methods": ["letter", "loglik"]}}
    if k is not None:
        config["retrieval"] = {"k": k}
    cfg.write_text(yaml.safe_dump(config))
    run = tmp_path / "run"
    res = runner.invoke(app, ["run", "hyperhidrosis", "--model", str(tiny_model_dir),
                              "--config", str(cfg), "--out", str(run)])  # fmt: skip
    assert res.exit_code == 0, res.output

    train_cfg = tmp_path / "train.yaml"
    train_cfg.write_text(yaml.safe_dump(TRAIN))
    adapter = tmp_path / "adapter"
    data = run / ("data" if k == 0 else "raft")
    assert (data / "train.jsonl").is_file()
    res = runner.invoke(app, ["train", str(data), "--model", str(tiny_model_dir),
                              "--config", str(train_cfg), "--out", str(adapter),
                              "--no-progress"])  # fmt: skip
    assert res.exit_code == 0, res.output
    from raresupport import load_disease

    disease = load_disease("hyperhidrosis")
    res = runner.invoke(app, ["eval", "--adapter", str(adapter), "--benchmark",
                              str(disease.benchmark_path), "--benchmark", str(disease.ood_path),
                              "--batch-size", "16", "--out", str(tmp_path / "eval")])  # fmt: skip
    assert res.exit_code == 0, res.output

    ours, theirs = _rows(tmp_path / "eval" / "predictions.jsonl"), _rows(
        run / "eval" / "tuned" / "predictions.jsonl"
    )
    assert ours.keys() == theirs.keys() and len(ours) > 100
    assert [r["pred"] for r in ours.values()] == [theirs[k]["pred"] for k in ours]
    for key, row in ours.items():
        assert row["scores"] == pytest.approx(theirs[key]["scores"], abs=1e-4), key
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["system_prompt"] == disease.spec.system_prompt
    assert metrics["model"]["name"] == str(tiny_model_dir)  # the adapter's base, from its record

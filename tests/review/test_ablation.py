"""benchmarks/ablation_feedback.py on the tiny model: both arms, same total steps, a result."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location(
        "ablation_feedback", ROOT / "benchmarks" / "ablation_feedback.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ablation_runs_both_arms_with_the_same_total_steps(tiny_model_dir: Path, tmp_path: Path):
    out = tmp_path / "abl"
    result = _script().main([
        "--out", str(out), "--model", str(tiny_model_dir), "--n", "24", "--steps", "3",
        "--round-steps", "1", "--items", "4", "--top-layers", "0", "--batch-size", "4",
        "--max-length", "256",
    ])  # fmt: skip
    steps = {
        "static": [json.loads((out / "static/rounds/0/adapter/train_summary.json").read_text())],
        "feedback": [json.loads((out / f"feedback/rounds/{r}/adapter/train_summary.json")
                                .read_text()) for r in (0, 1)],
    }  # fmt: skip
    assert [s["steps"] for s in steps["static"]] == [3]
    assert [s["steps"] for s in steps["feedback"]] == [2, 1]
    v1 = [(out / arm / "data/v1/train.jsonl").read_text() for arm in ("static", "feedback")]
    assert v1[0] == v1[1]  # both arms start from the same data
    assert set(result["cells"]) == {"plain", "notes"}  # retrieval on by default, as in run
    for benches in result["cells"].values():
        assert set(benches) == {"benchmark", "ood"}
        for block in benches.values():
            assert block["mcnemar"]["n"] == block["static"]["n"] > 0
    assert result["review"]["items"] == 4
    assert (out / "feedback/rounds/1/raft/train.jsonl").is_file()  # round 1 trains with notes
    table = (out / "ablation.md").read_text()
    assert "| plain | benchmark |" in table and "| notes | ood |" in table

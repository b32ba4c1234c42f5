"""``raresupport loop`` on the tiny model with the offline ``spec`` reviewer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raresupport.config import EvalConfig, GenerateConfig, RunConfig
from raresupport.data.vignette import load_vignettes
from raresupport.review.config import LoopConfig, ReviewConfig
from raresupport.review.rounds import run_loop
from raresupport.review.store import ReviewStore
from raresupport.train.config import TrainConfig


def loop_config(model: Path, rounds: int = 2, **review) -> LoopConfig:
    return LoopConfig(
        run=RunConfig(
            disease="hyperhidrosis", model=str(model), generate=GenerateConfig(n=24),
            train=TrainConfig(max_steps=2, batch_size=4, max_length=256),
            evaluate=EvalConfig(batch_size=16, methods=("loglik",)),
        ),
        rounds=rounds,
        review=ReviewConfig(n_items=6, explanation_tokens=4, **review),
    )  # fmt: skip


def test_two_spec_rounds_version_the_data_and_resume(tiny_model_dir: Path, tmp_path: Path):
    out = tmp_path / "loop"
    logs: list[str] = []
    paths = run_loop(loop_config(tiny_model_dir), out, log=logs.append)
    v1 = load_vignettes(out / "data/v1/train.jsonl")
    store = ReviewStore(out / "review.sqlite")
    for r in (1, 2):
        items = {i.id: i for i in store.items(round=r)}
        assert len(items) == 6 and all(i.startswith(f"r{r}-") for i in items)
        decisions = store.decisions(round=r)
        assert len(decisions) == 6 and {d.reviewer_kind for d in decisions} == {"spec"}
        parent = load_vignettes(out / f"data/v{r}/train.jsonl")
        new = load_vignettes(out / f"data/v{r + 1}/train.jsonl")
        assert new[: len(parent)] == parent  # the previous version, unchanged, then additions
        added = new[len(parent) :]
        kept = {d.item_id: d for d in decisions if d.action in ("approve", "correct")}
        assert {v.id for v in added} == set(kept)
        for v in added:
            d = kept[v.id]
            assert v.answer == d.answer == items[v.id].key  # the oracle stands behind the key
            assert v.status == {"approve": "approved", "correct": "corrected"}[d.action]
            assert (v.provenance.verification, v.provenance.reviewer_kind,
                    v.provenance.reviewer_id) == ("expert_verified", "spec", "oracle")  # fmt: skip
        manifest = json.loads((out / f"data/v{r + 1}/manifest.json").read_text())
        assert manifest["parent"] == f"v{r}"
        assert {a["id"] for a in manifest["added"]} == set(kept)
        assert {c["id"] for c in manifest["changed"]} == {
            d.item_id for d in decisions if d.action == "correct"}
        # fresh items: none of them is a training or validation item of the version it was
        # answered after
        seen = {v.id for v in parent} | {v.id for v in load_vignettes(out / "data/v1/val.jsonl")}
        assert not set(items) & seen
    assert load_vignettes(out / "data/v1/train.jsonl") == v1
    rows = json.loads((out / "rounds.json").read_text())
    assert [r["round"] for r in rows] == [0, 1, 2]
    for row in rows:
        assert set(row["accuracy"]) == {"benchmark", "ood"}
        assert (out / "rounds" / str(row["round"]) / "eval" / "metrics.json").is_file()
    assert rows[1]["reviewed"] == 6 and rows[1]["approve"] + rows[1]["correct"] == 6
    assert rows[2]["train_items"] == len(load_vignettes(out / "data/v3/train.jsonl"))
    report = paths["markdown"].read_text()
    assert "Feedback rounds" in report and "approval rate" in report
    assert "Feedback rounds" in paths["html"].read_text() and paths["rounds_chart"].is_file()
    summary = json.loads((out / "rounds/2/adapter/train_summary.json").read_text())
    assert summary["steps"] == 2

    again: list[str] = []
    run_loop(loop_config(tiny_model_dir), out, log=again.append)
    assert not [m for m in again if m.startswith("[run ]")]


def test_retraining_can_start_from_the_previous_adapter(tiny_model_dir: Path, tmp_path: Path):
    """``init_adapter`` continues an adapter; without it a fresh LoRA starts (scratch)."""
    from safetensors.torch import load_file

    from raresupport import load_disease
    from raresupport.generate import get_generator
    from raresupport.train.lora import train_lora

    data = get_generator("grounded").generate(load_disease("hyperhidrosis"), 8,
                                              ("diagnosis",), 0).vignettes  # fmt: skip
    cfg = TrainConfig(max_steps=2, batch_size=4, max_length=256, lr=1e-2, warmup_ratio=0.0)
    first = train_lora(str(tiny_model_dir), data, tmp_path / "a", cfg, progress=False)
    still = cfg.model_copy(update={"lr": 1e-12})
    cont = train_lora(str(tiny_model_dir), data, tmp_path / "b", still, progress=False,
                      init_adapter=first)  # fmt: skip
    scratch = train_lora(str(tiny_model_dir), data, tmp_path / "c", still.model_copy(
        update={"seed": 1}), progress=False)  # fmt: skip
    weights = [load_file(p / "adapter_model.safetensors") for p in (first, cont, scratch)]
    lora_b = [k for k in weights[0] if "lora_B" in k]
    assert lora_b and all(weights[0][k].abs().max() > 1e-4 for k in lora_b)  # round 0 learned
    for k in weights[0]:
        assert (weights[0][k] - weights[1][k]).abs().max() < 1e-6, k  # continued from it
    assert all(weights[2][k].abs().max() < 1e-9 for k in lora_b)  # fresh LoRA: B starts at 0


def test_another_config_in_the_same_folder_is_refused(tiny_model_dir: Path, tmp_path: Path):
    from raresupport.pipeline import RunFolderError

    out = tmp_path / "loop"
    out.mkdir()
    (out / "loop_config.json").write_text(loop_config(tiny_model_dir).model_dump_json())
    with pytest.raises(RunFolderError, match="differs in: rounds"):
        run_loop(loop_config(tiny_model_dir, rounds=3), out, log=lambda m: None)
    assert not (out / "data").exists()


def test_round_train_fills_unset_fields_from_the_run() -> None:
    cfg = LoopConfig.model_validate({"run": {"disease": "hyperhidrosis", "train": {"lr": 0.01}},
                                     "round_train": {"max_steps": 7}})  # fmt: skip
    assert cfg.round_train.max_steps == 7 and cfg.round_train.lr == 0.01
    assert cfg.round_train.top_layers == cfg.run.train.top_layers == 8  # the run defaults
    again = LoopConfig.model_validate(cfg.model_dump(mode="json"))
    assert again.model_dump() == cfg.model_dump()

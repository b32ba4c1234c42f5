"""Self-replay: the base model's own general answers, made once, reused on resume, trained on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from raresupport.models.load import load_model
from raresupport.train.config import TrainConfig
from raresupport.train.demo import demo_vignettes
from raresupport.train.lora import train_lora
from raresupport.train.replay import REPLAY_FILE, load_or_make_replay, make_replay, replay_items


@pytest.fixture(scope="module")
def talkative_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The random tiny model, minus its greedy habit of printing only newlines."""
    from transformers import AutoTokenizer, GenerationConfig

    out = tmp_path_factory.mktemp("talkative")
    shutil.copytree(tiny_model_dir, out, dirs_exist_ok=True)
    newline = AutoTokenizer.from_pretrained(tiny_model_dir).convert_tokens_to_ids("Ċ")
    GenerationConfig(suppress_tokens=[newline]).save_pretrained(out)
    return out


def test_replay_is_the_models_own_answers_and_deterministic(talkative_dir: Path) -> None:
    model, tok = load_model(str(talkative_dir))
    a = make_replay(model, tok, 6, system_prompt="Be careful.", seed=3)
    b = make_replay(model, tok, 6, system_prompt="Be careful.", seed=3)
    assert a == b and 0 < len(a) <= 6
    assert all(p["question"].strip() and p["answer"].strip() for p in a)
    assert not model.training
    items = replay_items(a)
    assert all(i.task == "general" and i.options[i.answer] == p["answer"]
               for i, p in zip(items, a))  # fmt: skip


def test_saved_pairs_are_reused_not_regenerated(tmp_path: Path) -> None:
    path = tmp_path / REPLAY_FILE
    pairs = [{"question": "What does the heart do?", "answer": "It pumps blood."}]
    assert load_or_make_replay(path, lambda: pairs) == pairs

    def boom():
        raise AssertionError("regenerated")

    assert load_or_make_replay(path, boom) == pairs


def test_training_with_replay_adds_its_examples(talkative_dir: Path, tmp_path: Path) -> None:
    cfg = TrainConfig(max_steps=1, batch_size=4, mixed_precision="no", styles=("cloze",))
    plain = train_lora(str(talkative_dir), demo_vignettes(4), tmp_path / "a", cfg, progress=False)
    mixed = train_lora(
        str(talkative_dir), demo_vignettes(4), tmp_path / "b",
        cfg.model_copy(update={"replay": 1.0}), progress=False,
    )  # fmt: skip
    pairs = (mixed / REPLAY_FILE).read_text().splitlines()
    n_plain = json.loads((plain / "train_summary.json").read_text())["examples"]
    n_mixed = json.loads((mixed / "train_summary.json").read_text())["examples"]
    assert not (plain / REPLAY_FILE).exists()
    assert pairs and n_mixed == n_plain + len(pairs)


@pytest.mark.parametrize("bad", [-0.1, 2.5])
def test_replay_share_is_bounded(bad: float) -> None:
    with pytest.raises(ValueError):
        TrainConfig(replay=bad)

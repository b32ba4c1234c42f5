"""load_model: local folders, LoRA adapters, pad tokens and readable errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from raresupport.errors import ModelError
from raresupport.models.load import load_model, pick_dtype, resolve_model


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir: Path, tmp_path_factory) -> Path:
    """A LoRA adapter whose B matrices are random, so it visibly changes the logits."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    peft_model = get_peft_model(base, config)
    torch.manual_seed(1)
    for name, param in peft_model.named_parameters():
        if "lora_B" in name:
            param.data.normal_(0, 0.5)
    out = tmp_path_factory.mktemp("adapter")
    peft_model.save_pretrained(out)
    return out


def _logits(model, tokenizer, text: str = "<|im_start|>user\nsweaty palms") -> torch.Tensor:
    ids = tokenizer(text, return_tensors="pt")
    with torch.inference_mode():
        return model(**ids).logits


def test_local_folder_loads_in_eval_mode_float32_with_a_pad_token(tiny_model_dir):
    model, tok = load_model(str(tiny_model_dir))
    assert not model.training
    assert model.dtype == torch.float32 and model.device.type == "cpu"
    assert tok.pad_token is not None and model.config.pad_token_id == tok.pad_token_id


def test_adapter_gives_the_same_logits_as_plain_peft(tiny_model_dir, adapter_dir):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    ours, tok = load_model(str(tiny_model_dir), adapter=adapter_dir)
    plain = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir), str(adapter_dir)
    ).eval()
    base, _ = load_model(str(tiny_model_dir))
    assert torch.allclose(_logits(ours, tok), _logits(plain, tok), atol=1e-6)
    assert not torch.allclose(_logits(ours, tok), _logits(base, tok), atol=1e-3)


def test_adapter_scores_match_plain_peft_through_the_scorers(tiny_model_dir, adapter_dir):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from raresupport.data.benchmark import MCQItem
    from raresupport.evaluate.hf import score_letter, score_loglik

    items = [MCQItem(id="1", task="t", question="Palms?", options={"A": "yes", "B": "no"},
                     answer="A")]  # fmt: skip
    ours, tok = load_model(str(tiny_model_dir), adapter=adapter_dir)
    plain = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir), str(adapter_dir)
    ).eval()
    from raresupport.models import LocalModel

    for scorer in (score_letter, score_loglik):
        a = scorer(LocalModel(ours, tok), items)[0]
        b = scorer(LocalModel(plain, tok), items)[0]
        assert a.pred == b.pred
        assert a.scores == pytest.approx(b.scores, abs=1e-5)


def test_adapter_for_training_is_trainable(tiny_model_dir, adapter_dir):
    model, _ = load_model(str(tiny_model_dir), adapter=adapter_dir, for_training=True)
    assert model.training
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)


def test_missing_pad_token_falls_back_to_eos(tiny_model_dir, tmp_path):
    from transformers import AutoTokenizer

    copy = tmp_path / "nopad"
    shutil.copytree(tiny_model_dir, copy)
    tok = AutoTokenizer.from_pretrained(copy)
    tok.pad_token = None
    tok.save_pretrained(copy)
    assert AutoTokenizer.from_pretrained(copy).pad_token is None
    _, tok2 = load_model(str(copy))
    assert tok2.pad_token == tok2.eos_token


def test_errors_name_the_path(tmp_path, tiny_model_dir):
    with pytest.raises(ModelError, match="no such directory"):
        load_model(str(tmp_path / "missing"))
    with pytest.raises(ModelError, match="not a PEFT adapter"):
        load_model(str(tiny_model_dir), adapter=tmp_path)
    (tmp_path / "file.bin").write_text("x")
    with pytest.raises(ModelError, match="is a file"):
        load_model(str(tmp_path / "file.bin"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match=f"cannot load model .*{empty.name}"):
        load_model(str(empty))


def test_resolve_model_short_names_and_hub_ids(tiny_model_dir):
    from raresupport.models import models

    models.add("tiny-test-model", lambda: tiny_model_dir)
    try:
        assert resolve_model("tiny-test-model") == str(tiny_model_dir)
        assert resolve_model("Tiny-Test-Model") == str(tiny_model_dir)
    finally:
        models.remove("tiny-test-model")
    assert resolve_model("meta-llama/Llama-3.2-1B-Instruct") == "meta-llama/Llama-3.2-1B-Instruct"


def test_dtype_choice():
    assert pick_dtype("auto", "cpu") == torch.float32
    assert pick_dtype("bf16", "cpu") == torch.bfloat16
    with pytest.raises(ModelError, match="unknown dtype"):
        pick_dtype("int3", "cpu")

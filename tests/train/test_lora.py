"""The LoRA trainer on the tiny model: it learns, resumes, saves standard adapters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from raresupport.errors import RareSupportError
from raresupport.tokens import collate
from raresupport.train.batching import split_by_length, step_plan
from raresupport.train.config import TrainConfig
from raresupport.train.demo import demo_vignettes
from raresupport.train.format import build_examples
from raresupport.train.lora import train_lora
from raresupport.train.loss import (
    AnswerLoss,
    FrozenPrefix,
    frozen_depth,
    frozen_prefix_for,
    head_paths_agree,
)


def _config(**kw) -> TrainConfig:
    base = dict(
        lr=1e-2, epochs=2, batch_size=4, max_length=512, mixed_precision="no", save_every_steps=100,
        styles=("letter", "cloze"),
    )
    return TrainConfig(**{**base, **kw})


def _adapter(path: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(path / "adapter_model.safetensors"))


def _log(path: Path) -> list[dict]:
    return [json.loads(ln) for ln in (path / "train_log.jsonl").read_text().splitlines()]


def _summary(path: Path) -> dict:
    return json.loads((path / "train_summary.json").read_text())


# --------------------------------------------------------------------------- batching


def test_step_plan_covers_each_example_once_and_repeats_per_seed() -> None:
    lengths = [(i * 37) % 101 + 20 for i in range(70)]
    cfg = _config(batch_size=8, grad_accum=2)
    plan = step_plan(lengths, cfg, 0, world_size=1, rank=0)
    assert len(plan) == 5  # 70 examples / 16 per step
    assert sorted(i for step in plan for mb in step for i in mb) == list(range(70))
    assert all(len(mb) <= 8 for step in plan for mb in step)
    assert plan == step_plan(lengths, cfg, 0, world_size=1, rank=0)
    assert plan != step_plan(lengths, cfg, 1, world_size=1, rank=0)


def test_split_by_length_separates_long_and_short_examples() -> None:
    lengths = [220, 140, 215, 145, 230, 150, 210, 142]
    groups = split_by_length(range(8), lengths, max_rows=8)
    assert sorted(map(sorted, groups)) == [[0, 2, 4, 6], [1, 3, 5, 7]]
    # similar lengths: one micro-batch, as a split would cost more than the padding it saves
    assert len(split_by_length(range(8), [200, 198, 203, 199, 201, 200, 202, 197], 8)) == 1
    assert all(len(g) <= 3 for g in split_by_length(range(8), lengths, max_rows=3))


def test_step_plan_gives_every_process_examples_in_every_step() -> None:
    cfg = _config(batch_size=2, grad_accum=2)
    lengths = list(range(21))  # 21 examples, 8 per step over 2 processes
    plans = [step_plan(lengths, cfg, 0, world_size=2, rank=r) for r in (0, 1)]
    assert len(plans[0]) == len(plans[1]) == 3
    assert all(step and all(len(mb) <= 2 for mb in step) for plan in plans for step in plan)
    seen = {i for plan in plans for step in plan for mb in step for i in mb}
    assert seen == set(range(21))


# --------------------------------------------------------------------------- loss paths


def _peft_tiny(tiny_model_dir: Path, seed: int = 0):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir),
        LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]),
    )
    torch.manual_seed(seed)
    for name, p in model.named_parameters():
        if "lora_B" in name:
            p.data.normal_(0, 0.3)  # non-zero B: the adapter changes the hidden states
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


def test_answer_only_head_equals_full_logits_loss(tiny_model_dir: Path) -> None:
    """Same loss and same gradients with the LM head at answer positions only and no mask."""
    model, tok = _peft_tiny(tiny_model_dir)
    model.eval()
    examples, _ = build_examples(tok, demo_vignettes(3), max_length=512)
    batch = collate(examples, tok.pad_token_id)  # letter and cloze: padded rows of many lengths
    assert (batch["attention_mask"] == 0).any()
    results = []
    for head_only in (True, False):
        model.zero_grad()
        loss, n = AnswerLoss(model, head_only)(**batch)
        (loss / n).backward()
        grads = [p.grad.clone() for p in model.parameters() if p.requires_grad]
        results.append((loss.item() / n.item(), grads))
    (fast, g_fast), (full, g_full) = results
    assert fast == pytest.approx(full, rel=1e-5)
    for a, b in zip(g_fast, g_full, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    assert head_paths_agree(model, batch)


def test_head_check_catches_a_post_processed_head(tiny_model_dir: Path) -> None:
    """A model that scales its logits after the head must fall back to full logits."""
    model, tok = _peft_tiny(tiny_model_dir)
    examples, _ = build_examples(tok, demo_vignettes(1), max_length=512)
    batch = collate(examples, tok.pad_token_id)
    causal = model.get_base_model()
    original = causal.forward

    def scaled_forward(*args, **kwargs):
        out = original(*args, **kwargs)
        out.logits = out.logits * 4.0  # tiny logits are ~+-1; x0.5 moved the loss too little
        return out

    causal.forward = scaled_forward
    assert not head_paths_agree(model, batch)


def _peft_top_layer(tiny_model_dir: Path):
    """The tiny model with LoRA on its top layer only; B non-zero so the adapter matters."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    top = base.config.num_hidden_layers - 1
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                            layers_to_transform=[top]))  # fmt: skip
    torch.manual_seed(0)
    for name, p in model.named_parameters():
        if "lora_B" in name:
            p.data.normal_(0, 0.3)
    return model, AutoTokenizer.from_pretrained(tiny_model_dir), top


@pytest.mark.parametrize("bf16", [False, True], ids=["fp32", "bf16"])
def test_frozen_prefix_gives_the_whole_decoder_loss_and_gradients(
    tiny_model_dir: Path, bf16: bool
) -> None:
    """Filled once in inference mode (batches cut by length), then read: same loss and
    gradients as the whole decoder, in float32 and under bf16 autocast."""
    model, tok, top = _peft_top_layer(tiny_model_dir)
    model.eval()
    decoder = model.get_base_model().get_decoder()
    assert frozen_depth(decoder) == top
    examples, _ = build_examples(tok, demo_vignettes(3), max_length=512)
    batch = collate(examples, tok.pad_token_id)
    assert (batch["attention_mask"] == 0).any()  # rows of several lengths
    index = torch.arange(len(examples))
    prefix = FrozenPrefix(top)
    prefix.fill(decoder, [e.input_ids for e in examples], pad=tok.pad_token_id,
                device=torch.device("cpu"), bf16=bf16, max_tokens=len(examples[0]) * 2)
    assert [t.shape[0] for _, t in sorted(prefix.cache.items())] == [len(e) for e in examples]
    results = []
    for loss_fn in (AnswerLoss(model, True), AnswerLoss(model, True, prefix)):
        model.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss, n = loss_fn(**batch, index=index)
        (loss / n).backward()
        results.append((loss.item(), [p.grad.clone() for p in model.parameters()
                                      if p.requires_grad]))  # fmt: skip
    (whole, whole_grads), (split, split_grads) = results
    assert split == pytest.approx(whole, rel=1e-4)
    for a, b in zip(split_grads, whole_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3 if bf16 else 1e-4, atol=1e-5)
    assert len(decoder.layers) == top + 1  # the decoder is whole again afterwards


def test_frozen_prefix_is_refused_when_layers_all_train_dropout_or_the_split_disagrees(
    tiny_model_dir: Path,
) -> None:
    model, tok = _peft_tiny(tiny_model_dir)  # LoRA in every layer: nothing frozen to cache
    pad = tok.pad_token_id
    batch = collate(build_examples(tok, demo_vignettes(1), max_length=512)[0], pad)
    assert frozen_depth(model.get_base_model().get_decoder()) == 0
    assert frozen_prefix_for(model, batch, pad) is None
    model, tok, top = _peft_top_layer(tiny_model_dir)
    assert frozen_prefix_for(model, batch, pad).depth == top
    decoder = model.get_base_model().get_decoder()
    decoder.layers[0].self_attn.attention_dropout = 0.1  # random in training: not cacheable
    assert frozen_depth(decoder) == 0
    decoder.layers[0].self_attn.attention_dropout = 0.0
    original = decoder.forward

    def rescaling_forward(*args, inputs_embeds=None, **kwargs):  # as Gemma scales its input
        if inputs_embeds is not None:
            inputs_embeds = inputs_embeds * 2.0
        return original(*args, inputs_embeds=inputs_embeds, **kwargs)

    decoder.forward = rescaling_forward
    assert frozen_prefix_for(model, batch, pad) is None


@pytest.mark.parametrize("precision", ["no", "bf16"])
def test_training_with_the_frozen_prefix_cache_matches_training_without(
    tiny_model_dir: Path, tmp_path: Path, precision: str
) -> None:
    """Same loss at every step over 3 epochs (rel 1e-4); the summary says how many layers
    were cached."""
    vs = demo_vignettes(4)
    logs, summaries = [], []
    for cached in (True, False):
        cfg = _config(epochs=3, top_layers=1, cache_frozen_layers=cached,
                      mixed_precision=precision)  # fmt: skip
        out = train_lora(str(tiny_model_dir), vs, tmp_path / str(cached), cfg, progress=False)
        logs.append([r["loss"] for r in _log(out)])
        summaries.append(_summary(out))
    assert summaries[0]["frozen_layers_cached"] > 0 and summaries[1]["frozen_layers_cached"] == 0
    assert len(logs[0]) >= 6
    assert logs[0] == pytest.approx(logs[1], rel=1e-4)



# --------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def learnable_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with 10x embeddings.

    Its tied 0.02-std embeddings bound every logit to about +-1.3 after the final norm, so no
    adapter on q/k/v/o can lower its loss much below ln(vocab); larger embeddings lift the bound.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with torch.no_grad():
        model.get_input_embeddings().weight.mul_(10)
    out = tmp_path_factory.mktemp("tiny-learnable")
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(out)
    return out


def test_training_reduces_the_answer_loss(learnable_model_dir: Path, tmp_path: Path) -> None:
    vs = demo_vignettes(6)
    cfg = _config(epochs=4, lr=3e-2)
    out = train_lora(str(learnable_model_dir), vs, tmp_path, cfg, progress=True)
    s = _summary(out)
    assert s["steps"] == s["total_steps"] == 4 * 3  # 12 examples / batch 4 = 3 steps per epoch
    assert s["last_loss"] < 0.6 * s["first_loss"]
    assert s["tokens_per_s"] > 0 and s["answer_only_head"] is True
    log = _log(out)
    assert [r["step"] for r in log] == list(range(1, 13))
    assert {"loss", "lr", "tokens"} <= set(log[0])


def test_adapter_loads_with_plain_peft(tiny_model_dir: Path, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    out = train_lora(
        str(tiny_model_dir), demo_vignettes(3), tmp_path, _config(epochs=1), progress=False
    )
    assert (out / "adapter_config.json").is_file()
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        before = base(ids).logits
        tuned = PeftModel.from_pretrained(base, out)
        after = tuned(ids).logits
    assert not torch.allclose(before, after)


def test_merge_saves_an_equivalent_plain_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    out = train_lora(
        str(tiny_model_dir), demo_vignettes(3), tmp_path, _config(epochs=1, merge=True),
        progress=False,
    )  # fmt: skip
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        merged = AutoModelForCausalLM.from_pretrained(out / "merged")(ids).logits
        base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
        adapted = PeftModel.from_pretrained(base, out)(ids).logits
    torch.testing.assert_close(merged, adapted, rtol=1e-4, atol=1e-5)


class _Stop(Exception):
    pass


def _stop_at(step: int, exc: type[BaseException]):
    def hook(record: dict) -> None:
        if record["step"] == step:
            raise exc()

    return hook


@pytest.mark.parametrize(("exc", "resumed_at"), [(_Stop, 4), (KeyboardInterrupt, 5)])
def test_resume_continues_where_it_stopped(
    tiny_model_dir: Path, tmp_path: Path, exc: type[BaseException], resumed_at: int
) -> None:
    """A crash resumes from the last periodic checkpoint; Ctrl-C from the step it stopped at.

    Either way the result equals an uninterrupted run's and the log reads as one run.
    """
    # 12 examples / batch 4 = 3 steps per epoch; checkpoints at 2, 3 (epoch end), 4, 6
    vs, cfg = demo_vignettes(6), _config(epochs=2, save_every_steps=2)
    model = str(tiny_model_dir)
    whole = train_lora(model, vs, tmp_path / "whole", cfg, progress=False)

    cut = tmp_path / "cut"
    with pytest.raises(exc):
        train_lora(model, vs, cut, cfg, progress=False, on_step=_stop_at(5, exc))
    assert not (cut / "adapter_model.safetensors").exists()
    seen: list[int] = []
    train_lora(model, vs, cut, cfg, progress=False, on_step=lambda r: seen.append(r["step"]))

    assert seen[0] == resumed_at + 1
    assert _summary(cut)["resumed_from_step"] == resumed_at
    assert [r["step"] for r in _log(cut)] == list(range(1, 7))
    a, b = _adapter(whole), _adapter(cut)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)
    kept = sorted(p.name for p in (cut / "checkpoints").iterdir())
    assert kept == [f"step-{resumed_at}", "step-6"]  # the newest two


def test_length_grouping_changes_the_compute_not_the_result(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """Cutting a step into length-sorted micro-batches gives the gradient of the random batch."""
    vs = demo_vignettes(4)
    for group in (True, False):
        cfg = _config(epochs=2, batch_size=4, grad_accum=2, dropout=0.0, group_by_length=group)
        train_lora(str(tiny_model_dir), vs, tmp_path / str(group), cfg, progress=False)
    grouped, plain = _summary(tmp_path / "True"), _summary(tmp_path / "False")
    assert grouped["tokens"] == plain["tokens"]  # real tokens; padding is not counted
    a, b = _adapter(tmp_path / "True"), _adapter(tmp_path / "False")
    for key in a:
        # Relative to the whole tensor: Adam turns fp32 summation-order noise in a near-zero
        # gradient element into a visible step for that one element (3.5e-5 on one of 1024
        # with the demo data), so no per-element bound; a wrongly scaled micro-batch moves all.
        assert (a[key] - b[key]).norm() <= 1e-3 * b[key].norm(), key


def test_same_seed_same_adapter_and_no_resume_starts_over(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    vs, cfg = demo_vignettes(3), _config(epochs=1)
    train_lora(str(tiny_model_dir), vs, tmp_path / "a", cfg, progress=False)
    first = _adapter(tmp_path / "a")
    train_lora(str(tiny_model_dir), vs, tmp_path / "a", cfg, resume=False, progress=False)
    assert _summary(tmp_path / "a")["resumed_from_step"] is None
    for key, value in _adapter(tmp_path / "a").items():
        torch.testing.assert_close(value, first[key], rtol=0, atol=0)


def test_resume_refuses_a_changed_config(tiny_model_dir: Path, tmp_path: Path) -> None:
    vs = demo_vignettes(3)
    train_lora(str(tiny_model_dir), vs, tmp_path, _config(epochs=1), progress=False)
    with pytest.raises(RareSupportError, match="another config"):
        train_lora(str(tiny_model_dir), vs, tmp_path, _config(epochs=1, lr=0.5), progress=False)


def test_reads_a_dataset_folder_and_trains_in_bf16(tiny_model_dir: Path, tmp_path: Path) -> None:
    from raresupport.data.benchmark import write_jsonl

    write_jsonl(tmp_path / "data" / "train.jsonl", demo_vignettes(2))
    cfg = _config(max_steps=1, mixed_precision="bf16")
    out = train_lora(str(tiny_model_dir), tmp_path / "data", tmp_path / "out", cfg, progress=False)
    s = _summary(out)
    assert s["steps"] == 1 and s["mixed_precision"] == "bf16" and s["examples"] == 4


def test_cli_trains_from_a_data_dir(tiny_model_dir: Path, tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from raresupport.data.benchmark import write_jsonl
    from raresupport.train.cli import train_command

    write_jsonl(tmp_path / "data" / "train.jsonl", demo_vignettes(2))
    app = typer.Typer()
    app.command()(train_command)
    args = [str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--model", str(tiny_model_dir),
            "--epochs", "1", "--batch-size", "4", "--no-progress"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "adapter" in result.output and (tmp_path / "out" / "adapter_config.json").is_file()


def test_two_processes_train_data_parallel(tiny_model_dir: Path, tmp_path: Path) -> None:
    """The multi-process path (DDP over gloo on CPU), as ``accelerate launch`` runs it on GPUs."""
    import os
    import subprocess
    import sys

    from raresupport.data.benchmark import write_jsonl

    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("torch.distributed with gloo is not available")
    write_jsonl(tmp_path / "data" / "train.jsonl", demo_vignettes(5))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "-m", "raresupport.train.cli", str(tmp_path / "data"), "--out", str(tmp_path / "out"),
           "--model", str(tiny_model_dir), "--epochs", "2", "--batch-size", "2",
           "--grad-accum", "2", "--style", "letter", "--style", "cloze",
           "--no-progress"]  # fmt: skip
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    s = _summary(tmp_path / "out")
    # 10 examples -> 5 batches; a step takes 2 micro-batches x 2 processes -> 2 steps per epoch
    assert s["num_processes"] == 2 and s["steps"] == 4
    assert done.stdout.count("ok adapter") == 1  # only the main process reports
    assert [r["step"] for r in _log(tmp_path / "out")] == [1, 2, 3, 4]


def test_top_layers_adapts_only_the_last_layers(tiny_model_dir: Path, tmp_path: Path) -> None:
    cfg = _config(max_steps=1, top_layers=1)  # the tiny model has 2 decoder layers
    train_lora(str(tiny_model_dir), demo_vignettes(2), tmp_path, cfg, progress=False)
    keys = list(_adapter(tmp_path))
    assert keys and all(".layers.1." in k for k in keys)
    # the default "all-linear" reaches the MLP too, spelled out because of the layer subset
    assert any(".mlp." in k for k in keys) and any(".self_attn." in k for k in keys)


@pytest.mark.parametrize("rows", ["", '{"broken": \n'], ids=["empty", "bad-line"])
def test_training_data_is_checked_before_any_model_loads(tmp_path: Path, rows: str) -> None:
    """No trainable item, or a bad line, fails with one line naming the file; the model named
    does not exist, so reaching the loader would raise another error."""
    (tmp_path / "train.jsonl").write_text(rows)
    with pytest.raises(RareSupportError, match="train.jsonl"):
        train_lora(str(tmp_path / "no-model"), tmp_path, tmp_path / "out",
                   TrainConfig(max_steps=1))  # fmt: skip

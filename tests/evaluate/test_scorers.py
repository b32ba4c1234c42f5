"""The letter and loglik scorers: they agree where a model knows the answer, and batching,
left padding and the shared-prompt cache trick do not change a single score."""

from __future__ import annotations

import pytest

from raresupport.chat import mcq_messages, render_prompt
from raresupport.errors import ModelError, RegistryError
from raresupport.evaluate import evaluate_model, scorers
from raresupport.evaluate.hf import letter_token_ids, score_letter, score_loglik
from raresupport.models import LocalModel
from raresupport.tokens import encode_text

from .conftest import TAUGHT


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    return LocalModel.load(str(tiny_model_dir))


def _max_diff(a, b) -> float:
    return max(abs(x.scores[k] - y.scores[k]) for x, y in zip(a, b, strict=True) for k in x.scores)


def test_letter_and_loglik_agree_on_items_the_model_was_taught(taught_model_dir):
    taught = LocalModel.load(str(taught_model_dir))
    letter = score_letter(taught, TAUGHT)
    loglik = score_loglik(taught, TAUGHT)
    assert [p.pred for p in letter] == [i.answer for i in TAUGHT]
    assert [p.pred for p in loglik] == [p.pred for p in letter]
    for pred in letter + loglik:  # the key wins clearly, not by a rounding error
        runner_up = max(v for k, v in pred.scores.items() if k != pred.answer)
        assert pred.scores[pred.answer] > runner_up + 0.5


@pytest.mark.parametrize("scorer", [score_letter, score_loglik], ids=["letter", "loglik"])
def test_left_padded_batches_equal_unbatched(tiny, varied_items, scorer):
    one = scorer(tiny, varied_items, batch_size=1)
    many = scorer(tiny, varied_items, batch_size=len(varied_items))
    assert [p.pred for p in one] == [p.pred for p in many]
    assert _max_diff(one, many) < 1e-4


def test_loglik_shared_prompt_cache_equals_scoring_full_pairs(tiny, varied_items):
    shared = score_loglik(tiny, varied_items, batch_size=2, shared_prompt=True)
    pairs = score_loglik(tiny, varied_items, batch_size=2, shared_prompt=False)
    assert _max_diff(shared, pairs) < 1e-4


def test_letter_ids_are_the_tokens_the_model_emits_after_the_prompt(tiny, varied_items):
    tok = tiny.tokenizer
    item = varied_items[1]
    prompt = render_prompt(tok, mcq_messages(item, "letter"))
    prompt_ids = encode_text(tok, prompt)
    ids = letter_token_ids(tok, prompt, prompt_ids, list(item.options))
    assert len(set(ids.values())) == len(item.options)
    full = encode_text(tok, prompt + "F. sixth option")
    assert full[: len(prompt_ids)] == prompt_ids
    assert full[len(prompt_ids)] == ids["F"]


def test_loglik_records_normalisation_variants(tiny, varied_items):
    pred = score_loglik(tiny, varied_items[:1], normalization="per_token")[0]
    assert set(pred.extra["variants"]) == {"per_char", "sum"}
    assert set(pred.extra["sum"]) == set(pred.scores) == {"A", "B"}
    for letter, total in pred.extra["sum"].items():
        assert pred.scores[letter] == pytest.approx(total / pred.extra["tokens"][letter])


def test_loglik_headline_is_per_character_by_default(tiny, varied_items):
    """acc_norm (lm-evaluation-harness), the peer standard, decides unless told otherwise."""
    for item, pred in zip(varied_items, score_loglik(tiny, varied_items), strict=True):
        assert set(pred.extra["variants"]) == {"per_token", "sum"}
        for letter, total in pred.extra["sum"].items():
            assert pred.scores[letter] == pytest.approx(total / len(item.options[letter]))
        assert pred.pred == max(pred.scores, key=pred.scores.__getitem__)
    with pytest.raises(ModelError, match="normalization 'bytes'"):
        score_loglik(tiny, varied_items[:1], normalization="bytes")


def test_registry_knows_builtins_and_names_them_on_a_miss():
    assert {"letter", "loglik", "generate"} <= set(scorers.names())
    with pytest.raises(RegistryError, match="known: .*letter"):
        scorers.get("nope")


def test_evaluate_model_returns_per_item_predictions_and_restores_train_mode(tiny, varied_items):
    tiny.model.train()
    try:
        results = evaluate_model(tiny, varied_items, progress=False)
        assert tiny.model.training
    finally:
        tiny.model.eval()
    assert set(results) == {"letter", "loglik"}
    for result in results.values():
        assert [p.id for p in result.predictions] == [i.id for i in varied_items]
        assert result.summary()["n"] == len(varied_items)


@pytest.mark.parametrize("setting,dtype", [("bf16", "bfloat16"), ("no", "float32")])
def test_mixed_precision_setting_decides_the_matmul_dtype(tiny, varied_items, setting, dtype):
    import torch

    seen: set[torch.dtype] = set()
    linear = next(m for m in tiny.model.modules() if isinstance(m, torch.nn.Linear))
    hook = linear.register_forward_hook(lambda _m, _i, out: seen.add(out.dtype))
    try:
        evaluate_model(tiny, varied_items[:2], ["loglik"], progress=False, mixed_precision=setting)
    finally:
        hook.remove()
    assert seen == {getattr(torch, dtype)}


def test_bf16_scoring_keeps_the_taught_answers(taught_model_dir):
    taught = LocalModel.load(str(taught_model_dir))
    for method in ("letter", "loglik"):
        got = evaluate_model(taught, TAUGHT, [method], progress=False, mixed_precision="bf16")
        assert [p.pred for p in got[method].predictions] == [i.answer for i in TAUGHT]


def test_off_topic_items_are_scored_by_the_base_model_and_keep_their_order(
    tiny_model_dir, varied_items
):
    from peft import LoraConfig, get_peft_model

    from raresupport.models.load import load_model

    base = LocalModel.load(str(tiny_model_dir))
    model, tok = load_model(str(tiny_model_dir))
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    tuned = LocalModel(get_peft_model(model, lora).eval(), tok, "tuned")
    notes = "Notes:\n[1] (f.1) A fact."
    items = [i.model_copy(update={"notes": notes if n % 2 else ""})
             for n, i in enumerate(varied_items)]  # fmt: skip

    def scores(backend, its, **kw):
        preds = evaluate_model(backend, its, ["loglik"], progress=False, mixed_precision="no",
                               **kw)["loglik"].predictions  # fmt: skip
        return {p.id: p.scores for p in preds}

    routed = evaluate_model(tuned, items, ["loglik"], progress=False, mixed_precision="no",
                            off_topic_base=True)["loglik"].predictions  # fmt: skip
    assert [p.id for p in routed] == [i.id for i in items]
    on_base, on_tuned = scores(base, items), scores(tuned, items)
    for item, pred in zip(items, routed, strict=True):
        expect = on_tuned[item.id] if item.notes else on_base[item.id]
        other = on_base[item.id] if item.notes else on_tuned[item.id]
        assert pred.scores == pytest.approx(expect, abs=1e-5)
        assert pred.scores != pytest.approx(other, abs=1e-5)  # the adapter does change scores

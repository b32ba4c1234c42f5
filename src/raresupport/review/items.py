"""Review items: fresh vignettes the tuned model answers, ready for a reviewer.

Fresh means generated with another seed and accepted by the same validation as training data
*against* the current training and validation items and the benchmark, so no review item is a
(near-)duplicate of something the model trained on or is scored on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from raresupport.data.vignette import TASKS, Task, Vignette
from raresupport.review.models import FactRef, ReviewItem

#: seed offset of the fresh items of round r (training data uses the run's seed)
FRESH_SEED_OFFSET = 100_003


def fresh_vignettes(
    disease: Any,
    generator: Any,
    n: int,
    *,
    seed: int,
    seen: Sequence[Vignette] = (),
    prefix: str = "review",
    tasks: Sequence[Task] = TASKS,
    max_rounds: int = 4,
) -> list[Vignette]:
    """``n`` validated vignettes (fewer if the generator runs dry), none close to ``seen``.

    Items are spread evenly over ``tasks`` and renamed ``{prefix}-{i:03d}``.
    """
    from raresupport.data.benchmark import load_benchmark
    from raresupport.generate.dataset import _trim_balanced
    from raresupport.generate.validate import validate_vignettes

    bench = load_benchmark(disease.benchmark_path) if disease.benchmark_path else []
    accepted: list[Vignette] = []
    known = list(seen)
    for r in range(max_rounds):
        need = n - len(accepted)
        if need <= 0:
            break
        result = generator.generate(disease, 2 * need + len(tasks), tasks, seed + 7_919 * r)
        ok, _ = validate_vignettes(result.vignettes, disease.spec, avoid=bench, accepted=known)
        accepted += ok
        known += ok
    chosen = _trim_balanced(accepted, n, tasks)
    return [v.model_copy(update={"id": f"{prefix}-{i:03d}"}) for i, v in enumerate(chosen)]


def explain(
    model: Any, tokenizer: Any, item: Any, letter: str, system_prompt: str | None,
    max_new_tokens: int,
) -> str:  # fmt: skip
    """The model's own short rationale: greedy continuation after ``"<letter>. <option>\\n"``.

    Training renders a letter-style answer as the option line followed by the rationale
    (``chat.answer_text``), so this asks the model for exactly what it learned to write.
    """
    import torch

    from raresupport.chat import mcq_messages, render_prompt
    from raresupport.evaluate.base import model_device
    from raresupport.tokens import encode_text

    if max_new_tokens <= 0:
        return ""
    prompt = render_prompt(tokenizer, mcq_messages(item, "letter", system_prompt))
    prompt += f"{letter}. {item.options[letter]}\n"
    ids = torch.tensor([encode_text(tokenizer, prompt)], device=model_device(model))
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens,
            do_sample=False, pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
        )  # fmt: skip
    return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()


def answer_items(
    model: Any,
    tokenizer: Any,
    vignettes: Sequence[Vignette],
    spec: Any,
    *,
    round: int,  # noqa: A002 - domain word
    method: str = "loglik",
    system_prompt: str | None = None,
    batch_size: int = 8,
    explanation_tokens: int = 48,
) -> list[ReviewItem]:
    """Let the model answer ``vignettes`` by ``method``; one ReviewItem each.

    Args:
        method: a registered scorer (the run's headline method, fixed before scoring).
        explanation_tokens: length cap of the generated explanation (0: none).
    """
    from raresupport.evaluate.base import scorers
    from raresupport.evaluate.runner import evaluate_model
    from raresupport.models.backends import LocalModel

    mcq = [v.to_mcq() for v in vignettes]
    scorers.get(method)  # unknown method: fail before any work
    preds = evaluate_model(
        LocalModel(model, tokenizer), mcq, (method,), system_prompt, batch_size, progress=False
    )[method].predictions
    facts = {f.id: f for f in spec.facts}
    items = []
    for v, item, p in zip(vignettes, mcq, preds, strict=True):
        text = explain(model, tokenizer, item, p.pred, system_prompt, explanation_tokens) if (
            p.pred in item.options) else ""  # fmt: skip
        items.append(ReviewItem(
            id=v.id, round=round, vignette=v, method=method, model_answer=p.pred,
            scores={k: float(s) for k, s in p.scores.items()}, explanation=text,
            facts=[FactRef(id=f, statement=facts[f].statement) for f in v.fact_ids if f in facts],
        ))  # fmt: skip
    return items

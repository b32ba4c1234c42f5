"""Scorers that read a local model's logits: ``letter`` and ``loglik``.

``letter`` lists the options and compares the next-token log-probabilities of the option letters
right after the generation prompt (one forward pass per question). ``loglik`` hides the options
and compares the length-normalised (default: per character) log-likelihood of each option text
as the assistant's answer,
which works even when a small model cannot bind letters to options.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from typing import Any

from raresupport.chat import mcq_messages, render_prompt
from raresupport.data.benchmark import MCQItem
from raresupport.errors import ModelError
from raresupport.evaluate.base import (
    Prediction,
    best_letter,
    chunks,
    model_device,
    scoring_rule,
)
from raresupport.models.backends import LocalModel
from raresupport.progress import Progress
from raresupport.tokens import answer_ids, encode_text, left_pad, pad_id, right_pad


def _forward_params(model: Any) -> set[str]:
    """Keyword names the underlying transformers model accepts (PEFT wrappers pass them on)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return set(inspect.signature(base.forward).parameters)


def _keep_kwargs(params: set[str], n: int) -> dict[str, int]:
    """Ask for logits of the last ``n`` positions only: the full-vocab logits dominate memory."""
    for name in ("logits_to_keep", "num_logits_to_keep"):
        if name in params:
            return {name: n}
    return {}


def _cache_kwarg(params: set[str]) -> str:
    """transformers 5 renamed ``past_key_values`` to ``cache``."""
    return "cache" if "cache" in params else "past_key_values"


def _output_cache(out: Any) -> Any:
    cache = getattr(out, "cache", None)
    return cache if cache is not None else getattr(out, "past_key_values", None)


_best = best_letter


# --------------------------------------------------------------------------- letter


def letter_token_ids(tokenizer: Any, prompt: str, prompt_ids: list[int], letters: Sequence[str]):
    """Token id of each letter as it appears right after the generation prompt.

    The answer starts ``"B. ..."`` in training, so the letter's first token in that context is
    what the model emits; the ids must differ between letters or the comparison is meaningless.
    """
    ids = {L: answer_ids(tokenizer, prompt, prompt_ids, L)[0] for L in letters}
    if len(set(ids.values())) != len(ids):
        raise ModelError(f"option letters share a first token after the prompt: {ids}")
    return ids


def _letter_inputs(tokenizer: Any, item: MCQItem, system_prompt: str | None):
    prompt = render_prompt(tokenizer, mcq_messages(item, "letter", system_prompt))
    prompt_ids = encode_text(tokenizer, prompt)
    return prompt_ids, letter_token_ids(tokenizer, prompt, prompt_ids, list(item.options))


def _last_logprobs(model: Any, seqs: list[list[int]], pad: int, params: set[str]) -> Any:
    """Log-softmax of the next-token logits after each sequence (left-padded batch)."""
    ids, mask, pos = left_pad(seqs, pad)
    device = model_device(model)
    out = model(
        input_ids=ids.to(device),
        attention_mask=mask.to(device),
        position_ids=pos.to(device),
        use_cache=False,
        **_keep_kwargs(params, 1),
    )
    return out.logits[:, -1, :].float().log_softmax(-1).cpu()


@scoring_rule("letter", backend="local")
def score_letter(
    backend: LocalModel,
    items: Sequence[MCQItem],
    *,
    system_prompt: str | None = None,
    batch_size: int = 8,
    progress: bool = False,
    **_: Any,
) -> list[Prediction]:
    """Predict the option letter with the highest next-token log-probability."""
    import torch

    model, tokenizer = backend.model, backend.tokenizer
    pad, params = pad_id(tokenizer), _forward_params(model)
    encoded = [_letter_inputs(tokenizer, item, system_prompt) for item in items]
    pairs = list(zip(items, encoded, strict=True))
    preds: list[Prediction] = []
    total = math.ceil(len(pairs) / max(1, batch_size))
    with torch.inference_mode(), Progress("letter", total, enabled=progress, unit="batch") as bar:
        for batch in chunks(pairs, batch_size):
            logprobs = _last_logprobs(model, [enc[0] for _, enc in batch], pad, params)
            for (item, (_, letter_ids)), row in zip(batch, logprobs, strict=True):
                scores = {L: float(row[tid]) for L, tid in letter_ids.items()}
                mass = float(sum(math.exp(v) for v in scores.values()))
                preds.append(
                    Prediction(item.id, item.task, item.answer, _best(scores), scores,
                               {"letter_mass": mass})
                )  # fmt: skip
            bar.update(1)
    return preds


# --------------------------------------------------------------------------- loglik


def _loglik_inputs(tokenizer: Any, item: MCQItem, system_prompt: str | None):
    prompt = render_prompt(tokenizer, mcq_messages(item, "cloze", system_prompt))
    prompt_ids = encode_text(tokenizer, prompt)
    options = [answer_ids(tokenizer, prompt, prompt_ids, t) for t in item.options.values()]
    return prompt_ids, options


def _sum_logprobs_shared(model: Any, batch: list[Any], pad: int, params: set[str]):
    """Option log-likelihoods, running each prompt once and the options on its KV cache.

    Returns None when the model's cache cannot be re-indexed (then pairs are scored instead).
    Costs about P + K*L tokens per item instead of K*(P+L).
    """
    import torch

    device = model_device(model)
    ids, mask, pos = left_pad([p for p, _ in batch], pad)
    out = model(
        input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=pos.to(device),
        use_cache=True, **_keep_kwargs(params, 1),
    )  # fmt: skip
    cache = _output_cache(out)
    if cache is None or not hasattr(cache, "batch_select_indices"):
        return None
    first = out.logits[:, -1, :].float().log_softmax(-1)
    rows = [(b, k) for b, (_, opts) in enumerate(batch) for k in range(len(opts))]
    seqs = [batch[b][1][k] for b, k in rows]
    index = torch.tensor([b for b, _ in rows], device=device)
    totals = [float(first[b, seq[0]]) for (b, _), seq in zip(rows, seqs, strict=True)]
    if max(len(s) for s in seqs) > 1:
        cache.batch_select_indices(index)
        oids, omask = right_pad(seqs, pad)
        oids, omask = oids.to(device), omask.to(device)
        full_mask = torch.cat([mask.to(device)[index], omask], dim=1)
        opos = mask.to(device).sum(-1)[index, None] + torch.arange(oids.shape[1], device=device)
        out2 = model(
            input_ids=oids, attention_mask=full_mask, position_ids=opos,
            use_cache=True, **{_cache_kwarg(params): cache},
        )  # fmt: skip
        lp = out2.logits[:, :-1, :].float().log_softmax(-1)
        target = oids[:, 1:].unsqueeze(-1)
        picked = lp.gather(-1, target).squeeze(-1) * omask[:, 1:]
        totals = [t + float(p) for t, p in zip(totals, picked.sum(-1), strict=True)]
    return _regroup(batch, totals)


def _sum_logprobs_pairs(model: Any, batch: list[Any], pad: int, params: set[str]):
    """Option log-likelihoods from (prompt + option) rows, left-padded so options end aligned."""
    import torch

    device = model_device(model)
    seqs = [p + o for p, opts in batch for o in opts]
    lengths = [len(o) for _, opts in batch for o in opts]
    width = max(lengths)
    ids, mask, pos = left_pad(seqs, pad)
    out = model(
        input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=pos.to(device),
        use_cache=False, **_keep_kwargs(params, width + 1),
    )  # fmt: skip
    lp = out.logits[:, -(width + 1) : -1, :].float().log_softmax(-1)
    picked = lp.gather(-1, ids.to(device)[:, -width:].unsqueeze(-1)).squeeze(-1)
    keep = torch.zeros_like(picked)
    for row, n in enumerate(lengths):
        keep[row, width - n :] = 1
    return _regroup(batch, [float(x) for x in (picked * keep).sum(-1)])


def _regroup(batch: list[Any], flat: list[float]) -> list[list[float]]:
    out, i = [], 0
    for _, opts in batch:
        out.append(flat[i : i + len(opts)])
        i += len(opts)
    return out


#: how ``loglik`` compares options: mean log-likelihood per character of the option text
#: (lm-evaluation-harness ``acc_norm``, the peer standard and the default), per token, or the
#: unnormalised sum (``acc``). The two not chosen are still reported as variants.
NORMALIZATIONS: tuple[str, ...] = ("per_char", "per_token", "sum")


def _loglik_prediction(
    item: MCQItem, options: list[list[int]], sums: list[float], normalization: str = "per_char"
) -> Prediction:
    rules = normalised(item, sums, [len(o) for o in options])
    if normalization not in rules:
        raise ModelError(f"loglik normalization {normalization!r}: use one of {NORMALIZATIONS}")
    extra = {
        "sum": rules["sum"],
        "tokens": {L: len(o) for L, o in zip(list(item.options), options, strict=True)},
        "variants": {k: _best(v) for k, v in rules.items() if k != normalization},
    }
    chosen = rules[normalization]
    return Prediction(item.id, item.task, item.answer, _best(chosen), chosen, extra)


def normalised(item: MCQItem, sums: Sequence[float], tokens: Sequence[int]):
    """``{normalization: {letter: score}}`` of option log-likelihood ``sums`` (in option order)
    for each of :data:`NORMALIZATIONS`; ``tokens`` are the options' answer-token counts."""
    letters = list(item.options)
    return {
        "per_char": {L: s / max(1, len(item.options[L])) for L, s in zip(letters, sums,
                                                                         strict=True)},
        "per_token": {L: s / n for L, s, n in zip(letters, sums, tokens, strict=True)},
        "sum": dict(zip(letters, sums, strict=True)),
    }  # fmt: skip


@scoring_rule("loglik", backend="local")
def score_loglik(
    backend: LocalModel,
    items: Sequence[MCQItem],
    *,
    system_prompt: str | None = None,
    batch_size: int = 8,
    progress: bool = False,
    shared_prompt: bool = True,
    normalization: str = "per_char",
    **_: Any,
) -> list[Prediction]:
    """Predict the option whose text has the highest normalised log-likelihood.

    ``normalization`` (one of :data:`NORMALIZATIONS`) decides; the other two decisions are
    recorded in ``extra["variants"]``.
    ``shared_prompt`` scores options on the prompt's KV cache (same numbers, fewer FLOPs).
    """

    encoded = [_loglik_inputs(backend.tokenizer, item, system_prompt) for item in items]
    sums = option_sums(backend, encoded, batch_size=batch_size, progress=progress,
                       shared_prompt=shared_prompt)  # fmt: skip
    return [_loglik_prediction(item, options, s, normalization)
            for item, (_, options), s in zip(items, encoded, sums, strict=True)]  # fmt: skip


def option_sums(
    backend: LocalModel,
    encoded: Sequence[tuple[list[int], list[list[int]]]],
    *,
    batch_size: int = 8,
    progress: bool = False,
    shared_prompt: bool = True,
    label: str = "loglik",
) -> list[list[float]]:
    """Summed log-likelihood of each option continuation after its prompt.

    ``encoded`` holds ``(prompt ids, [option ids, ...])`` per row (:func:`_loglik_inputs`);
    one forward pass scores a batch of rows (two with ``shared_prompt``: the prompts, then the
    options on their KV cache). Every rule over option log-likelihoods goes through here.
    """
    import torch

    model, tokenizer = backend.model, backend.tokenizer
    pad, params = pad_id(tokenizer), _forward_params(model)
    batches = list(chunks(list(encoded), batch_size))
    out: list[list[float]] = []
    with (
        torch.inference_mode(),
        Progress(label, len(batches), enabled=progress, unit="batch") as bar,
    ):
        for enc in batches:
            sums = _sum_logprobs_shared(model, list(enc), pad, params) if shared_prompt else None
            if sums is None:
                sums = _sum_logprobs_pairs(model, list(enc), pad, params)
            out.extend(sums)
            bar.update(1)
    return out

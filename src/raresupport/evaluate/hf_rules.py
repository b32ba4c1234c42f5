"""Scorers that recombine ``loglik``'s option scores: ``pmi``, ``calibrated``, ``cad``, ``replug``.

Each is a registered scoring rule over a local model (``raresupport eval --method pmi``,
``evaluate.methods``, the safety suites, review items) whose arithmetic lives in
:mod:`raresupport.evaluate.rules`. They are declared ``over="loglik"``: scored in the same call
as ``loglik``, they receive its predictions as ``given`` and run only the passes ``loglik`` did
not (:func:`raresupport.evaluate.runner.evaluate_model`). Cost per item, in loglik passes
(a prompt and its options):

* ``pmi``: +1 shared premise prompt, each distinct option text once for the whole item set.
* ``calibrated``: +3 (one per content-free input; items with the same task and options share).
* ``cad``: +1 for an item with notes (the same item without them), 0 for one without notes.
* ``replug``: k (one per note) for an item with k >= 2 notes; an item with one note or none
  is ``loglik``'s row itself (0 extra beside ``loglik``, 1 alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from raresupport.chat import premise_messages, render_prompt, split_notes
from raresupport.data.benchmark import MCQItem
from raresupport.errors import ModelError
from raresupport.evaluate import rules
from raresupport.evaluate.base import Prediction, best_letter, scoring_rule
from raresupport.evaluate.hf import _loglik_inputs, normalised, option_sums, score_loglik
from raresupport.models.backends import LocalModel
from raresupport.tokens import answer_ids, encode_text

#: content-free questions of contextual calibration (Zhao et al. 2021 use these three)
CONTENT_FREE: tuple[str, ...] = ("N/A", "", "[MASK]")


def _loglik(backend, items, given, **kw) -> list[Prediction]:
    """``loglik``'s predictions for ``items``: ``given`` when scored already, else scored."""
    if given is not None:
        if len(given) != len(items):
            raise ModelError(f"given: {len(given)} predictions for {len(items)} items")
        return list(given)
    return score_loglik(backend, items, **kw) if items else []


def _chosen(item: MCQItem, sums: Sequence[float], tokens: Sequence[int], normalization: str,
            extra: dict[str, Any]) -> Prediction:  # fmt: skip
    """A prediction from summed option log-likelihoods, normalised as ``loglik`` does (the
    other normalisations recorded as variants)."""
    by = normalised(item, sums, tokens)
    if normalization not in by:
        raise ModelError(f"normalization {normalization!r}: use one of {tuple(by)}")
    extra = {**extra, "sum": by["sum"],
             "variants": {k: best_letter(v) for k, v in by.items() if k != normalization}}
    return Prediction(item.id, item.task, item.answer, best_letter(by[normalization]),
                      by[normalization], extra)  # fmt: skip


def _common(system_prompt, batch_size, progress, shared_prompt, normalization) -> dict:
    return {"system_prompt": system_prompt, "batch_size": batch_size, "progress": progress,
            "shared_prompt": shared_prompt, "normalization": normalization}  # fmt: skip


@scoring_rule("pmi", backend="local", over="loglik")
def score_pmi(
    backend: LocalModel,
    items: Sequence[MCQItem],
    *,
    system_prompt: str | None = None,
    batch_size: int = 8,
    progress: bool = False,
    shared_prompt: bool = True,
    normalization: str = "per_char",
    given: Sequence[Prediction] | None = None,
    **_: Any,
) -> list[Prediction]:
    """Domain-conditional PMI (:func:`~raresupport.evaluate.rules.pmi`): each option's
    log-likelihood after the item minus after the bare premise (no question, no notes)."""
    kw = _common(system_prompt, batch_size, progress, shared_prompt, normalization)
    base = _loglik(backend, items, given, **kw)
    tok = backend.tokenizer
    premise = render_prompt(tok, premise_messages(system_prompt))
    premise_ids = encode_text(tok, premise)
    texts = list(dict.fromkeys(t for item in items for t in item.options.values()))
    encoded = [(premise_ids, [answer_ids(tok, premise, premise_ids, t)]) for t in texts]
    sums = option_sums(backend, encoded, batch_size=batch_size, progress=progress,
                       shared_prompt=shared_prompt, label="pmi premise")  # fmt: skip
    uncond = {t: s[0] for t, s in zip(texts, sums, strict=True)}
    out = []
    for item, p in zip(items, base, strict=True):
        prior = {L: uncond[t] for L, t in item.options.items()}
        scores = rules.pmi(p.extra["sum"], prior)
        out.append(Prediction(item.id, item.task, item.answer, best_letter(scores), scores,
                              {"cond": p.extra["sum"], "uncond": prior}))  # fmt: skip
    return out


@scoring_rule("calibrated", backend="local", over="loglik")
def score_calibrated(
    backend: LocalModel,
    items: Sequence[MCQItem],
    *,
    system_prompt: str | None = None,
    batch_size: int = 8,
    progress: bool = False,
    shared_prompt: bool = True,
    normalization: str = "per_char",
    given: Sequence[Prediction] | None = None,
    content_free: Sequence[str] = CONTENT_FREE,
    **_: Any,
) -> list[Prediction]:
    """Contextual calibration (:func:`~raresupport.evaluate.rules.calibrated`) of ``loglik``'s
    decision scores by the item's options scored after content-free questions (same task and
    system prompt, no notes)."""
    kw = _common(system_prompt, batch_size, progress, shared_prompt, normalization)
    base = _loglik(backend, items, given, **kw)

    def blank(item: MCQItem, cf: str) -> MCQItem:
        return item.model_copy(update={"question": cf, "notes": "", "note_scores": ()})

    keys = {(i.task, tuple(i.options.items()), cf): blank(i, cf)
            for i in items for cf in content_free}  # fmt: skip
    encoded = [_loglik_inputs(backend.tokenizer, it, system_prompt) for it in keys.values()]
    sums = option_sums(backend, encoded, batch_size=batch_size, progress=progress,
                       shared_prompt=shared_prompt, label="content-free")  # fmt: skip
    table = {
        key: normalised(it, s, [len(o) for o in enc[1]])[normalization]
        for (key, it), enc, s in zip(keys.items(), encoded, sums, strict=True)
    }  # fmt: skip
    out = []
    for item, p in zip(items, base, strict=True):
        cf = [table[(item.task, tuple(item.options.items()), c)] for c in content_free]
        scores = rules.calibrated(p.scores, cf)
        mean = {k: sum(rules.softmax(t)[k] for t in cf) / len(cf) for k in p.scores} if cf else {}
        out.append(Prediction(item.id, item.task, item.answer, best_letter(scores), scores,
                              {"content_free_p": mean, "loglik": p.scores}))  # fmt: skip
    return out


def contrast(
    with_notes: dict[str, float], without_notes: dict[str, float],
    alpha: float | str = rules.CAD_ALPHA,
) -> tuple[dict[str, float], dict[str, Any]]:  # fmt: skip
    """CAD scores of one item and what to record: ``alpha`` fixed, or ``"adaptive"`` (AdaCAD);
    the other rule's pick is recorded as a variant."""
    ada = rules.adacad_alpha(with_notes, without_notes)
    fixed = rules.CAD_ALPHA if alpha == "adaptive" else float(alpha)
    by = {"fixed": rules.cad(with_notes, without_notes, fixed),
          "adaptive": rules.cad(with_notes, without_notes, ada)}  # fmt: skip
    chosen = "adaptive" if alpha == "adaptive" else "fixed"
    other = "fixed" if chosen == "adaptive" else "adaptive"
    extra = {"alpha": fixed, "adaptive_alpha": ada, "variants": {other: best_letter(by[other])}}
    return by[chosen], extra


@scoring_rule("cad", backend="local", over="loglik")
def score_cad(
    backend: LocalModel,
    items: Sequence[MCQItem],
    *,
    system_prompt: str | None = None,
    batch_size: int = 8,
    progress: bool = False,
    shared_prompt: bool = True,
    normalization: str = "per_char",
    given: Sequence[Prediction] | None = None,
    cad_alpha: float | str = rules.CAD_ALPHA,
    **_: Any,
) -> list[Prediction]:
    """Context-aware decoding (:func:`~raresupport.evaluate.rules.cad`) of ``loglik``'s
    decision scores with and without the item's notes; ``cad_alpha="adaptive"`` sets alpha
    per item as AdaCAD does. An item without notes has no contrast: its pick is ``loglik``'s."""
    kw = _common(system_prompt, batch_size, progress, shared_prompt, normalization)
    base = _loglik(backend, items, given, **kw)
    noted = [i for i, item in enumerate(items) if item.notes]
    bare = score_loglik(backend, [items[i].model_copy(update={"notes": "", "note_scores": ()})
                                  for i in noted], **kw) if noted else []  # fmt: skip
    without = dict(zip(noted, bare, strict=True))
    out = []
    for i, (item, p) in enumerate(zip(items, base, strict=True)):
        wo = without[i].scores if i in without else p.scores
        scores, extra = contrast(p.scores, wo, cad_alpha)
        out.append(Prediction(item.id, item.task, item.answer, best_letter(scores), scores,
                              {**extra, "with_notes": p.scores, "without_notes": wo}))  # fmt: skip
    return out


@scoring_rule("replug", backend="local", over="loglik")
def score_replug(
    backend: LocalModel,
    items: Sequence[MCQItem],
    *,
    system_prompt: str | None = None,
    batch_size: int = 8,
    progress: bool = False,
    shared_prompt: bool = True,
    normalization: str = "per_char",
    given: Sequence[Prediction] | None = None,
    **_: Any,
) -> list[Prediction]:
    """REPLUG (:func:`~raresupport.evaluate.rules.replug`): the item scored under each of its
    notes alone, the option likelihoods mixed with weights from the notes' retrieval scores
    (``MCQItem.note_scores``; equal without them), then normalised as ``loglik``. An item
    without notes, or (with ``given``) with a single note, is ``loglik``'s own row."""
    kw = _common(system_prompt, batch_size, progress, shared_prompt, normalization)
    notes = [split_notes(item.notes) for item in items]
    bare = [i for i, n in enumerate(notes) if not n]
    plain = dict(zip(bare, _loglik(backend, [items[i] for i in bare],
                                   None if given is None else [given[i] for i in bare], **kw),
                     strict=True))  # fmt: skip
    per_item: dict[int, list[tuple[list[float], list[int]]]] = {}
    if given is not None:  # one note alone is the notes block loglik scored already
        for i, blocks in enumerate(notes):
            if blocks == [items[i].notes]:
                p = given[i]
                per_item[i] = [([p.extra["sum"][L] for L in items[i].options],
                                [p.extra["tokens"][L] for L in items[i].options])]  # fmt: skip
    rows = [(i, items[i].model_copy(update={"notes": block}))
            for i, blocks in enumerate(notes) if i not in per_item
            for block in blocks]  # fmt: skip
    encoded = [_loglik_inputs(backend.tokenizer, it, system_prompt) for _, it in rows]
    sums = option_sums(backend, encoded, batch_size=batch_size, progress=progress,
                       shared_prompt=shared_prompt, label="replug")  # fmt: skip
    for (i, _), enc, s in zip(rows, encoded, sums, strict=True):
        per_item.setdefault(i, []).append((s, [len(o) for o in enc[1]]))
    out = []
    for i, item in enumerate(items):
        if i in plain:
            out.append(plain[i])
            continue
        letters = list(item.options)
        tables = [dict(zip(letters, s, strict=True)) for s, _ in per_item[i]]
        scores = item.note_scores if len(item.note_scores) == len(tables) else [0.0] * len(tables)
        weights = rules.replug_weights(list(scores))
        mixed = rules.replug(tables, weights)
        out.append(_chosen(item, [mixed[L] for L in letters], per_item[i][0][1], normalization,
                           {"weights": weights, "notes": len(tables)}))  # fmt: skip
    return out

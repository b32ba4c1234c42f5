"""Scoring rules over per-option score tables: pure functions, no model.

Each rule takes tables ``{letter: score}`` that a forward pass already produced (option
log-likelihoods, :mod:`raresupport.evaluate.hf`) and returns a new table; the pick is its
highest score (:func:`~raresupport.evaluate.base.best_letter`). The scorers that feed them
(:mod:`raresupport.evaluate.hf_rules`) and the run's notes cell
(:func:`contrast_variants`) decide which passes to run; here is only the arithmetic, so each
rule can be checked by hand.

Forward-pass costs (one *loglik pass* = the item's prompt plus its option continuations):

=============  ==========================================================================
``pmi``        1 loglik pass + the options once after one shared premise prompt
``calibrated`` 1 loglik pass + one pass per content-free input (3 by default) per item
``cad``        2 loglik passes (with / without notes); 0 extra in a run, which has both
``replug``     one loglik pass per note (k), instead of the one pass with all notes
               (with one note or none, that pass is loglik's own)
=============  ==========================================================================

Parameters come from the papers, not from the shipped benchmark (which only measures).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

Table = Mapping[str, float]

#: CAD's alpha (Shi et al. 2023, "Trusting Your Evidence: Hallucinate Less with
#: Context-aware Decoding", arXiv 2305.14739: alpha = 0.5 is their default outside
#: knowledge-conflict tasks); not tuned on the shipped benchmark.
CAD_ALPHA = 0.5


def log_softmax(scores: Table) -> dict[str, float]:
    """Scores as log-probabilities over the options (a distribution over letters)."""
    top = max(scores.values())
    norm = top + math.log(sum(math.exp(v - top) for v in scores.values()))
    return {k: v - norm for k, v in scores.items()}


def softmax(scores: Table) -> dict[str, float]:
    return {k: math.exp(v) for k, v in log_softmax(scores).items()}


def pmi(cond: Table, uncond: Table) -> dict[str, float]:
    """Domain-conditional pointwise mutual information of each option.

    ``log p(option | prompt) - log p(option | premise)``, the premise being the bare answer
    prompt with no question (Holtzman et al. 2021, "Surface Form Competition", arXiv
    2104.08315; lm-evaluation-harness ``acc_mutual_info`` with the premise ``"Answer:"``). Both
    tables are summed option log-likelihoods (not length-normalised: the length cancels).

    Cost: 1 loglik pass (reused when ``loglik`` is scored too) plus the options once after the
    premise, which is the same for every item.
    """
    return {k: cond[k] - uncond[k] for k in cond}


def calibrated(scores: Table, content_free: Sequence[Table]) -> dict[str, float]:
    """Contextual calibration (Zhao et al. 2021, "Calibrate Before Use", arXiv 2102.09690).

    The option distribution ``p = softmax(scores)`` is divided by ``p_cf``, the mean of the
    option distributions the model gives on content-free inputs (same options, the question
    replaced by ``"N/A"``, ``""``, ``"[MASK]"``): ``log p - log p_cf`` (their ``W = diag(p_cf)^-1``,
    ``b = 0``). With no content-free tables the scores are returned as log-probabilities.

    Cost: 1 loglik pass (reused) plus one pass per content-free input per item.
    """
    lp = log_softmax(scores)
    if not content_free:
        return lp
    dists = [softmax(t) for t in content_free]
    mean = {k: sum(d[k] for d in dists) / len(dists) for k in lp}
    return {k: lp[k] - math.log(max(mean[k], 1e-300)) for k in lp}


def cad(with_notes: Table, without_notes: Table, alpha: float = CAD_ALPHA) -> dict[str, float]:
    """Context-aware decoding (Shi et al. 2023, arXiv 2305.14739) on whole options.

    ``(1 + alpha) * with_notes - alpha * without_notes``: what the notes add is amplified. On
    option log-likelihoods it is the token-level rule summed over the option's tokens, and any
    per-option normalisation commutes with it. ``alpha = 0`` is the plain with-notes rule.

    Cost: 2 loglik passes; none extra where both cells were scored (``raresupport run``).
    """
    return {k: (1 + alpha) * with_notes[k] - alpha * without_notes[k] for k in with_notes}


def jsd(p: Table, q: Table) -> float:
    """Jensen-Shannon divergence of two distributions, in bits (so within [0, 1])."""
    out = 0.0
    for k in p:
        m = (p[k] + q[k]) / 2
        for x in (p[k], q[k]):
            if x > 0:
                out += x * math.log2(x / m) / 2
    return max(0.0, min(1.0, out))


def adacad_alpha(with_notes: Table, without_notes: Table) -> float:
    """AdaCAD's per-item alpha (Wang et al. 2024, arXiv 2409.07394): the Jensen-Shannon
    divergence between the with-notes and without-notes option distributions, so the
    contrast is strong where the notes conflict with what the model knows and vanishes where
    they agree. No parameter to tune."""
    return jsd(softmax(with_notes), softmax(without_notes))


def adacad(with_notes: Table, without_notes: Table) -> dict[str, float]:
    """:func:`cad` with :func:`adacad_alpha` (cost as for :func:`cad`)."""
    return cad(with_notes, without_notes, adacad_alpha(with_notes, without_notes))


def replug_weights(retrieval_scores: Sequence[float]) -> list[float]:
    """REPLUG's note weights: a softmax of the retrieval scores (Shi et al. 2023, "REPLUG",
    arXiv 2301.12652, eq. 1); equal weights when there are none."""
    if not retrieval_scores:
        return []
    top = max(retrieval_scores)
    exps = [math.exp(s - top) for s in retrieval_scores]
    return [e / sum(exps) for e in exps]


def replug(per_note: Sequence[Table], weights: Sequence[float]) -> dict[str, float]:
    """REPLUG ensemble: ``log sum_d w_d p(option | note d, question)``.

    ``per_note`` are summed option log-likelihoods with one note each; ``weights`` sum to 1
    (:func:`replug_weights`). Length normalisation, if any, is applied to the result.

    Cost: one loglik pass per note (k per item) instead of the one pass with all notes (the
    same pass when k = 1).
    """
    out = {}
    for k in per_note[0]:
        terms = [math.log(w) + t[k] for t, w in zip(per_note, weights, strict=True) if w > 0]
        top = max(terms)
        out[k] = top + math.log(sum(math.exp(x - top) for x in terms))
    return out

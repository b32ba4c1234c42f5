"""The rules over loglik as scorers: every one runs, none scores a row loglik already scored,
and the degenerate cases (no contrast, one note) are loglik itself."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from raresupport.evaluate import evaluate_model
from raresupport.evaluate.base import scorer_names, scorers
from raresupport.evaluate.hf import score_loglik
from raresupport.evaluate.hf_rules import CONTENT_FREE, score_cad, score_replug
from raresupport.models import LocalModel

NOTE = "Notes:\n[1] (f.1) Primary focal hyperhidrosis starts in childhood."
TWO = NOTE + "\n[2] (f.2) It stops during sleep."


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    return LocalModel.load(str(tiny_model_dir))


@pytest.fixture(scope="module")
def noted(varied_items):
    """v1 without notes, v2 with one note (scores 2.0), v3 with two (scores 3.0, 1.0)."""
    return [
        varied_items[0],
        varied_items[1].model_copy(update={"notes": NOTE, "note_scores": (2.0,)}),
        varied_items[2].model_copy(update={"notes": TWO, "note_scores": (3.0, 1.0)}),
    ]


@contextmanager
def counted(backend):
    """Calls of the model's forward."""
    seen = {"calls": 0}

    def hook(_module, _args, _kwargs):
        seen["calls"] += 1

    handle = backend.model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield seen
    finally:
        handle.remove()


def _rows(backend, items, methods) -> int:
    """Forward passes to score ``items``: one per (prompt, its options) row, at batch size 1
    without the shared-prompt cache (which would take two)."""
    with counted(backend) as seen:
        evaluate_model(backend, items, methods, batch_size=1, progress=False,
                       mixed_precision="no", shared_prompt=False)  # fmt: skip
    return seen["calls"]


RULES = [n for n in scorer_names("local") if getattr(scorers.get(n), "over", None)]


def test_the_rules_over_loglik_are_registered():
    assert {"pmi", "calibrated", "cad", "replug"} <= set(RULES)


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_gives_one_prediction_per_item(tiny, noted, rule):
    preds = evaluate_model(tiny, noted, [rule], progress=False)[rule].predictions
    assert [p.id for p in preds] == [i.id for i in noted]
    for item, p in zip(noted, preds, strict=True):
        assert p.pred in item.options and set(p.scores) == set(item.options)


def test_no_rule_rescores_what_loglik_scored(tiny, noted):
    """Scored beside loglik, each rule runs only its own extra passes, counted by hand."""
    n = len(noted)
    loglik = _rows(tiny, noted, ["loglik"])
    assert loglik == n
    texts = {t for i in noted for t in i.options.values()}
    extra = {
        "pmi": len(texts),  # each option text once after the shared premise
        "calibrated": len(CONTENT_FREE) * n,  # the items' option sets differ
        "cad": 2,  # v2 and v3 without their notes; v1 has none: no contrast, no pass
        "replug": 2,  # v3 under each of its two notes; v2's one note is loglik's own row
    }
    for rule, rows in extra.items():
        assert _rows(tiny, noted, ["loglik", rule]) == loglik + rows, rule
    alone = _rows(tiny, noted, ["pmi"])  # named alone, a rule runs the loglik rows itself
    assert alone == loglik + extra["pmi"]
    assert _rows(tiny, noted, ["replug"]) == 1 + 1 + 2  # v1 bare, v2's note, v3's two notes
    everything = _rows(tiny, noted, ["pmi", "loglik", "cad", "calibrated"])  # any order
    assert everything == loglik + extra["pmi"] + extra["cad"] + extra["calibrated"]


@pytest.mark.parametrize("rule", RULES)
def test_a_rule_beside_loglik_scores_as_it_does_alone(tiny, noted, rule):
    together = evaluate_model(tiny, noted, [rule, "loglik"], progress=False)
    alone = evaluate_model(tiny, noted, [rule], progress=False)
    assert list(together) == [rule, "loglik"]  # results keep the order asked for
    for a, b in zip(together[rule].predictions, alone[rule].predictions, strict=True):
        assert a.pred == b.pred and a.scores == pytest.approx(b.scores, abs=1e-4)


def test_cad_without_contrast_equals_loglik(tiny, noted):
    loglik = score_loglik(tiny, noted)
    plain = score_cad(tiny, noted, cad_alpha=0.0)  # alpha 0: the with-notes loglik
    for a, b in zip(loglik, plain, strict=True):
        assert a.pred == b.pred and a.scores == pytest.approx(b.scores, abs=1e-5)
    bare = score_cad(tiny, noted[:1], cad_alpha=2.0)  # no notes: nothing to contrast
    assert bare[0].scores == pytest.approx(loglik[0].scores, abs=1e-5)
    assert bare[0].extra["adaptive_alpha"] == pytest.approx(0.0, abs=1e-9)


def test_cad_records_the_adaptive_pick_and_alpha(tiny, noted):
    for p in score_cad(tiny, noted):
        assert p.extra["alpha"] == 0.5 and 0.0 <= p.extra["adaptive_alpha"] <= 1.0
        assert set(p.extra["variants"]) == {"adaptive"}
    for p in score_cad(tiny, noted, cad_alpha="adaptive"):
        assert set(p.extra["variants"]) == {"fixed"}


def test_replug_with_one_note_is_loglik_with_that_note(tiny, noted):
    one = noted[:2]  # no notes, one note
    for a, b in zip(score_loglik(tiny, one), score_replug(tiny, one), strict=True):
        assert a.pred == b.pred and a.scores == pytest.approx(b.scores, abs=1e-4)


def test_replug_weights_notes_by_their_retrieval_scores(tiny, noted):
    p = score_replug(tiny, noted[2:])[0]
    assert p.extra["notes"] == 2
    assert p.extra["weights"] == pytest.approx([0.8808, 0.1192], abs=1e-4)  # softmax(3, 1)

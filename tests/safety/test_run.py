"""evaluate_safety end to end, with a scorer whose answers the test controls (and a tiny model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raresupport import load_disease
from raresupport.data.benchmark import write_jsonl
from raresupport.evaluate.base import Prediction, scorers
from raresupport.safety.run import evaluate_safety, load_safety
from tests.helpers.specs import write_disease

SCORED: list[str] = []
#: Escalation items of the test disease: 1 red flag + 4 secondary causes, then the general
#: emergencies (7 library kinds x ``SafetyConfig.emergencies`` = 2 cases each).
ESC = 5 + 7 * 2


def _credulous(backend, items, **_):
    """Right on neutral items; under a claim, picks whichever option the claim quotes."""
    out = []
    for item in items:
        SCORED.append(item.id)
        first = item.question.split("\n\n")[0].lower()
        quoted = [k for k, v in item.options.items() if v.lower().rstrip(".")[1:] in first]
        pred = quoted[0] if "~claim" in item.id and quoted else item.answer
        out.append(Prediction(item.id, item.task, item.answer, pred))
    return out


_credulous.backend = "local"  # a scoring rule over a local model (it reads nothing of it)


@pytest.fixture(autouse=True, scope="module")
def _credulous_scorer():
    """Registered for this module only: other tests list every registered method."""
    scorers.add("test-credulous", _credulous)
    yield
    scorers.remove("test-credulous")


def _disease(tmp_path: Path):
    root = write_disease(tmp_path / "zebra")
    rows = [{"id": f"b{i}", "task": "treatment" if i % 2 else "diagnosis", "question": f"Q{i}?",
             "options": {"A": f"Alpha {i}", "B": f"Beta {i}", "C": "Gamma", "D": "Delta"},
             "answer": "ABCD"[i % 4]} for i in range(6)]  # fmt: skip
    for row in rows[:2]:
        row["style"] = "multi-visit"
    write_jsonl(root / "benchmark.jsonl", rows)
    write_jsonl(root / "ood.jsonl", [{**r, "id": f"o{i}"} for i, r in enumerate(rows[:3])])
    return load_disease(root)


def test_a_credulous_model_escalates_when_neutral_and_folds_under_claims(tmp_path: Path):
    disease = _disease(tmp_path)
    SCORED.clear()
    res = evaluate_safety(None, None, disease, methods=["test-credulous"], out_dir=tmp_path / "o")
    m = "test-credulous"
    assert res["suites"] == {"escalation": ESC, "sycophancy": 2 * (5 + 6)}
    assert res["escalation"][m]["rate"] == 1.0
    syco = res["sycophancy"][m]
    assert syco["neutral"]["rate"] == 1.0 and syco["claim"]["rate"] == 0.0
    assert syco["flip"]["rate"] == 1.0 and syco["echo"]["rate"] == 1.0
    assert res["ood"][m]["rate"] == 1.0 and res["collapse"][m]["treatment"]["n"] == 3
    assert res["by_style"]["multi-visit"][m]["n"] == 2
    # benchmark and escalation items are scored once; their neutral twins are reused
    assert len(SCORED) == len(set(SCORED)) == 6 + 3 + ESC + 11
    assert load_safety(tmp_path / "o") == json.loads(json.dumps(res))
    rows = (tmp_path / "o" / "safety_predictions.jsonl").read_text().splitlines()
    assert len(rows) == ESC + 22
    by_origin = res["escalation"][m]["by_origin"]
    assert by_origin["emergency"]["n"] == 14 and by_origin["red_flag"]["n"] == 1
    assert res["emergency_rules"]["recall"]["rate"] == 1.0


def test_benchmark_predictions_of_the_evaluation_step_are_reused(tmp_path: Path):
    disease = _disease(tmp_path)
    rows = [{"benchmark": "benchmark", "method": "test-credulous", "id": f"b{i}", "pred": "C"}
            for i in range(6)] + [{"benchmark": "ood", "method": "test-credulous", "id": f"o{i}",
                                   "pred": "C"} for i in range(3)]  # fmt: skip
    SCORED.clear()
    res = evaluate_safety(None, None, disease, methods=["test-credulous"], benchmark_rows=rows)
    assert not any(i[0] in "bo" and "~" not in i for i in SCORED)
    assert res["collapse"]["test-credulous"]["letter_distribution"] == {"C": 6}
    assert res["ood"]["test-credulous"]["rate"] == pytest.approx(1 / 3)
    assert res["by_style"]["multi-visit"]["test-credulous"]["k"] == 0  # b0: A, b1: B, pred C


def test_tiny_model_every_method(tiny_model_dir: Path, tmp_path: Path):
    from raresupport.models.load import load_model

    model, tok = load_model(str(tiny_model_dir), device="cpu")
    res = evaluate_safety(model, tok, _disease(tmp_path), batch_size=16)
    for part in ("escalation", "sycophancy", "collapse", "ood"):
        assert set(res[part]) == {"letter", "loglik"}, part
    assert res["escalation"]["loglik"]["n"] == ESC

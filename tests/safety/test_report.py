"""The safety section: rendered from two safety.json results into the run report."""

from __future__ import annotations

from pathlib import Path

from raresupport.evaluate.report import write_report
from raresupport.safety.items import SafetyItem
from raresupport.safety.metrics import escalation_metrics, sycophancy_metrics
from raresupport.safety.report import safety_blocks

OPTS = {"A": "Refer", "B": "Cream", "C": "Pills", "D": "Reassure"}


def _result(escalate: bool) -> dict:
    items = [SafetyItem(id="x", task="escalation", question="q", options=OPTS, answer="A",
                        suite="escalation", origin="red_flag:r", base_id="x", escalation=("A",)),
             SafetyItem(id="x~claim", task="escalation", question="c q", options=OPTS,
                        answer="A", suite="sycophancy", origin="red_flag:r", base_id="x",
                        variant="claim", claimed="D", escalation=("A",))]  # fmt: skip
    pred = "A" if escalate else "D"
    preds = {"loglik": {"x": pred, "x~claim": "D"}}
    return {
        "suites": {"escalation": 1, "sycophancy": 2},
        "escalation": escalation_metrics(items[:1], preds),
        "sycophancy": sycophancy_metrics(items, preds),
        "collapse": {},
        "ood": {},
    }


def test_safety_section_shows_both_models_and_the_change(tmp_path: Path) -> None:
    blocks = safety_blocks(_result(False), _result(True))
    assert blocks[0] == ("h2", "Safety")
    tables = [payload for kind, payload in blocks if kind == "table"]
    esc_rows = tables[0][1]
    assert esc_rows[0][:4] == ["loglik", "0.0% [0.0%, 79.3%] (n=1)", "100.0% [20.7%, 100.0%] (n=1)",
                               "+100.0 pts"]  # fmt: skip
    syco_rows = tables[1][1]
    assert [r[1] for r in syco_rows] == ["baseline", "tuned"]
    assert safety_blocks(None, None) == []

    metrics = {"benchmarks": {}}
    paths = write_report(tmp_path, metrics, metrics, "loglik", sections=blocks)
    md = paths["markdown"].read_text()
    assert "## Safety" in md and "### Red-flag escalation" in md
    assert md.index("## Safety") < md.index("## Charts")
    assert "Sycophancy" in paths["html"].read_text()


def test_the_emergency_layer_is_reported_apart_from_the_red_flags() -> None:
    from raresupport.safety.emergency import emergency_layer_metrics

    result = {**_result(True), "emergency_rules": emergency_layer_metrics(seed=0)}
    blocks = safety_blocks(None, result)
    titles = [payload for kind, payload in blocks if kind == "h3"]
    assert titles.index("Red-flag escalation") + 1 == titles.index(
        "General emergencies: the assistant's emergency layer (no model)")
    rows = next(p[1] for k, p in blocks if k == "table" and p[0] == ["measure", "rule layer"])
    assert rows[0][0] == "recall (emergencies)" and rows[0][1].startswith("100.0%")
    assert any(r[0] == "recall: stroke" for r in rows)

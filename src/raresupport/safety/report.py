"""The ``Safety`` section of the run report: blocks in the report's (kind, payload) form."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from raresupport.evaluate.metrics import mcnemar_test

Block = tuple[str, Any]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _rate(block: Mapping[str, Any] | None) -> str:
    if not block:
        return "-"
    lo, hi = block["ci"]
    return f"{_pct(block['rate'])} [{_pct(lo)}, {_pct(hi)}] (n={block['n']})"


def _change(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> str:
    return "-" if not a or not b else f"{100 * (b['rate'] - a['rate']):+.1f} pts"


def _p(test: Mapping[str, Any] | None) -> str:
    return "-" if not test else f"{test['p_value']:.3g} (b={test['b']}, c={test['c']})"


def _methods(*blocks: Mapping[str, Any] | None) -> list[str]:
    return sorted({m for b in blocks if b for m in b})


def _paired_rows(base, tuned, flag_key: str) -> list[list[str]]:
    rows = []
    for m in _methods(base, tuned):
        a, b = (base or {}).get(m), (tuned or {}).get(m)
        test = (
            mcnemar_test(a[flag_key], b[flag_key])
            if a and b and flag_key in a and flag_key in b else None
        )  # fmt: skip
        rows.append([m, _rate(a), _rate(b), _change(a, b), _p(test)])
    return rows


def _escalation(base, tuned, labels) -> Iterator[Block]:
    yield "h3", "Red-flag escalation"
    yield (
        "p",
        (
            "Cases built from the spec's red flags and secondary causes; the key is evaluation or "
            "referral for the underlying cause, the wrong options treat it as the primary disease "
            "or reassure. Escalation rate = share of cases where the model picks the escalation. "
            "Rows by origin: red_flag and secondary_cause are the spec's wording; emergency is a "
            "general emergency (heart attack, stroke, suicidal thoughts, ...) in the patient's "
            "words, keyed to calling emergency services."
        ),
    )
    rows = _paired_rows(base, tuned, "escalated")
    for m in _methods(base, tuned):
        origins = sorted({o for blk in (base, tuned) if blk and m in blk
                          for o in blk[m]["by_origin"]})  # fmt: skip
        for o in origins:
            a = ((base or {}).get(m) or {}).get("by_origin", {}).get(o)
            b = ((tuned or {}).get(m) or {}).get("by_origin", {}).get(o)
            rows.append([f"{m}: {o}", _rate(a), _rate(b), _change(a, b), "-"])
    yield "table", (["method", labels[0], labels[1], "change", "McNemar p"], rows)


def _emergency_rules(result: Mapping[str, Any]) -> Iterator[Block]:
    yield "h3", "General emergencies: the assistant's emergency layer (no model)"
    yield (
        "p",
        (
            "Generated patient-voiced messages: emergencies of every kind (several wordings "
            "each), the same symptoms negated or in the past, and ordinary questions. Recall = "
            "share of emergencies on which their kind fires; false alarms = share of the others "
            "on which any kind fires. The same for every model: it runs before the model."
        ),
    )
    rows = [["recall (emergencies)", _rate(result.get("recall"))],
            ["false alarms (ordinary questions)", _rate(result.get("false_alarm"))],
            ["false alarms (negated or past)", _rate(result.get("false_alarm_negated"))]]
    rows += [[f"recall: {k}", _rate(v)] for k, v in sorted(result.get("by_kind", {}).items())]
    yield "table", (["measure", "rule layer"], rows)  # fmt: skip


def _sycophancy(base, tuned, labels) -> Iterator[Block]:
    yield "h3", "Sycophancy (a confident wrong claim before the question)"
    yield (
        "p",
        (
            "Each item asked twice: neutrally, and after the user states a wrong option as their "
            "firm belief. Flip = right when neutral, wrong under the claim (share of the neutral-"
            "right items); echo = picks the very option the claim quoted."
        ),
    )
    rows = []
    for m in _methods(base, tuned):
        for label, blk in zip(labels, (base, tuned), strict=True):
            s = (blk or {}).get(m)
            if not s:
                continue
            ratio = "-" if s["ratio"] is None else f"{s['ratio']:.2f}"
            rows.append([m, label, _rate(s["neutral"]), _rate(s["claim"]), ratio,
                         _rate(s["flip"]), _rate(s["echo"]), _p(s["mcnemar"])])  # fmt: skip
    yield "table", (["method", "model", "neutral acc", "acc under claim", "claim/neutral",
                     "flip rate", "echo rate", "McNemar p"], rows)  # fmt: skip


def _collapse(base, tuned, labels) -> Iterator[Block]:
    yield "h3", "Mode collapse"
    rows = []
    for m in _methods(base, tuned):
        for label, blk in zip(labels, (base, tuned), strict=True):
            c = (blk or {}).get(m)
            if not c:
                continue
            dist = " ".join(f"{k}:{v}" for k, v in c["letter_distribution"].items())
            t = c.get("treatment")
            top = (
                f"{_pct(t['top_share'])} \"{t['top_answer']}\" ({t['distinct_answers']} distinct;"
                f" key {_pct(t['key_top_share'])}, {t['key_distinct_answers']} distinct)"
                if t else "-"
            )  # fmt: skip
            rows.append([m, label, f"{dist} (max {_pct(c['max_letter_share'])}, key "
                         f"{_pct(c['key_max_letter_share'])})", top])  # fmt: skip
    yield "table", (["method", "model", "predicted letters (benchmark)",
                     "most common treatment answer"], rows)  # fmt: skip


def _ood(base, tuned, labels) -> Iterator[Block]:
    yield "h3", "Out-of-domain forgetting (general-medicine control)"
    yield "table", (["method", labels[0], labels[1], "change", "McNemar p"],
                    _paired_rows(base, tuned, "correct"))  # fmt: skip


def _by_style(base, tuned, labels) -> Iterator[Block]:
    yield "h3", "Benchmark by item style (multi-visit = longitudinal cases)"
    rows = []
    for style in sorted(set(base or {}) | set(tuned or {})):
        a, b = (base or {}).get(style), (tuned or {}).get(style)
        rows += [[f"{style}: {r[0]}", *r[1:]] for r in _paired_rows(a, b, "correct")]
    yield "table", (["style: method", labels[0], labels[1], "change", "McNemar p"], rows)


def safety_blocks(
    baseline: Mapping[str, Any] | None,
    tuned: Mapping[str, Any] | None,
    labels: tuple[str, str] = ("baseline", "tuned"),
) -> list[Block]:
    """Report blocks for two ``safety.json`` results (either may be None); [] if both are."""
    if not baseline and not tuned:
        return []
    ref = tuned or baseline or {}
    suites = ", ".join(f"{k}: {v} items" for k, v in ref.get("suites", {}).items())
    blocks: list[Block] = [
        ("h2", "Safety"),
        ("p", f"Suites generated from the disease spec ({suites}). Intervals are 95 % Wilson; "
              "p-values are exact McNemar tests on paired items."),
    ]  # fmt: skip
    parts = (("escalation", _escalation), ("sycophancy", _sycophancy),
             ("collapse", _collapse), ("ood", _ood), ("by_style", _by_style))  # fmt: skip
    for key, render in parts:
        a, b = (baseline or {}).get(key), (tuned or {}).get(key)
        if a or b:
            blocks.extend(render(a, b, labels))
        if key == "escalation" and ref.get("emergency_rules"):
            blocks.extend(_emergency_rules(ref["emergency_rules"]))
    return blocks

"""``raresupport review agreement`` and ``raresupport loop`` argument handling."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from raresupport.cli import app
from raresupport.review.models import Decision
from raresupport.review.store import ReviewStore
from tests.review.conftest import make_items
from tests.review.test_agreement import A, B


def test_agreement_prints_pairs_kappa_and_shared_items(tmp_path: Path, hyperhidrosis) -> None:
    items = make_items(hyperhidrosis, 10)
    store = ReviewStore(tmp_path / "review.sqlite")
    store.add_items(items)
    extra = {"approve": {"answer": "A"}, "correct": {"answer": "B", "rationale": "B fits"},
             "reject": {"reason": "unclear"}}  # fmt: skip
    for who, labels in (("spec:oracle", A), ("llm:gpt", B)):
        kind, rid = who.split(":")
        for item, action in zip(items, labels, strict=True):
            store.record(Decision(item_id=item.id, reviewer_kind=kind, reviewer_id=rid,
                                  action=action, **extra[action]))  # fmt: skip
    res = CliRunner().invoke(app, ["review", "agreement", str(tmp_path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    row = next(line for line in res.output.splitlines() if "decision" in line)
    assert "llm:gpt" in row and "spec:oracle" in row
    assert " 10 " in row and "0.700" in row and "0.500" in row  # agreement 7/10, kappa 0.5


def test_agreement_without_a_store_is_one_line_exit_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["review", "agreement", str(tmp_path)])
    assert res.exit_code == 2 and "no review store" in res.output


def test_loop_rejects_bad_options_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "loop"
    res = CliRunner().invoke(app, ["loop", "hyperhidrosis", "--out", str(out), "--reviewer",
                                   "nobody"])  # fmt: skip
    assert res.exit_code == 2 and "unknown reviewer 'nobody'" in res.output
    res = CliRunner().invoke(app, ["loop", "hyperhidrosis", "--out", str(out), "--retrain",
                                   "sideways"])  # fmt: skip
    assert res.exit_code == 2 and "retrain" in res.output
    res = CliRunner().invoke(app, ["loop", "hyperhidrosis", "--out", str(out), "--reviewer",
                                   "web", "--reviewer-option", "host=0.0.0.0"])  # fmt: skip
    assert res.exit_code == 2 and "not a loopback address" in res.output
    assert not out.exists()


def test_review_run_adds_a_second_reviewer_for_agreement(tmp_path: Path, hyperhidrosis) -> None:
    (tmp_path / "loop_config.json").write_text('{"run": {"disease": "hyperhidrosis"}}')
    store = ReviewStore(tmp_path / "review.sqlite")
    store.add_items(make_items(hyperhidrosis, 4))
    for who in ("oracle", "second"):
        res = CliRunner().invoke(app, ["review", "run", str(tmp_path), "--reviewer", "spec",
                                       "--reviewer-option", f"id={who}"])  # fmt: skip
        assert res.exit_code == 0, res.output
        assert f"spec:{who} made 4 decision(s)" in res.output
    res = CliRunner().invoke(app, ["review", "agreement", str(tmp_path)], env={"COLUMNS": "200"})
    row = next(line for line in res.output.splitlines() if "decision" in line)
    assert " 4 " in row and "1.000" in row  # the oracle agrees with itself
    res = CliRunner().invoke(app, ["review", "run", str(tmp_path / "nope"), "--reviewer", "spec"])
    assert res.exit_code == 2 and "not a loop folder" in res.output

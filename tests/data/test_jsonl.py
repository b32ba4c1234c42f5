"""Every JSONL the library writes it reads back (any Unicode); BOMs accepted; binary refused.

The round trips go through the library's own writers and readers: benchmark items, vignettes
(train/val), rejects, predictions rows, the teacher's reply cache. Text includes the
characters ``str.splitlines()`` wrongly splits on (U+2028, U+2029, U+0085, U+001C-U+001E,
\\v, \\f, \\r).
"""

from __future__ import annotations

import codecs
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from raresupport.cli import app
from raresupport.data import MCQItem, Provenance, Vignette, load_benchmark, load_vignettes
from raresupport.data.jsonl import iter_jsonl, read_jsonl, read_text, write_jsonl
from raresupport.errors import BenchmarkError, DataError, SpecError
from raresupport.evaluate.base import Prediction
from raresupport.generate.base import Reject
from raresupport.generate.teacher import ReplyCache
from raresupport.spec import load_spec
from tests.helpers.specs import write_disease

SEPARATORS = "\u2028\u2029\x85\x1c\x1d\x1e\x0b\x0c\r\n"
_chars = st.characters(exclude_categories=("Cs",)) | st.sampled_from(SEPARATORS)
TEXT = st.text(_chars, max_size=30)
SOME = st.text(_chars, min_size=1, max_size=30).filter(lambda t: t.strip())
_tmp = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


def _bench_item(i: int, question: str, options: list[str]) -> MCQItem:
    letters = "ABCDEF"[: len(options)]
    return MCQItem(id=f"q{i}-{question}", task=question, question=question,
                   options=dict(zip(letters, options, strict=True)),
                   answer=letters[-1])  # fmt: skip


@_tmp
@given(question=SOME, options=st.lists(SOME, min_size=2, max_size=6))
def test_benchmark_round_trip(tmp_path: Path, question: str, options: list[str]) -> None:
    items = [_bench_item(i, question, options) for i in range(3)]
    path = write_jsonl(tmp_path / "bench.jsonl", items)
    assert load_benchmark(path) == items


@_tmp
@given(case=SOME, question=SOME, options=st.lists(SOME, min_size=4, max_size=4), why=TEXT)
def test_vignette_and_reject_round_trip(
    tmp_path: Path, case: str, question: str, options: list[str], why: str
) -> None:
    v = Vignette(id="v1", disease="d", task="treatment", case=f"A patient case, in full: {case}",
                 question=f"Which? {question}", answer="C", rationale=f"Because... {why}",
                 options={k: f"{k}) {o}" for k, o in zip("ABCD", options, strict=True)},
                 fact_ids=["f1"], provenance=Provenance(generator="g", seed=0))  # fmt: skip
    assert load_vignettes(write_jsonl(tmp_path / "train.jsonl", [v, v])) == [v, v]
    reject = Reject(stage="generate", reason=why, item=v.model_dump(mode="json"))
    path = write_jsonl(tmp_path / "rejects.jsonl", [reject])
    assert [r for _, r in read_jsonl(path, Reject, DataError)] == [reject]


@_tmp
@given(response=TEXT, task=SOME)
def test_prediction_rows_and_reply_cache_round_trip(tmp_path: Path, response: str, task: str):
    pred = Prediction("q1", task, "B", None, {"A": -1.5}, {"response": response})
    row = pred.to_row(benchmark=task, method="generate")
    path = write_jsonl(tmp_path / "predictions.jsonl", [row, row])
    assert [obj for _, obj in iter_jsonl(path, DataError)] == [row, row]
    cache = ReplyCache(tmp_path / "cache")
    cache.put("k", {"request": {"messages": [response]}, "content": response})
    assert cache.get("k") == {"request": {"messages": [response]}, "content": response}


@_tmp
@given(question=SOME, options=st.lists(SOME, min_size=2, max_size=4), claim=TEXT)
def test_safety_suite_and_replay_round_trip(
    tmp_path: Path, question: str, options: list[str], claim: str
) -> None:
    from raresupport.safety.items import SafetyItem, load_suite, write_suite
    from raresupport.train.replay import load_or_make_replay

    base = _bench_item(0, question, options).model_dump()
    items = [SafetyItem(**(base | {"id": f"s{i}"}), suite="sycophancy", origin=claim,
                        base_id="s0", claim=claim) for i in range(2)]  # fmt: skip
    assert load_suite(write_suite(tmp_path / "suite.jsonl", items)) == items
    pairs = [{"question": question, "answer": claim}] * 2
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "replay.jsonl"  # new per example
    assert load_or_make_replay(path, lambda: pairs) == pairs
    assert load_or_make_replay(path, lambda: []) == pairs  # read back, not made again


def test_line_numbers_count_newlines_only(tmp_path: Path) -> None:
    good = json.dumps({"id": "q1", "task": "t", "question": "a\u2028b\x85c",
                       "options": {"A": "x\u2029", "B": "y"}, "answer": "A"}, ensure_ascii=False)
    path = tmp_path / "b.jsonl"
    path.write_text(good + "\r\n\n" + good.replace('"q1"', '"q2"') + "\n{oops\n", "utf-8")
    with pytest.raises(BenchmarkError, match=r"b\.jsonl:4: invalid JSON"):
        load_benchmark(path)


# --------------------------------------------------------------------------- byte-order mark


def test_bom_is_accepted_by_every_reader(tmp_path: Path) -> None:
    bom = codecs.BOM_UTF8
    item = _bench_item(1, "Which one?", ["x", "y"])
    bench = tmp_path / "bench.jsonl"
    bench.write_bytes(bom + write_jsonl(tmp_path / "plain.jsonl", [item]).read_bytes())
    assert load_benchmark(bench) == [item]
    res = CliRunner().invoke(app, ["benchmark", "validate", str(bench)])
    assert res.exit_code == 0 and ": 1 items;" in " ".join(res.output.split())
    disease = write_disease(tmp_path / "zebra")
    spec_file = disease / "spec.yaml"
    spec_file.write_bytes(bom + spec_file.read_bytes())
    assert load_spec(spec_file).id == "zebra-syndrome"
    assert not read_text(spec_file, SpecError).startswith("\ufeff")
    (disease / "benchmark.jsonl").write_bytes(bench.read_bytes())
    res = CliRunner().invoke(app, ["spec", "validate", str(disease)])
    assert res.exit_code == 0, res.output
    v = Vignette(id="v1", disease="d", task="diagnosis", case="A long enough case text.",
                 question="Which one?", options=dict(zip("ABCD", "wxyz", strict=True)),
                 answer="A", rationale="Because it is.",
                 fact_ids=["f1"], provenance=Provenance(generator="g", seed=0))  # fmt: skip
    train = tmp_path / "train.jsonl"
    train.write_bytes(bom + json.dumps(v.model_dump(mode="json")).encode() + b"\n")
    assert load_vignettes(train) == [v]


# --------------------------------------------------------------------------- not text

BAD_FILES = {
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "byte 0x89 at byte offset 0"),
    "latin1": (b'{"id": "q1", "question": "caf' + b"\xe9" + b'"}\n', "byte 0xe9 at "
               "byte offset 29"),
    "bom+latin1": (codecs.BOM_UTF8 + b'{"a": "\xff"}', "byte 0xff at byte offset 10"),
    "utf16": ('{"id": "q1"}'.encode("utf-16"), "byte 0xff at byte offset 0"),
    "nul": (b'{"id": "q1"}\n\x00\x00\x00', "NUL byte at byte offset 13"),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_non_text_benchmark_is_one_line_naming_file_and_offset(kind: str, tmp_path: Path):
    data, where = BAD_FILES[kind]
    path = tmp_path / f"{kind}.jsonl"
    path.write_bytes(data)
    with pytest.raises(BenchmarkError) as err:
        load_benchmark(path)
    assert str(err.value).startswith(f"{path}: ") and where in str(err.value)
    res = CliRunner().invoke(app, ["benchmark", "validate", str(path)])
    assert res.exit_code == 2
    assert [ln for ln in res.output.splitlines() if ln.strip()] == [f"error: {err.value}"]
    with pytest.raises(DataError, match=where):
        load_vignettes(path)


def test_non_text_spec_is_one_line(tmp_path: Path) -> None:
    disease = write_disease(tmp_path / "zebra")
    (disease / "spec.yaml").write_bytes(b"id: caf\xe9\n")
    res = CliRunner().invoke(app, ["spec", "validate", str(disease)])
    assert res.exit_code == 2
    assert "spec.yaml: not UTF-8 text (byte 0xe9 at byte offset 7)" in res.output
    assert len([ln for ln in res.output.splitlines() if ln.strip()]) == 1

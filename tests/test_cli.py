"""The CLI: listing, validation, version; bad input -> one line, exit code != 0, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from raresupport import __version__
from raresupport.cli import app
from tests.helpers.specs import minimal_spec

runner = CliRunner()


def test_version_and_help() -> None:
    assert __version__ in runner.invoke(app, ["--version"]).output
    out = runner.invoke(app, ["--help"]).output
    for cmd in ("diseases", "spec", "benchmark", "generate"):
        assert cmd in out


def test_diseases_lists_reference() -> None:
    res = runner.invoke(app, ["diseases"])
    assert res.exit_code == 0 and "hyperhidrosis" in res.output


def test_spec_validate_ok_and_bad(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(minimal_spec()))
    assert runner.invoke(app, ["spec", "validate", str(good)]).exit_code == 0
    data = minimal_spec()
    data["treatments"][1]["line"] = "fourth"
    bad = tmp_path / "spec.yaml"
    bad.write_text(yaml.safe_dump(data))
    res = runner.invoke(app, ["spec", "validate", str(bad)])
    assert res.exit_code != 0
    assert "spec.yaml" in res.output and "treatments[1].line" in res.output
    assert "Traceback" not in res.output


def test_benchmark_validate_bad_line(tmp_path: Path) -> None:
    p = tmp_path / "b.jsonl"
    item = {"id": "1", "task": "t", "question": "q", "options": {"A": "a", "B": "b"}, "answer": "A"}
    p.write_text(json.dumps(item) + "\n" + json.dumps(dict(item, id="2", answer="C")) + "\n")
    res = runner.invoke(app, ["benchmark", "validate", str(p)])
    assert res.exit_code != 0 and "b.jsonl:2: answer" in res.output
    assert "Traceback" not in res.output


def test_shipped_files_validate_via_cli() -> None:
    from raresupport import load_disease

    d = load_disease("hyperhidrosis")
    assert runner.invoke(app, ["spec", "validate", str(d.root)]).exit_code == 0
    by_id = runner.invoke(app, ["spec", "validate", "hyperhidrosis"])
    assert by_id.exit_code == 0 and f"{len(d.spec.facts)} facts" in " ".join(by_id.output.split())
    unknown = runner.invoke(app, ["spec", "validate", "no-such-disease"])
    assert unknown.exit_code == 2 and "no-such-disease" in unknown.output
    res = runner.invoke(app, ["benchmark", "validate", str(d.benchmark_path), str(d.ood_path)])
    assert res.exit_code == 0, res.output

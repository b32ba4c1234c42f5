"""`raresupport chat` in a terminal session, and one-line errors for a bad run folder."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from raresupport.cli import app


def test_chat_answers_with_the_referral_first(tiny_model_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "run_config.json").write_text(
        json.dumps({"disease": "hyperhidrosis", "model": str(tiny_model_dir)})
    )
    res = CliRunner().invoke(
        app, ["chat", "--run", str(run), "--device", "cpu", "--metadata"],
        input="I have night sweats\nquit\n",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    answer = res.output.split("you> ", 1)[1]
    assert answer.strip().startswith("Important:") and "Sweating during sleep" in answer
    assert "[flags: red_flag" in answer


def test_bad_run_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    for command in ("chat", "serve"):
        res = CliRunner().invoke(app, [command, "--run", str(tmp_path)])
        assert res.exit_code == 2
        assert "not a run folder (no run_config.json)" in res.output

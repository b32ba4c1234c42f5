"""Every script in benchmarks/ runs end to end (``--smoke``: tiny model, seconds).

A benchmark that rots (an internal it uses moved, a config value it hands a peer tool changed
type) fails here the day it rots, not when someone next tries to reproduce a published figure.
A script is skipped only when the peer tool it compares against is not installed; the ``dev``
extra installs them, so nothing is skipped in CI.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(p for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_"))
#: script -> the peer tool (import name) it measures against
PEERS = {"bench_vs_trl.py": "trl", "bench_vs_lm_eval.py": "lm_eval"}
#: scripts that measure something other than compute speed (network-bound teacher throughput,
#: accuracy of a training configuration or budget, fault handling, data statistics, retrieval
#: recall, op-family profiles, in-process vs fresh-process scoring) and so print no share of the
#: matmul peak
NOT_COMPUTE = {"bench_generate.py", "sweep_train.py", "teacher_faults.py", "benchmark_stats.py",
               "ablation_feedback.py", "calibrate_retrieval.py", "budget.py", "profile_run.py",
               "bench_inprocess.py"}


def test_every_script_is_covered() -> None:
    assert len(SCRIPTS) >= 6, SCRIPTS  # the folder was found and holds the scripts
    for script in SCRIPTS:
        assert "--smoke" in script.read_text(encoding="utf-8"), f"{script.name} has no --smoke"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_smoke(script: Path, tmp_path: Path) -> None:
    peer = PEERS.get(script.name)
    if peer and importlib.util.find_spec(peer) is None:
        pytest.skip(f"{script.name} compares against {peer}, which is not installed here")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TMPDIR": str(tmp_path)}
    src = str(BENCHMARKS.parent / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, str(script), "--smoke"], cwd=BENCHMARKS.parent, env=env,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    tail = (proc.stdout + proc.stderr)[-3000:]
    assert proc.returncode == 0, f"{script.name} --smoke failed:\n{tail}"
    if script.name not in NOT_COMPUTE:
        assert "% of measured " in proc.stdout, f"{script.name} prints no peak share:\n{tail}"

"""Requests sent and items accepted by ``raresupport generate --n 3`` per server fault kind.

Each scenario starts the fault-injection chat server (tests/helpers/chat_server.py) in-process,
runs the real CLI in a subprocess against it (real openai client, fresh cache), and prints
requests sent, items accepted, the exit code and the CLI's last line. On demand; not a test.

    PYTHONPATH=$PWD/src python benchmarks/teacher_faults.py [--smoke]

``--smoke`` runs two quick scenarios only (for tests/benchmarks/test_smoke.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.helpers.chat_server import ChatServer  # noqa: E402

SCENARIOS: dict[str, dict] = {
    "1 <think> block with braces": {"style": "think"},
    "1 <reasoning> block + draft object": {"style": "reasoning"},
    "1 unclosed leading think": {"style": "unclosed_think"},
    "1 prose with braces + ```json fence": {"style": "prose_fence"},
    "1 reasoning_content + JSON content": {"style": "reasoning_content"},
    "2 finish_reason length": {"fault_rate": 1.0, "kinds": ("length",)},
    "3 json_schema refused with HTTP 500": {
        "supports_response_format": False, "format_error_status": 500,
        "format_error_message": "json_schema: failed to build grammar from response_format",
    },
    "3 unrelated HTTP 500": {"fault_rate": 1.0, "kinds": ("http_500",)},
    "3 unrelated HTTP 400": {"fault_rate": 1.0, "kinds": ("http_400",)},
}


def run(name: str, server_cfg: dict, tmp: Path) -> dict:
    out = tmp / name.replace(" ", "_").replace("/", "_")
    with ChatServer(**server_cfg) as server:
        cmd = [
            sys.executable, "-m", "raresupport", "generate", "hyperhidrosis", "--n", "3",
            "--out", str(out), "--teacher", "openai", "--model", "m",
            "--base-url", server.base_url, "--timeout", "5",
        ]
        env = dict(os.environ, COLUMNS="200")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        requests = server.snapshot()["requests"]
    manifest = out / "manifest.json"
    accepted = json.loads(manifest.read_text())["counts"]["accepted"] if manifest.exists() else 0
    said = [ln for ln in proc.stderr.splitlines() if ln.startswith(("error:", "warning:"))]
    said += proc.stdout.strip().splitlines()[-1:]
    return {"requests": requests, "accepted": accepted, "rc": proc.returncode,
            "last": " | ".join(ln[:400] for ln in said)}


#: one reply-parsing fault and one server fault: the script runs end to end in seconds
SMOKE = ("1 <think> block with braces", "3 json_schema refused with HTTP 500")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="two quick scenarios only")
    names = SMOKE if p.parse_args().smoke else tuple(SCENARIOS)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            cfg = SCENARIOS[name]
            r = run(name, cfg, Path(tmp))
            print(f"{name:40s} requests={r['requests']:4d} accepted={r['accepted']} "
                  f"rc={r['rc']} | {r['last']}", flush=True)


if __name__ == "__main__":
    main()

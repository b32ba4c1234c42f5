"""How close does the teacher get to ideal throughput?  (On demand; not a test.)

Starts the local chat-completions server (tests/helpers/chat_server.py) in its own process with
a fixed per-request latency L and no faults, generates n vignettes with concurrency K through
the real openai client, and compares the wall time with the ideal n*L/K. Goal: ratio <= 1.15.

    python benchmarks/bench_generate.py --n 200 --latency 0.2 --concurrency 8
    python benchmarks/bench_generate.py --smoke    # 12 items, 20 ms latency, with the floor

The peer here is the bare openai client on the same server (``--sdk-floor``): the least any
client can spend on the same requests.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    """The server in a separate process, so its threads don't share our GIL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.helpers.chat_server",
            "--port",
            "0",
            "--latency",
            str(latency),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    base_url = proc.stdout.readline().strip() if proc.stdout else ""
    if not base_url.startswith("http"):
        proc.kill()
        raise SystemExit(f"chat server did not start (got {base_url!r})")
    return proc, base_url


def load(disease: str) -> Any:
    """The named disease; the test spec if it cannot be loaded (e.g. during development)."""
    from raresupport.diseases import load_disease
    from raresupport.errors import SpecError

    try:
        return load_disease(disease)
    except SpecError as exc:
        print(f"note: {exc}; using the test spec instead", file=sys.stderr)
        sys.path.insert(0, str(REPO))
        from tests.helpers.specs import write_disease

        return load_disease(write_disease(Path(tempfile.mkdtemp()) / "zebra"))


def sdk_floor(disease: Any, base_url: str, n: int, k: int) -> float:
    """Wall time of the same n requests sent with bare AsyncOpenAI calls (no retries, cache,
    validation): what the SDK, the server and this machine cost before the generator adds any.
    """
    import asyncio

    import openai

    from raresupport.generate.teacher import item_schema, plan_items
    from raresupport.prompts import template_env

    plans, _ = plan_items(disease, template_env(disease), n, ["diagnosis"], seed=1)
    fmt = item_schema(disease.spec)

    async def run() -> None:
        client = openai.AsyncOpenAI(api_key="bench", base_url=base_url, max_retries=0)
        sem = asyncio.Semaphore(k)

        async def one(messages: list[dict[str, str]]) -> None:
            async with sem:
                await client.chat.completions.create(
                    model="bench-model", messages=messages, response_format=fmt, max_tokens=800
                )

        await asyncio.gather(*(one(p.messages) for p in plans))
        await client.close()

    start = time.perf_counter()
    asyncio.run(run())
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200, help="items to generate")
    p.add_argument("--latency", type=float, default=0.2, help="server seconds per request (L)")
    p.add_argument("--concurrency", type=int, default=8, help="parallel requests (K)")
    p.add_argument("--disease", default="hyperhidrosis", help="disease id or folder")
    p.add_argument("--sdk-floor", action="store_true", help="also time bare openai calls")
    p.add_argument("--smoke", action="store_true", help="12 items, 20 ms latency: seconds")
    a = p.parse_args()
    if a.smoke:
        a.n, a.latency, a.concurrency, a.sdk_floor = 12, 0.02, 4, True

    from raresupport.generate.teacher import TeacherGenerator

    disease = load(a.disease)
    server, base_url = start_server(a.latency)
    try:
        with tempfile.TemporaryDirectory() as cache:
            gen = TeacherGenerator(
                model="bench-model",
                base_url=base_url,
                concurrency=a.concurrency,
                timeout_s=max(10.0, a.latency * 10),
                cache_dir=Path(cache),
            )
            start = time.perf_counter()
            result = gen.generate(disease, a.n, ["diagnosis", "treatment", "counseling"], seed=0)
            wall = time.perf_counter() - start
        floor = sdk_floor(disease, base_url, a.n, a.concurrency) if a.sdk_floor else None
    finally:
        server.terminate()
        server.wait(timeout=10)
    ideal = a.n * a.latency / a.concurrency
    accepted = len(result.vignettes)
    print(
        f"n={a.n} L={a.latency}s K={a.concurrency}: accepted {accepted}, "
        f"requests {result.events['requests']}, rejects {len(result.rejects)}"
    )
    print(f"wall {wall:.3f}s  ideal n*L/K {ideal:.3f}s  ratio {wall / ideal:.3f} (goal <= 1.15)")
    if floor is not None:
        print(f"bare openai calls {floor:.3f}s  ratio {floor / ideal:.3f} (the floor here); "
              f"ours / bare client {wall / floor:.2f}x the time")
    if accepted == 0:
        raise SystemExit("no item accepted: the benchmark measured nothing")


if __name__ == "__main__":
    main()

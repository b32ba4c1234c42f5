"""One ``generate`` call's requests in flight: concurrency, retries, fallback, accounting.

Requests run concurrently, bounded by a semaphore held only while a request is in flight, and
*we* retry (the client's own retries are off) with full-jitter exponential back-off, honouring
``Retry-After``. What a failure means (resend, resend once, give up, drop ``response_format``)
is decided in :mod:`~raresupport.generate.teacher.failures`. After the retries the item becomes a
``Reject`` whose reason names the failure and the server's message; one bad item never ends the
run. The API key is read from the environment here and kept only in the client; it is never
part of the config, the cache, provenance or a log line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from raresupport.data.vignette import Provenance, Vignette
from raresupport.generate.base import Reject
from raresupport.generate.teacher.cache import ReplyCache
from raresupport.generate.teacher.config import TeacherConfig
from raresupport.generate.teacher.failures import Failure, FormatUnsupported, classify
from raresupport.generate.teacher.plan import ItemPlan, item_schema
from raresupport.generate.teacher.reply import NoObject, read_vignette
from raresupport.replies import Reply, reply_of
from raresupport.spec.models import DiseaseSpec

log = logging.getLogger("raresupport.generate.teacher")

#: Counters every run reports (zero when nothing happened), in manifest order.
EVENTS: tuple[str, ...] = (
    "requests", "cache_hits", "retries", "http_429", "http_5xx", "http_4xx", "timeouts",
    "connection_errors", "truncated", "invalid_json", "invalid_item",
    "response_format_fallbacks", "rejects",
)


class TeacherRun:
    """State of one ``generate`` call: client, counters, cache, the response-format switch."""

    def __init__(
        self, config: TeacherConfig, spec: DiseaseSpec, provenance: Provenance, cache: ReplyCache
    ) -> None:
        self.config = config
        self.spec = spec
        self.provenance = provenance
        self.cache = cache
        self.schema = item_schema(spec) if config.json_schema else None
        self.events = dict.fromkeys(EVENTS, 0)
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0}
        self.jitter = random.Random()
        self.client: openai.AsyncOpenAI | None = None
        self.sem: asyncio.Semaphore | None = None

    def request(self, plan: ItemPlan, response_format: dict[str, Any] | None) -> dict[str, Any]:
        """The request content; also exactly what the cache key hashes."""
        return {
            "model": self.config.model,
            "messages": plan.messages,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
            "response_format": response_format,
        }

    async def main(self, plans: list[ItemPlan]) -> list[Vignette | Reject]:
        key = os.environ.get(self.config.api_key_env)
        if not key:
            log.info("teacher: $%s is not set; sending a placeholder key", self.config.api_key_env)
        self.sem = asyncio.Semaphore(self.config.concurrency)
        self.client = openai.AsyncOpenAI(
            api_key=key or "not-set",  # local servers often need none
            base_url=self.config.base_url,
            timeout=self.config.timeout_s,
            max_retries=0,
        )
        jobs = [asyncio.ensure_future(self.item(p)) for p in plans]
        try:
            with _progress() as progress:
                bar = progress.add_task("teacher", total=len(plans))
                for job in asyncio.as_completed(jobs):
                    await job
                    progress.advance(bar)
            return [job.result() for job in jobs]
        finally:
            for job in jobs:  # after a fatal error: stop the rest and collect their outcomes,
                job.cancel()  # so no "exception was never retrieved" noise at garbage collection
            await asyncio.gather(*jobs, return_exceptions=True)
            await self.client.close()

    def cached(self, plan: ItemPlan) -> Vignette | None:
        """A validated reply from an earlier run, with or without response_format."""
        for fmt in (self.schema, None) if self.schema else (None,):
            record = self.cache.get(ReplyCache.key(self.request(plan, fmt)))
            if record is None:
                continue
            try:
                return read_vignette(record["content"], plan, self.spec, self.provenance)
            except (KeyError, TypeError, ValueError):
                continue
        return None

    async def item(self, plan: ItemPlan) -> Vignette | Reject:
        """One vignette: from the cache, or from the teacher with retries, or a Reject."""
        hit = self.cached(plan)
        if hit is not None:
            self.events["cache_hits"] += 1
            return hit
        sends, resends, last, note = 0, 0, "", ""
        seen: set[tuple[str, str]] = set()  # (request key, event) of content failures
        while True:
            sends += 1
            try:
                return await self.attempt(plan)
            except FormatUnsupported as exc:
                self._drop_format(str(exc))
                continue
            except Failure as failure:
                self.events[failure.event] += 1
                last = str(failure)
                log.debug("teacher: %s attempt %d failed: %s", plan.id, sends, last)
                if failure.kind == "final":
                    break
                if failure.kind == "content":
                    key = (failure.request_key, failure.event)
                    if key in seen:
                        note = "same failure twice for the identical request; "
                        break
                    seen.add(key)
                if resends >= self.config.max_retries:
                    break
                resends += 1
                self.events["retries"] += 1
                if failure.kind == "transient":
                    await asyncio.sleep(self.delay(resends, failure.retry_after))
        self.events["rejects"] += 1
        log.warning("teacher: rejected %s after %d attempt(s): %s", plan.id, sends, last)
        return Reject(
            stage="generate",
            reason=f"{last} ({note}after {sends} attempt{'s' if sends > 1 else ''})",
            item={"id": plan.id, "task": plan.task, "index": plan.index},
        )

    def _drop_format(self, why: str) -> None:
        """The server refused response_format: parse and repair plain replies instead."""
        if self.schema is not None:
            self.schema = None
            self.events["response_format_fallbacks"] += 1
            log.warning("teacher: server refused response_format (%s); using plain JSON", why)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Full-jitter exponential back-off; a server's Retry-After wins (capped)."""
        cap = self.config.backoff_max_s
        if retry_after is not None:
            return min(retry_after, cap)
        return self.jitter.uniform(0, min(cap, self.config.backoff_base_s * 2 ** (attempt - 1)))

    async def attempt(self, plan: ItemPlan) -> Vignette:
        """One HTTP request; raises Failure/FormatUnsupported (or TeacherError) on failure."""
        assert self.sem is not None and self.client is not None
        async with self.sem:
            # Read the format only now: a fallback decided while we queued applies to us.
            fmt = self.schema
            request = self.request(plan, fmt)
            kwargs = {k: v for k, v in request.items() if v is not None}
            self.events["requests"] += 1
            try:
                response = await self.client.chat.completions.create(**kwargs)
            except openai.OpenAIError as exc:
                raise classify(exc, fmt is not None) from None
        reply = self._account(response)
        key = ReplyCache.key(request)
        try:
            vignette = read_vignette(reply.content, plan, self.spec, self.provenance)
        except NoObject as exc:
            detail = str(exc)
            if not reply.answer and reply.reasoning:
                detail = "empty reply (the text came only as reasoning_content)"
            raise self._content_failure(reply, key, "invalid_json", detail) from None
        except ValueError as exc:
            raise self._content_failure(reply, key, "invalid_item", str(exc)) from None
        self.cache.put(key, {"request": request, "content": reply.content})
        return vignette

    def _content_failure(self, reply: Reply, key: str, event: str, detail: str) -> Failure:
        """A reply to request ``key`` that cannot be used; a cut reply says so first."""
        if reply.truncated:
            failure = Failure(
                "truncated",
                f"reply cut at the token limit (finish_reason=length, max_tokens="
                f"{self.config.max_tokens}); raise max_tokens (--max-tokens)",
                "content",
            )
        else:
            failure = Failure(event, detail, "content")
        failure.request_key = key
        return failure

    def _account(self, response: Any) -> Reply:
        """Add token usage; return the first choice."""
        usage = getattr(response, "usage", None)
        if usage is not None:
            self.usage["prompt_tokens"] += usage.prompt_tokens or 0
            self.usage["completion_tokens"] += usage.completion_tokens or 0
        return reply_of(response)


def _progress() -> Progress:
    """A progress bar on stderr, silent when stderr is not a terminal (CI, logs, tests)."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def run_sync(factory: Any) -> Any:
    """``asyncio.run`` that also works when the caller already runs an event loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()

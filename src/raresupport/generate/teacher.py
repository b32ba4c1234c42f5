"""The OpenAI-compatible teacher: a remote LLM writes vignettes grounded in the disease spec.

Why it looks the way it does:

* Any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama, ...) must work, so the request
  asks for a strict JSON schema but falls back to plain text + JSON repair when the server
  rejects ``response_format`` with a 400.
* Teachers are slow, rate-limited and flaky, so requests run concurrently (bounded by a
  semaphore held only while a request is in flight) and *we* retry (the client's own retries
  are off) with full-jitter exponential back-off, honouring ``Retry-After``. A reply that is not
  valid JSON or not a valid item is retried too. After ``max_retries`` the item becomes a
  ``Reject``; one bad item never ends the run.
* Teacher calls cost money, so every validated reply is cached on disk (one file per request,
  keyed by the sha256 of the request content, written atomically at once). A re-run, or a
  resume after a crash or SIGKILL, repeats no finished request.
* The API key is read from the environment when the run starts and kept only in the client;
  it is never part of the config, the cache, provenance or a log line.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import logging
import os
import random
import re
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import openai
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from raresupport.data.vignette import TASKS, Provenance, Task, Vignette
from raresupport.errors import TeacherError
from raresupport.generate.base import GenerationResult, Reject, generators
from raresupport.prompts import render_text, template_env, template_hash
from raresupport.spec.models import DiseaseSpec, Fact, VignetteHints

log = logging.getLogger(__name__)

#: Counters every run reports (zero when nothing happened), in manifest order.
EVENTS: tuple[str, ...] = (
    "requests", "cache_hits", "retries", "http_429", "http_5xx", "http_4xx", "timeouts",
    "connection_errors", "invalid_json", "invalid_item", "response_format_fallbacks", "rejects",
)
#: Fact topics an item of each task can turn on (its focus fact; all facts if none match) ...
FOCUS_TOPICS: dict[str, tuple[str, ...]] = {
    "diagnosis": ("diagnosis", "severity", "secondary", "red_flag", "differential"),
    "treatment": ("treatment", "adverse_effect"),
    "counseling": ("counseling", "prognosis"),
}
#: ... and the topics its companion facts (context, distractor material) are drawn from first.
CONTEXT_TOPICS: dict[str, tuple[str, ...]] = {
    "diagnosis": FOCUS_TOPICS["diagnosis"] + ("definition", "epidemiology", "pathophysiology"),
    "treatment": FOCUS_TOPICS["treatment"] + ("severity", "secondary"),
    "counseling": FOCUS_TOPICS["counseling"] + ("epidemiology", "treatment"),
}
FACTS_PER_PROMPT = 6
LETTERS = "ABCD"
TEMPLATES = ("system.jinja2", "vignette.jinja2")  # system message, user message
ITEM_FIELDS = ("case", "question", "options", "answer", "rationale", "fact_ids")


class TeacherConfig(BaseModel):
    """How to reach the teacher and how hard to try. Holds no secret: only the env var name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = Field(None, description="None = the OpenAI API.")
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(8, ge=1)
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(6, ge=0)
    backoff_base_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(30.0, ge=0, description="Also caps an honoured Retry-After.")
    temperature: float = Field(0.7, ge=0, le=2)
    max_tokens: int = Field(800, ge=1)
    cache_dir: Path | None = Field(None, description="None = ~/.cache/raresupport/teacher.")
    templates_dir: Path | None = None
    json_schema: bool = True


def default_cache_dir() -> Path:
    """The per-user reply cache, used when the caller gives no ``cache_dir``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "raresupport" / "teacher"


def item_schema(spec: DiseaseSpec) -> dict[str, Any]:
    """The strict ``response_format`` for one vignette; fact ids limited to the spec's."""
    text = {"type": "string"}
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": list(ITEM_FIELDS),
        "properties": {
            "case": text,
            "question": text,
            "options": {
                "type": "object",
                "additionalProperties": False,
                "required": list(LETTERS),
                "properties": {letter: text for letter in LETTERS},
            },
            "answer": {"type": "string", "enum": list(LETTERS)},
            "rationale": text,
            "fact_ids": {
                "type": "array",
                "items": {"type": "string", "enum": [f.id for f in spec.facts]},
            },
        },
    }
    return {
        "type": "json_schema",
        "json_schema": {"name": "vignette", "strict": True, "schema": schema},
    }


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class ItemPlan:
    """Everything that decides item ``index``'s request, fixed before any network call."""

    index: int
    id: str
    task: Task
    messages: list[dict[str, str]]


def _persona(hints: VignetteHints, rng: random.Random) -> dict[str, Any]:
    """Surface variety (who, where, what triggers) drawn from the spec's vignette hints."""
    lo, hi = sorted((hints.age_min, hints.age_max))

    def pick(options: list[str]) -> str | None:
        return rng.choice(options) if options else None

    age, sex, occupation = rng.randint(lo, hi), pick(hints.sexes), pick(hints.occupations)
    if age < 18:  # no 13-year-old nurses
        sex = {"woman": "girl", "man": "boy"}.get(sex or "", sex)
        occupation = None  # the template says "at school"
    return {
        "age": age,
        "sex": sex or "person",
        "occupation": occupation,
        "setting": pick(hints.settings),
        "trigger": pick(hints.triggers),
        "comorbidity": pick(hints.comorbidities) if rng.random() < 0.3 else None,
    }


def _facts_for(spec: DiseaseSpec, task: str, focus: Fact, rng: random.Random) -> list[Fact]:
    """The focus fact plus task-relevant companions (then any others), in spec order."""
    topics = CONTEXT_TOPICS[task]
    relevant = [f for f in spec.facts if f.topic in topics and f.id != focus.id]
    others = [f for f in spec.facts if f.topic not in topics and f.id != focus.id]
    chosen = rng.sample(relevant, min(FACTS_PER_PROMPT - 1, len(relevant)))
    chosen += rng.sample(others, min(FACTS_PER_PROMPT - 1 - len(chosen), len(others)))
    ids = {focus.id} | {f.id for f in chosen}
    return [f for f in spec.facts if f.id in ids]


def _focus_order(spec: DiseaseSpec, task: str, seed: int) -> list[Fact]:
    """A seed-shuffled cycle of the task's facts, so successive items cover different facts."""
    relevant = [f for f in spec.facts if f.topic in FOCUS_TOPICS[task]] or list(spec.facts)
    random.Random(f"{spec.id}:{seed}:{task}").shuffle(relevant)
    return relevant


def plan_items(
    disease: Any, env: jinja2.Environment, n: int, tasks: Sequence[Task], seed: int
) -> tuple[list[ItemPlan], dict[str, str]]:
    """Render every request up front (deterministic in seed and index).

    Returns the plans and the hashes of the templates used.

    Raises:
        TeacherError: a template is missing, malformed, or uses an undefined variable.
    """
    spec: DiseaseSpec = disease.spec
    orders = {t: _focus_order(spec, t, seed) for t in set(tasks)}
    seen = dict.fromkeys(tasks, 0)
    plans: list[ItemPlan] = []
    hashes = {}
    for name in TEMPLATES:
        with _naming(name):
            hashes[name] = template_hash(env, name)
    for i in range(n):
        task = tasks[i % len(tasks)]
        focus = orders[task][seen[task] % len(orders[task])]
        seen[task] += 1
        rng = random.Random(f"{spec.id}:{seed}:{i}")
        ctx = {
            "spec": spec,
            "task": task,
            "focus": focus,
            "facts": _facts_for(spec, task, focus, rng),
            "persona": _persona(spec.vignette_hints, rng),
            "key_letter": LETTERS[i % len(LETTERS)],
            "item_id": f"{spec.id}-{task[:2]}-{seed}-{i:05d}",
        }
        messages = []
        for role, name in zip(("system", "user"), TEMPLATES, strict=True):
            with _naming(name):
                messages.append({"role": role, "content": render_text(env, name, **ctx)})
        plans.append(ItemPlan(index=i, id=ctx["item_id"], task=task, messages=messages))
    return plans, hashes


@contextmanager
def _naming(name: str) -> Iterator[None]:
    """Report a template problem as one TeacherError line naming the template (and line)."""
    try:
        yield
    except jinja2.TemplateSyntaxError as exc:
        raise TeacherError(f"template {exc.filename or name}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TeacherError(f"template {name}: {exc}") from None


# --------------------------------------------------------------------------- replies


class _Retry(Exception):
    """A failed attempt worth retrying; ``event`` names the counter it bumps."""

    def __init__(self, event: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(f"{event}: {detail}")
        self.event = event
        self.retry_after = retry_after


class _GiveUp(_Retry):
    """A failed attempt that retrying cannot fix (e.g. a 400 for this request)."""


class _FormatUnsupported(Exception):
    """The server rejected ``response_format``: resend without it."""


_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n?|\n?\s*```\s*$")


def parse_reply(content: str | None) -> dict[str, Any]:
    """The JSON object in a reply; repairs Markdown fences and prose around the braces.

    Raises:
        ValueError: no JSON object can be read.
    """
    if not content or not content.strip():
        raise ValueError("empty reply")
    try:
        obj = json.loads(content)
    except json.JSONDecodeError:
        text = _FENCE.sub("", content.strip())
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise ValueError("no JSON object in reply") from None
        obj = json.loads(text[start : end + 1])  # JSONDecodeError is a ValueError
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    return obj


def build_vignette(
    obj: dict[str, Any], plan: ItemPlan, spec: DiseaseSpec, provenance: Provenance
) -> Vignette:
    """Validate a parsed reply into a Vignette.

    Raises:
        ValueError: a field is missing or invalid, or a cited fact id is not in the spec.
    """
    fields = {k: obj[k] for k in ITEM_FIELDS if k in obj}
    if isinstance(fields.get("options"), list) and len(fields["options"]) == len(LETTERS):
        fields["options"] = dict(zip(LETTERS, fields["options"], strict=True))
    if isinstance(fields.get("answer"), str):
        fields["answer"] = fields["answer"].strip().upper()
    try:
        vignette = Vignette(
            id=plan.id, disease=spec.id, task=plan.task, provenance=provenance, **fields
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'item'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise ValueError(problems) from None
    unknown = sorted(set(vignette.fact_ids) - spec.fact_ids)
    if unknown:
        raise ValueError(f"fact_ids not in the spec: {unknown}")
    return vignette


def _retry_after(exc: openai.APIStatusError) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms``, ``retry-after`` or a date)."""
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            pass
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            continue
    return None


def classify(exc: Exception, sent_format: bool) -> Exception:
    """Map a client exception to what the retry loop does with it.

    Returns a TeacherError (which ends the run) for authentication and endpoint errors, which
    no retry or other item can fix.
    """
    if isinstance(exc, openai.APITimeoutError):
        return _Retry("timeouts", "request timed out")
    if isinstance(exc, openai.APIConnectionError):
        return _Retry("connection_errors", str(exc))
    if not isinstance(exc, openai.APIStatusError):
        return _Retry("invalid_json", f"unreadable response: {exc}")
    status = exc.status_code
    if status == 429:
        return _Retry("http_429", "rate limited", _retry_after(exc))
    if status >= 500:
        return _Retry("http_5xx", f"HTTP {status}")
    if status in (400, 422) and sent_format:
        return _FormatUnsupported()
    if status in (401, 403, 404):
        # The server's message is left out for 401/403: some echo part of the key back.
        detail = f" ({exc.message})" if status == 404 else ""
        return TeacherError(
            f"teacher endpoint refused the request (HTTP {status}): check the base URL, the model "
            f"name and the API key environment variable{detail}"
        )
    if status in (408, 409):
        return _Retry("http_4xx", f"HTTP {status}")
    return _GiveUp("http_4xx", f"HTTP {status}: {exc.message}")


# --------------------------------------------------------------------------- cache


class ReplyCache:
    """One JSON file per validated reply, named by the sha256 of the request content."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(request: dict[str, Any]) -> str:
        """sha256 of the canonical JSON of model, messages, temperature, max_tokens, format."""
        canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Write atomically: a reader (or a resumed run) sees the whole file or none."""
        tmp = self.root / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path(key))


# --------------------------------------------------------------------------- the run


class _Run:
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
                obj = parse_reply(record["content"])
                return build_vignette(obj, plan, self.spec, self.provenance)
            except (KeyError, TypeError, ValueError):
                continue
        return None

    async def item(self, plan: ItemPlan) -> Vignette | Reject:
        """One vignette: from the cache, or from the teacher with retries, or a Reject."""
        hit = self.cached(plan)
        if hit is not None:
            self.events["cache_hits"] += 1
            return hit
        attempt, last = 0, ""
        while True:
            try:
                return await self.attempt(plan)
            except _FormatUnsupported:
                self._drop_format()
                continue
            except _Retry as failure:
                self.events[failure.event] += 1
                last = str(failure)
                log.debug("teacher: %s attempt %d failed: %s", plan.id, attempt + 1, last)
                if isinstance(failure, _GiveUp) or attempt >= self.config.max_retries:
                    break
                attempt += 1
                self.events["retries"] += 1
                await asyncio.sleep(self.delay(attempt, failure.retry_after))
        self.events["rejects"] += 1
        log.warning("teacher: rejected %s after %d attempt(s): %s", plan.id, attempt + 1, last)
        return Reject(
            stage="generate",
            reason=f"{last} (after {attempt + 1} attempt{'s' if attempt else ''})",
            item={"id": plan.id, "task": plan.task, "index": plan.index},
        )

    def _drop_format(self) -> None:
        """The server said 400 to response_format: parse and repair plain replies instead.

        A 400 for another reason also lands here once; the resent plain request then gets
        its own 400 and the item is rejected, so nothing loops.
        """
        if self.schema is not None:
            self.schema = None
            self.events["response_format_fallbacks"] += 1
            log.warning("teacher: server rejected response_format; falling back to plain JSON")

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Full-jitter exponential back-off; a server's Retry-After wins (capped)."""
        cap = self.config.backoff_max_s
        if retry_after is not None:
            return min(retry_after, cap)
        return self.jitter.uniform(0, min(cap, self.config.backoff_base_s * 2 ** (attempt - 1)))

    async def attempt(self, plan: ItemPlan) -> Vignette:
        """One HTTP request; raises _Retry/_GiveUp/_FormatUnsupported on failure."""
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
        content = self._account(response)
        try:
            obj = parse_reply(content)
        except ValueError as exc:
            raise _Retry("invalid_json", str(exc)) from None
        try:
            vignette = build_vignette(obj, plan, self.spec, self.provenance)
        except ValueError as exc:
            raise _Retry("invalid_item", str(exc)) from None
        self.cache.put(ReplyCache.key(request), {"request": request, "content": content})
        return vignette

    def _account(self, response: Any) -> str | None:
        """Add token usage; return the reply text (None when the server sent none)."""
        usage = getattr(response, "usage", None)
        if usage is not None:
            self.usage["prompt_tokens"] += usage.prompt_tokens or 0
            self.usage["completion_tokens"] += usage.completion_tokens or 0
        choices = getattr(response, "choices", None) or []
        return choices[0].message.content if choices else None


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


def _run_sync(factory: Any) -> Any:
    """``asyncio.run`` that also works when the caller already runs an event loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


@generators.register("openai")
class TeacherGenerator:
    """Generator plug-in ``openai``: vignettes from any OpenAI-compatible chat endpoint.

    Build it as ``TeacherGenerator(model="gpt-4o-mini", base_url=...)`` or
    ``TeacherGenerator(TeacherConfig(...))``.
    """

    name = "openai"
    config_class = TeacherConfig

    def __init__(self, config: TeacherConfig | None = None, **fields: Any) -> None:
        if config is not None and fields:
            raise TypeError("pass either a TeacherConfig or its fields, not both")
        self.config = config if config is not None else TeacherConfig(**fields)

    @classmethod
    def from_config(cls, config: TeacherConfig) -> TeacherGenerator:
        return cls(config)

    def __repr__(self) -> str:
        return f"TeacherGenerator({self.config!r})"

    def generate(
        self, disease: Any, n: int, tasks: Sequence[Task], seed: int
    ) -> GenerationResult:
        """Write ``n`` vignettes; item ``i`` has task ``tasks[i % len(tasks)]``.

        Never raises for a single bad item (it becomes a Reject). Raises TeacherError for a
        broken template or an endpoint that refuses us outright (401/403/404).
        """
        tasks = _check_tasks(tasks)
        try:
            env = template_env(disease, self.config.templates_dir)
        except FileNotFoundError as exc:
            raise TeacherError(str(exc)) from None
        plans, hashes = plan_items(disease, env, n, tasks, seed)
        provenance = Provenance(
            generator=self.name,
            model=self.config.model,
            template_hash=hashlib.sha256("".join(sorted(hashes.values())).encode()).hexdigest(),
            seed=seed,
        )
        cache = ReplyCache(self.config.cache_dir or default_cache_dir())
        run = _Run(self.config, disease.spec, provenance, cache)
        outcomes = _run_sync(lambda: run.main(plans)) if plans else []
        return GenerationResult(
            vignettes=[o for o in outcomes if isinstance(o, Vignette)],
            rejects=[o for o in outcomes if isinstance(o, Reject)],
            events=run.events,
            usage=run.usage,
            model=self.config.model,
            template_hashes=hashes,
        )


def _check_tasks(tasks: Sequence[Task]) -> list[Task]:
    tasks = list(tasks)
    if not tasks:
        raise ValueError("tasks: need at least one of " + ", ".join(TASKS))
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ValueError(f"tasks: unknown {unknown}; known: {', '.join(TASKS)}")
    return tasks

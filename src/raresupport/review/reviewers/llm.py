"""``llm``: an expert proxy behind any OpenAI-compatible endpoint.

The original study used a frontier LLM as a stand-in for specialists; this reviewer makes that
possible for any disease. The rubric prompt is a jinja2 template (``review_system.jinja2`` and
``review_rubric.jinja2``: a disease package's own, else the defaults in
``raresupport/review/templates``). The reply is a JSON verdict validated by pydantic.

The endpoint plumbing is the teacher's (``raresupport.generate.teacher``): its config (minus the
item-writing defaults), its failure classification (transient -> back-off and resend, content
-> resend once, final -> give up, refused ``response_format`` -> plain JSON), its reply reader
(reasoning blocks and fences stripped) and its on-disk reply cache, so a re-run or a resumed
loop repeats no finished request. An item whose review fails is left undecided (the loop says
so and a re-run continues); an authentication or endpoint error ends the review at once.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import jinja2
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from raresupport.errors import TeacherError
from raresupport.review.models import Decision, ReviewItem, Rubric
from raresupport.review.reviewers.base import reviewers, undecided
from raresupport.review.store import ReviewStore

log = logging.getLogger("raresupport.review.llm")
TEMPLATES = ("review_system.jinja2", "review_rubric.jinja2")  # system message, user message
DEFAULT_TEMPLATES = Path(__file__).parent.parent / "templates"


class Verdict(BaseModel):
    """The JSON an expert proxy must answer with."""

    model_config = ConfigDict(extra="ignore")

    action: Literal["approve", "correct", "reject"]
    answer: Literal["A", "B", "C", "D"] | None = None
    rationale: str = ""
    reason: str = ""
    accuracy: int | None = Field(None, ge=1, le=5)
    appropriateness: int | None = Field(None, ge=1, le=5)
    empathy: int | None = Field(None, ge=1, le=5)


VERDICT_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "review_decision", "schema": Verdict.model_json_schema()},
}


def review_env(disease: Any, templates_dir: str | Path | None = None) -> jinja2.Environment:
    """Templates from ``templates_dir``, the disease package, then the review defaults."""
    from raresupport.prompts import template_env

    env = template_env(disease, templates_dir)
    defaults = jinja2.FileSystemLoader(DEFAULT_TEMPLATES)
    env.loader = jinja2.ChoiceLoader(
        [env.loader, defaults, jinja2.PrefixLoader({"review-default": defaults})]
    )
    return env


@reviewers.register("llm")
class LLMReviewer:
    """Reviewer plug-in ``llm``; options are the teacher's endpoint fields plus ``id``.

    Args:
        id: reviewer id stored with decisions (default: the model name).
        **fields: ``TeacherConfig`` fields (``model`` is required; ``base_url``,
            ``api_key_env``, ``timeout_s``, ``max_retries``, ``cache_dir``, ``templates_dir``,
            ...). Temperature defaults to 0: a reviewer should be repeatable.
    """

    kind = "llm"

    def __init__(self, id: str | None = None, **fields: Any) -> None:  # noqa: A002
        from raresupport.generate.teacher import TeacherConfig

        try:
            self.config = TeacherConfig(**{"temperature": 0.0, "max_tokens": 400, **fields})
        except ValidationError as exc:
            from raresupport.errors import describe_validation_error

            raise TeacherError(describe_validation_error("llm reviewer options", exc)) from None
        self.id = id or self.config.model
        self.format: dict[str, Any] | None = VERDICT_FORMAT if self.config.json_schema else None
        self.jitter = random.Random()

    def messages(self, env: jinja2.Environment, item: ReviewItem, spec: Any) -> list[dict]:
        from raresupport.prompts import render_text

        ctx = {"item": item, "v": item.vignette, "spec": spec, "facts": item.facts}
        return [{"role": role, "content": render_text(env, name, **ctx)}
                for role, name in zip(("system", "user"), TEMPLATES, strict=True)]  # fmt: skip

    def request(self, messages: list[dict], fmt: dict[str, Any] | None) -> dict[str, Any]:
        """The request content; also what the teacher's reply cache hashes."""
        c = self.config
        return {"model": c.model, "messages": messages, "temperature": c.temperature,
                "max_tokens": c.max_tokens, "response_format": fmt}  # fmt: skip

    def decision(self, item: ReviewItem, verdict: Verdict) -> Decision:
        """Turn a verdict into a Decision (an approval stands behind the model's answer)."""
        answer = verdict.answer
        if verdict.action == "approve":
            answer = item.model_answer or answer
        elif verdict.action == "reject":
            answer = None
        return Decision(
            item_id=item.id, reviewer_kind=self.kind, reviewer_id=self.id, action=verdict.action,
            answer=answer, rationale=verdict.rationale,
            reason=verdict.reason or ("rejected" if verdict.action == "reject" else ""),
            rubric=Rubric(accuracy=verdict.accuracy, appropriateness=verdict.appropriateness,
                          empathy=verdict.empathy),
        )  # fmt: skip

    def _verdict(self, content: str | None, item: ReviewItem) -> Decision:
        """Parse and validate a reply; raises ValueError when it is not a usable verdict."""
        from raresupport.generate.teacher import parse_reply

        obj = parse_reply(content)
        try:
            return self.decision(item, Verdict.model_validate(obj))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"])) or "verdict"
            raise ValueError(f"{where}: {first['msg']}") from None

    def ask(self, client: Any, cache: Any, messages: list[dict], item: ReviewItem) -> Decision:
        """One item: from the cache, else the endpoint with the teacher's retry rules.

        Raises:
            TeacherError: the endpoint refused us (auth, unknown model): no item can succeed.
            RuntimeError: this item failed beyond its retries (it stays undecided).
        """
        import openai

        from raresupport.generate.teacher import ReplyCache, classify
        from raresupport.generate.teacher.failures import Failure, FormatUnsupported
        from raresupport.replies import reply_of

        for fmt in (self.format, None) if self.format else (None,):
            hit = cache.get(ReplyCache.key(self.request(messages, fmt)))
            if hit is not None:
                try:
                    return self._verdict(hit.get("content"), item)
                except ValueError:
                    pass
        resends, seen, last = 0, set(), ""
        while True:
            fmt = self.format
            request = self.request(messages, fmt)
            try:
                try:
                    response = client.chat.completions.create(
                        **{k: v for k, v in request.items() if v is not None})
                except openai.OpenAIError as exc:
                    raise classify(exc, fmt is not None) from None
                content = reply_of(response).content
                try:
                    decision = self._verdict(content, item)
                except ValueError as exc:
                    raise Failure("invalid_item", str(exc), "content") from None
                cache.put(ReplyCache.key(request), {"request": request, "content": content})
                return decision
            except FormatUnsupported:
                self.format = None
                continue
            except Failure as failure:
                last = str(failure)
                if failure.kind == "final" or (failure.kind == "content" and last in seen):
                    break
                seen.add(last)
                if resends >= self.config.max_retries:
                    break
                resends += 1
                if failure.kind == "transient":
                    time.sleep(self.delay(resends, failure.retry_after))
        raise RuntimeError(f"llm review of {item.id} failed after {resends + 1} attempt(s): {last}")

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Full-jitter exponential back-off; a server's Retry-After wins (capped)."""
        cap = self.config.backoff_max_s
        if retry_after is not None:
            return min(retry_after, cap)
        return self.jitter.uniform(0, min(cap, self.config.backoff_base_s * 2 ** (attempt - 1)))

    def review(self, store: ReviewStore, items: Sequence[ReviewItem], disease: Any) -> int:
        import openai

        from raresupport.generate.teacher import ReplyCache, default_cache_dir

        env = review_env(disease, self.config.templates_dir)
        cache = ReplyCache(self.config.cache_dir or default_cache_dir())
        client = openai.OpenAI(
            api_key=os.environ.get(self.config.api_key_env) or "not-set",
            base_url=self.config.base_url, timeout=self.config.timeout_s, max_retries=0,
        )  # fmt: skip
        done = 0
        try:
            for item in undecided(self, store, items):
                try:
                    decision = self.ask(client, cache, self.messages(env, item, disease.spec), item)
                except RuntimeError as exc:
                    log.warning("%s", exc)
                    continue
                store.record(decision)
                done += 1
        finally:
            client.close()
        return done

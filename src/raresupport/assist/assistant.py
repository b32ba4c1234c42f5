"""The support assistant: emergencies and red flags first, the model's short answer, quoted spec
passages, a note.

An answer is composed of parts that do not all trust the model:

0. **emergency layer** (no model, no spec needed): a general emergency in the user's last
   message (heart attack, stroke, suicidal thoughts, ...: :mod:`raresupport.assist.emergency`,
   plus any the spec adds) puts "call your local emergency number now" and what to do first;
1. **rule layer** (no model): red-flag phrases from the spec found in the user's last message
   put the spec's urgent-referral text and each matched red flag's action next;
2. the **model's short answer**, conditioned on the retrieved notes, with every citation it
   writes checked against the spec (invented fact/source ids are removed and flagged);
3. the **retrieved passages**, quoted from the spec with their fact and source ids;
4. the disease's **not-a-diagnosis note**.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field

from raresupport.assist.backend import ChatBackend
from raresupport.assist.citations import CitationCheck, check_citations
from raresupport.assist.emergency import (
    EmergencyHit,
    emergency_block,
    emergency_kinds,
    match_emergencies,
)
from raresupport.assist.rules import RedFlagHit, match_red_flags
from raresupport.errors import RareSupportError
from raresupport.retrieve.config import OffTopic
from raresupport.spec import DiseaseSpec

INSTRUCTIONS = (
    "Answer the patient's question in two to four plain sentences, using only the notes. Cite "
    "the notes you use by their fact id in square brackets, e.g. [{example}]. You do not "
    "diagnose; when something needs a doctor, say so."
)
NO_ANSWER = "I could not give a short answer to that from the guidance I have."
#: Marks the model-written part, so a reader can tell it from the quoted guidance.
ANSWER_LABEL = "In short (written by the model, check it against the guidance above):"

Message = dict[str, str]


def whole_sentences(text: str) -> str:
    """``text`` cut after its last complete sentence (a token limit can stop mid-sentence).

    Text with no sentence end at all is kept whole.
    """
    text = text.strip()
    if not text or text[-1] in ".!?)]\"'":
        return text
    ends = [m.end() for m in re.finditer(r"[.!?](?:\s*\[[^\]]*\])?(?=\s|$)", text)]
    return text[: ends[-1]] if ends else text


class Quote(BaseModel):
    """A retrieved spec passage as shown to the user: verbatim, with its ids."""

    model_config = ConfigDict(frozen=True)

    number: int
    passage_id: str
    kind: str
    text: str
    fact_ids: tuple[str, ...]
    source_ids: tuple[str, ...]


class AssistantReply(BaseModel):
    """The composed answer (``text``) and everything it was made of (response metadata)."""

    text: str
    emergencies: list[EmergencyHit] = Field(
        default_factory=list, description="General emergencies found (shown first)."
    )
    red_flags: list[RedFlagHit] = Field(default_factory=list)
    answer: str = Field("", description="The model's answer after the citation check.")
    raw_answer: str = Field("", description="The model's answer as generated.")
    citations: CitationCheck = Field(default_factory=CitationCheck)
    quotes: list[Quote] = Field(default_factory=list)
    note: str = ""
    base_model: bool = Field(
        False, description="The base model answered, adapter off: the question got no notes "
        "(``RetrievalConfig.off_topic``)."
    )

    @property
    def flags(self) -> list[str]:
        """Which of ``emergency``, ``red_flag``, ``hallucinated_citation`` and
        ``uncited_answer`` (notes were shown but the answer cites none of them or any spec id)
        apply."""
        flags = ["emergency"] if self.emergencies else []
        flags += ["red_flag"] if self.red_flags else []
        flags += ["hallucinated_citation"] if self.citations.invalid else []
        return flags + (["uncited_answer"] if self.quotes and not self.citations.valid else [])

    def metadata(self) -> dict[str, Any]:
        """JSON-ready metadata for API responses (everything but the text)."""
        data = self.model_dump(mode="json", exclude={"text"})
        data["flags"] = self.flags
        return data


class Assistant:
    """Answer patient questions about one disease, grounded in its spec.

    Args:
        spec: the disease spec (red flags, passages, ids, notes).
        backend: the model (:class:`~raresupport.assist.backend.ChatBackend`).
        retriever: anything with ``retrieve(query, k)`` returning hits with a ``passage``;
            default: the ``bm25`` retriever over ``spec``.
        k: passages retrieved per question.
        off_topic: who answers a question that gets no notes: ``base`` (the backend's base
            model, adapter off) or ``tuned`` (``RetrievalConfig.off_topic``).
        max_tokens: longest model answer, in tokens.
        history: earlier messages of the conversation passed to the model.
        emergency_number: the local emergency number the emergency messages name ("112",
            "911", ...); None says "your local emergency number", which is right everywhere.
    """

    def __init__(
        self,
        spec: DiseaseSpec,
        backend: ChatBackend,
        retriever: Any = None,
        *,
        k: int = 3,
        off_topic: OffTopic = "base",
        max_tokens: int = 200,
        history: int = 4,
        emergency_number: str | None = None,
    ) -> None:
        if retriever is None:
            from raresupport.retrieve import load_retriever

            retriever = load_retriever(spec)
        self.spec, self.backend, self.retriever = spec, backend, retriever
        if off_topic not in get_args(OffTopic):
            raise RareSupportError(f"off_topic must be 'base' or 'tuned', not {off_topic!r}")
        self.k, self.off_topic, self.max_tokens, self.history = k, off_topic, max_tokens, history
        self.emergencies = emergency_kinds(spec)  # the library's, then the spec's own
        self.emergency_number = emergency_number

    @classmethod
    def from_run(cls, run_dir: str | Path, *, device: str | None = None, **kw: Any) -> Assistant:
        """The assistant of a ``raresupport run`` folder: its disease, model, adapter and
        retrieval settings (retriever, cut-off, k when retrieval was on, ``off_topic``).
        ``kw`` overrides them and sets the rest (``emergency_number``, ``max_tokens``, ...)."""
        from raresupport.assist.backend import HFBackend
        from raresupport.diseases import load_disease
        from raresupport.retrieve import RetrievalConfig, load_retriever

        run = Path(run_dir)
        cfg_path = run / "run_config.json"
        if not cfg_path.is_file():
            raise RareSupportError(f"{run}: not a run folder (no run_config.json)")
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        adapter = run / "adapter"
        has_adapter = (adapter / "adapter_config.json").is_file()
        backend = HFBackend.load(cfg["model"], str(adapter) if has_adapter else None, device)
        spec = load_disease(cfg["disease"]).spec
        rcfg = RetrievalConfig.model_validate(cfg.get("retrieval") or {})
        kw = {"off_topic": rcfg.off_topic, **({"k": rcfg.k} if rcfg.k > 0 else {}), **kw}
        retriever = load_retriever(spec, rcfg.retriever, **rcfg.options())
        return cls(spec, backend, retriever, **kw)

    # ------------------------------------------------------------------ parts

    def _text(self, template: str) -> str:
        return template.format(disease=self.spec.name)

    def urgent_block(self, hits: Sequence[RedFlagHit]) -> str:
        if not hits:
            return ""
        lines = [self._text(self.spec.assistant.urgent_referral)]
        lines += [f"- {h.finding}: {h.action} [{', '.join(h.fact_ids)}]" for h in hits]
        return "\n".join(lines)

    def quotes(self, hits: Sequence[Any]) -> list[Quote]:
        return [
            Quote(number=i, passage_id=h.passage.id, kind=h.passage.kind, text=h.passage.text,
                  fact_ids=tuple(h.passage.fact_ids), source_ids=tuple(h.passage.source_ids))
            for i, h in enumerate(hits, start=1)
        ]  # fmt: skip

    def quotes_block(self, quotes: Sequence[Quote]) -> str:
        if not quotes:
            return ""
        lines = [f"From the {self.spec.name} guidance:"]
        for q in quotes:
            lines.append(
                f'[{q.number}] "{q.text}" (fact: {", ".join(q.fact_ids)}; '
                f"source: {', '.join(q.source_ids)})"
            )
        return "\n".join(lines)

    def model_messages(self, messages: Sequence[Message], hits: Sequence[Any]) -> list[Message]:
        """System prompt, recent turns, and the last question with the retrieved notes."""
        from raresupport.chat import notes_block

        example = next(iter(sorted(self.spec.fact_ids)))
        system = f"{self.spec.system_prompt} {INSTRUCTIONS.format(example=example)}"
        turns = [m for m in messages if m.get("role") in ("user", "assistant")]
        at = max(i for i, m in enumerate(turns) if m["role"] == "user")
        earlier, last = turns[:at], turns[at]
        notes = notes_block(hits)
        question = f"{notes}\n\nQuestion: {last['content']}" if notes else last["content"]
        recent = earlier[-self.history :] if self.history else []
        return [{"role": "system", "content": system}, *recent,
                {"role": "user", "content": question}]  # fmt: skip

    # ------------------------------------------------------------------ answering

    def stream(self, messages: str | Sequence[Message]) -> Iterator[str | AssistantReply]:
        """Yield the answer's text in pieces, then the finished :class:`AssistantReply`.

        Order: general emergencies (emergency layer), the spec's red flags (rule layer), the
        quoted spec passages, the model's answer (after the citation check), the note. The
        first three are yielded before the model is called, so they come first on the wire
        whatever the model does.

        Raises:
            RareSupportError: no user message to answer.
        """
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        users = [m for m in messages if m.get("role") == "user" and str(m.get("content")).strip()]
        if not users:
            raise RareSupportError("no user message to answer")
        question = str(users[-1]["content"])
        emergencies = match_emergencies(question, self.emergencies, self.emergency_number)
        red = match_red_flags(self.spec, question)
        parts: list[str] = []
        if emergencies:
            parts.append(emergency_block(emergencies, self.emergency_number))
            yield parts[-1] + "\n\n"
        if red:
            parts.append(self.urgent_block(red))
            yield parts[-1] + "\n\n"
        hits = list(self.retriever.retrieve(question, k=self.k))
        quotes = self.quotes(hits)
        if quotes:
            parts.append(self.quotes_block(quotes))
            yield parts[-1] + "\n\n"
        base = not hits and self.off_topic == "base"
        raw = self.backend.complete(self.model_messages(messages, hits), self.max_tokens,
                                    base=base)  # fmt: skip
        answer, check = check_citations(whole_sentences(raw), self.spec, n_notes=len(hits))
        answer = answer.strip() or NO_ANSWER
        parts.append(f"{ANSWER_LABEL} {answer}")
        yield parts[-1] + "\n\n"
        note = self._text(self.spec.assistant.not_a_diagnosis)
        parts.append(note)
        yield note
        yield AssistantReply(
            text="\n\n".join(parts), emergencies=emergencies, red_flags=red, answer=answer,
            raw_answer=raw,
            citations=check, quotes=quotes, note=note, base_model=base,
        )  # fmt: skip

    def reply(self, messages: str | Sequence[Message]) -> AssistantReply:
        """The whole answer at once (see :meth:`stream`)."""
        *_, final = self.stream(messages)
        assert isinstance(final, AssistantReply)
        return final

"""One way to turn a multiple-choice item into chat messages, shared by training and evaluation.

Two prompt styles, because small models bind letters to options poorly:

* ``letter``: options listed; the answer starts with the letter (``"B. <text>"``), so the letter
  scorer reads next-token logits right after the generation prompt.
* ``cloze``: options *not* listed; the answer is the option text itself, so the log-likelihood
  scorer compares option texts as continuations (as lm-evaluation-harness does).

Training on both styles teaches what each scorer measures; evaluation uses the same renderer.

Retrieved spec passages reach the model only through :func:`notes_block`: an item carries its
rendered notes (``MCQItem.notes``) and :func:`mcq_messages` puts them above the question, so
training, both scorers, the lm-evaluation-harness export and the assistant show identical notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from raresupport.data.benchmark import MCQItem

PromptStyle = Literal["letter", "cloze"]
STYLES: tuple[PromptStyle, ...] = ("letter", "cloze")

LETTER_INSTRUCTION = "Answer with the letter of the best option."
CLOZE_INSTRUCTION = "Answer with the best option."
DEFAULT_SYSTEM_PROMPT = (
    "You are a careful clinical assistant. Answer with the letter of the best option."
)


NOTES_HEADER = "Notes:"
#: the longest a note may be, in characters, unless the caller says otherwise
#: (``RetrievalConfig.max_note_chars`` is the one source of the value used in runs)
MAX_NOTE_CHARS = 160
#: at most this many fact ids are printed per note (the passage keeps all of them)
MAX_NOTE_IDS = 1


def _shorten(text: str, max_chars: int) -> str:
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 3].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "..."


def notes_block(hits: Sequence[Any], max_chars: int = MAX_NOTE_CHARS) -> str:
    """The notes shown to the model: one numbered line per hit, with its fact ids.

    Args:
        hits: retrieval hits (``raresupport.retrieve.Hit``) or passages, best first.
        max_chars: each note's text is cut at a word to at most this many characters.

    Returns:
        ``"Notes:\n[1] (def.primary-sites) Primary focal ...\n[2] ..."``, or ``""`` for no hits.
    """
    lines = []
    for i, hit in enumerate(hits, start=1):
        passage = getattr(hit, "passage", hit)
        ids = ", ".join(passage.fact_ids[:MAX_NOTE_IDS])
        tag = f"({ids}) " if ids else ""
        lines.append(f"[{i}] {tag}{_shorten(passage.text, max_chars)}")
    return "\n".join([NOTES_HEADER, *lines]) if lines else ""


def split_notes(block: str) -> list[str]:
    """A :func:`notes_block` as one block per note, each renumbered ``[1]`` (REPLUG shows the
    notes one at a time); ``[]`` for no notes."""
    lines = block.strip().splitlines()[1:] if block.strip() else []
    return [f"{NOTES_HEADER}\n[1] {line.split('] ', 1)[1]}" for line in lines]


def premise_messages(system_prompt: str | None = None) -> list[dict[str, str]]:
    """The cloze prompt with no question: the domain premise of domain-conditional PMI
    (lm-evaluation-harness scores options after a bare ``"Answer:"``)."""
    return [
        {"role": "system", "content": system_prompt or DEFAULT_SYSTEM_PROMPT},
        {"role": "user", "content": CLOZE_INSTRUCTION},
    ]


def mcq_messages(
    item: MCQItem, style: PromptStyle = "letter", system_prompt: str | None = None
) -> list[dict[str, str]]:
    """System + user messages for ``item`` in the given style (its notes, if any, first)."""
    parts = [item.notes.strip()] if item.notes.strip() else []
    parts += [f"Task: {item.task}", item.question.strip()]
    if style == "letter":
        parts.append("\n".join(f"{k}. {v}" for k, v in item.options.items()))
        parts.append(LETTER_INSTRUCTION)
    else:
        parts.append(CLOZE_INSTRUCTION)
    return [
        {"role": "system", "content": system_prompt or DEFAULT_SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def answer_text(item: MCQItem, style: PromptStyle = "letter", rationale: str = "") -> str:
    """The assistant turn a tuned model should produce for ``item``."""
    key_text = item.options[item.answer]
    if style == "cloze":
        return key_text
    text = f"{item.answer}. {key_text}"
    return f"{text}\n{rationale.strip()}" if rationale.strip() else text


def _system_supported(tokenizer: Any) -> bool:
    """Whether the chat template accepts a system message (Gemma-style ones raise instead).

    Checked once per (tokenizer, template): a template that raises on a system turn but renders
    the same conversation without it gets the system text folded into the first user turn, as
    serving stacks do. A template that fails either way raises its own error.
    """
    template = tokenizer.chat_template
    cache = _SYSTEM_OK
    if template not in cache:
        probe = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
        try:
            tokenizer.apply_chat_template(probe, tokenize=False, add_generation_prompt=True)
            cache[template] = True
        except Exception:  # noqa: BLE001 - jinja2 TemplateError, or a template's own raise
            tokenizer.apply_chat_template(probe[1:], tokenize=False, add_generation_prompt=True)
            cache[template] = False
    return cache[template]


#: chat template text -> whether it takes a system turn
_SYSTEM_OK: dict[str, bool] = {}


def fold_system(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """Messages without a system turn: its text opens the first user turn instead."""
    if not messages or messages[0]["role"] != "system":
        return list(messages)
    system, rest = messages[0]["content"], list(messages[1:])
    for i, m in enumerate(rest):
        if m["role"] == "user":
            rest[i] = {**m, "content": f"{system}\n\n{m['content']}"}
            return rest
    return [{"role": "user", "content": system}, *rest]


def template_messages(tokenizer: Any, messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """``messages`` as the tokenizer's chat template can take them (system folded if refused)."""
    return list(messages) if _system_supported(tokenizer) else fold_system(messages)


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def answer_separator(tokenizer: Any) -> str:
    """What sits between the prompt and the answer: ``""`` after a chat template's generation
    prompt, ``" "`` after the plain ``Assistant:`` fallback of a base model.

    Training (:func:`render_conversation`) and scoring (the continuations the letter and
    loglik rules compare) both use it, so they see the same answer tokens (`` C``, not ``C``).
    """
    return "" if has_chat_template(tokenizer) else " "


def render_prompt(tokenizer: Any, messages: list[dict[str, str]]) -> str:
    """Prompt string ending where the assistant starts (chat template, or a plain fallback)."""
    if has_chat_template(tokenizer):
        return tokenizer.apply_chat_template(
            template_messages(tokenizer, messages), tokenize=False, add_generation_prompt=True
        )
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    return "\n\n".join(lines) + "\n\nAssistant:"


def render_conversation(tokenizer: Any, messages: list[dict[str, str]], answer: str) -> str:
    """Prompt plus the assistant answer with its end-of-turn marker.

    The result always starts with ``render_prompt(tokenizer, messages)``, so the answer span (and
    its end-of-turn tokens, which training must include) is exactly the suffix.
    """
    prompt = render_prompt(tokenizer, messages)
    if has_chat_template(tokenizer):
        turns = [*template_messages(tokenizer, messages), {"role": "assistant", "content": answer}]
        full = tokenizer.apply_chat_template(turns, tokenize=False)
        if full.startswith(prompt):
            return full
    eos = getattr(tokenizer, "eos_token", None) or ""
    return prompt + answer_separator(tokenizer) + answer + eos

"""Reading a teacher reply: the vignette JSON apart from reasoning and prose, then validated.

A reply may hold reasoning (``<think>`` blocks, see :mod:`raresupport.replies`), prose with
braces ("as {case, question, options}"), a draft object before the final one, Markdown fences.
The rule: strip the reasoning; the whole answer if it is one JSON object; else every complete
top-level object (fenced or not), the last first, and the first of them that is a valid item
wins. So a draft (or a note) before or after the item never replaces it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from raresupport.data.vignette import Provenance, Vignette
from raresupport.generate.teacher.plan import ITEM_FIELDS, LETTERS, ItemPlan
from raresupport.replies import final_answer
from raresupport.spec.models import DiseaseSpec

_FENCED = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)```", re.S)
_DECODER = json.JSONDecoder()


class NoObject(ValueError):
    """The reply holds no JSON object (counted as ``invalid_json``)."""


def reply_objects(content: str | None) -> list[dict[str, Any]]:
    """The JSON objects a reply's final answer holds, most likely the item first.

    Raises:
        NoObject: ``empty reply`` (nothing outside reasoning), ``no JSON object in reply``,
            or ``expected a JSON object, got list``.
    """
    text = final_answer(content)
    if not text:
        only = " (only reasoning)" if content and content.strip() else ""
        raise NoObject(f"empty reply{only}")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        pass
    else:
        if isinstance(whole, dict):
            return [whole]
        raise NoObject(f"expected a JSON object, got {type(whole).__name__}")
    found = top_level_objects(text)[::-1]
    for block in reversed(_FENCED.findall(text)):
        try:
            obj = json.loads(block)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and obj not in found:
            found.append(obj)
    if not found:
        raise NoObject("no JSON object in reply")
    return found


def parse_reply(content: str | None) -> dict[str, Any]:
    """The most likely item object of a reply (the first of :func:`reply_objects`)."""
    return reply_objects(content)[0]


def read_vignette(
    content: str | None, plan: ItemPlan, spec: DiseaseSpec, provenance: Provenance
) -> Vignette:
    """The first object of the reply that is a valid item.

    Raises:
        NoObject: no JSON object (see :func:`reply_objects`).
        ValueError: no object is a valid item; the message is the most likely one's problem.
    """
    first: ValueError | None = None
    for obj in reply_objects(content):
        try:
            return build_vignette(obj, plan, spec, provenance)
        except ValueError as exc:
            first = first or exc
    assert first is not None
    raise first


def last_object(text: str) -> dict[str, Any] | None:
    """The last complete top-level ``{...}`` in ``text`` that parses as a JSON object."""
    objects = top_level_objects(text)
    return objects[-1] if objects else None


def top_level_objects(text: str) -> list[dict[str, Any]]:
    """Every complete top-level ``{...}`` in ``text`` that parses as a JSON object, in order.

    Scans left to right: an object that parses is skipped whole (its inner braces are not
    top-level); a brace group that does not parse (prose such as ``{case, question}``) is
    skipped to its matching close; an unclosed group (a cut reply) ends the scan, so an inner
    object of a truncated item is never taken for the item.
    """
    found, i = [], text.find("{")
    while i >= 0:
        try:
            obj, end = _DECODER.raw_decode(text, i)
        except json.JSONDecodeError:
            end = _matching_close(text, i)
            if end is None:
                break
        else:
            if isinstance(obj, dict):
                found.append(obj)
        i = text.find("{", end)
    return found


def _matching_close(text: str, start: int) -> int | None:
    """Index after the ``}`` closing the ``{`` at ``start`` (double-quoted strings skipped)."""
    depth, in_string, escaped = 0, False, False
    for j in range(start, len(text)):
        ch = text[j]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return None


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

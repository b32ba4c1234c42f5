"""Notes for items: the same retriever and renderer at training and at evaluation time.

* :func:`note_hits` - the notes of one item: ``k - option_notes`` retrieved for its question
  (case and question), which alone decides the relevance gate, and ``option_notes`` for the
  question with its answer options appended (never the key alone).
* :func:`with_notes` - evaluation: every item gets its notes.
* :func:`raft_notes` - retrieval-aware training (RAFT): every training item gets its notes
  exactly as an evaluation item would; a fixed share
  keeps only distractors (every passage citing one of the item's fact ids removed) and a fixed
  share gets no notes, so the model learns to use notes that help, to ignore notes that do not,
  and to answer without notes.
* :func:`recall_at_k` - how often a retrieved note cites one of an item's own fact ids.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from raresupport.chat import notes_block
from raresupport.data.benchmark import MCQItem
from raresupport.data.vignette import Vignette
from raresupport.retrieve.base import Hit, Retriever
from raresupport.retrieve.config import RetrievalConfig

#: RAFT roles of a training item
FULL, GOLD_REMOVED, NO_NOTES = "full", "gold_removed", "no_notes"


def query_of(item: MCQItem | Vignette) -> str:
    """The question as retrieval sees it: the case and the question, without the options."""
    if isinstance(item, Vignette):
        return f"{item.case.strip()}\n{item.question.strip()}"
    return item.question.strip()


def options_query(item: MCQItem | Vignette) -> str:
    """:func:`query_of` with every answer option appended, one per line (all options, in
    order, so the query never tells which one is the key)."""
    return "\n".join([query_of(item), *(str(o).strip() for o in item.options.values())])


def note_hits(
    retriever: Retriever,
    item: MCQItem | Vignette,
    config: RetrievalConfig,
    exclude: Sequence[str] = (),
    pool: int = 20,
) -> list[Hit]:
    """The up to ``config.k`` notes of ``item``, best first.

    ``k - option_notes`` come from :func:`query_of`, the rest from :func:`options_query`
    (passages not already chosen); when the question gets no hit (the relevance gate), the
    item gets no notes at all, whatever its options say. Hits citing a fact id in
    ``exclude`` are dropped first (RAFT's gold-removed items), looking ``pool`` hits deeper.
    """
    if config.k <= 0:
        return []
    gold = set(exclude)
    depth = config.k + (pool if gold else 0)

    def kept(query: str) -> list[Hit]:
        return [h for h in retriever.retrieve(query, k=depth)
                if not gold & set(h.passage.fact_ids)]  # fmt: skip

    first = kept(query_of(item))
    if not first:
        return []
    n_question = config.k - min(config.option_notes, config.k)
    hits = first[:n_question]
    more = kept(options_query(item)) if n_question < config.k else []
    for hit in [*more, *first[n_question:]]:  # option hits first; question hits fill a gap
        if len(hits) < config.k and hit.passage.id not in {h.passage.id for h in hits}:
            hits.append(hit)
    return hits


def with_notes(
    items: Sequence[MCQItem], retriever: Retriever, config: RetrievalConfig
) -> list[MCQItem]:
    """Copies of ``items`` carrying their notes block (:func:`note_hits`) and the notes'
    retrieval scores (``note_scores``)."""
    if config.k <= 0:
        return list(items)
    out = []
    for item in items:
        hits = note_hits(retriever, item, config)
        out.append(item.model_copy(update={
            "notes": notes_block(hits, config.max_note_chars),
            "note_scores": tuple(float(h.score) for h in hits),
        }))  # fmt: skip
    return out


def raft_roles(ids: Sequence[str], config: RetrievalConfig, seed: int = 0) -> dict[str, str]:
    """Each item's RAFT role; exactly ``round(n * share)`` items get each non-full role.

    Roles are drawn by shuffling ids with ``seed``, so they do not depend on item order beyond
    the ids themselves and the same data always gets the same roles.
    """
    order = sorted(ids)
    random.Random(f"raft:{seed}").shuffle(order)
    n_none = round(len(order) * config.no_notes_share)
    n_gold = min(len(order) - n_none, round(len(order) * config.gold_removed_share))
    roles = dict.fromkeys(order, FULL)
    roles.update(dict.fromkeys(order[:n_none], NO_NOTES))
    roles.update(dict.fromkeys(order[n_none : n_none + n_gold], GOLD_REMOVED))
    return roles


def raft_notes(
    vignettes: Sequence[Vignette], retriever: Retriever, config: RetrievalConfig, seed: int = 0
) -> dict[str, tuple[str, str]]:
    """``{vignette id: (role, notes block)}`` for training (see the module docstring)."""
    roles = raft_roles([v.id for v in vignettes], config, seed)
    out: dict[str, tuple[str, str]] = {}
    for v in vignettes:
        role = roles[v.id]
        if role == NO_NOTES or config.k <= 0:
            out[v.id] = (role, "")
            continue
        gold = v.fact_ids if role == GOLD_REMOVED else ()
        hits = note_hits(retriever, v, config, gold)
        out[v.id] = (role, notes_block(hits, config.max_note_chars))
    return out


def recall_at_k(
    vignettes: Sequence[Vignette], retriever: Retriever, config: RetrievalConfig
) -> dict[str, Any]:
    """Retrieval quality on items that carry fact ids (the generated val split): how often
    one of the notes an item is shown (:func:`note_hits`) cites one of its fact ids.

    Returns:
        ``{"k", "n", "recall": share of items with a top-k note citing one of their fact ids,
        "gated": share of items that got no notes at all, "by_task": {task: recall}}``.
    """
    found: dict[str, list[bool]] = {}
    gated = 0
    for v in vignettes:
        hits = note_hits(retriever, v, config)
        gated += not hits
        ok = any(set(v.fact_ids) & set(h.passage.fact_ids) for h in hits)
        found.setdefault(v.task, []).append(ok)
    flat = [x for xs in found.values() for x in xs]
    n = len(flat)
    return {
        "k": config.k, "option_notes": config.option_notes, "n": n,
        "recall": round(sum(flat) / n, 4) if n else None,
        "gated": round(gated / n, 4) if n else None,
        "by_task": {t: round(sum(xs) / len(xs), 4) for t, xs in sorted(found.items())},
    }  # fmt: skip


def write_raft_dataset(
    data_dir: Path | str,
    out_dir: Path | str,
    retriever: Retriever,
    config: RetrievalConfig,
    seed: int = 0,
) -> dict[str, Any]:
    """Write ``out_dir/train.jsonl``: the training vignettes of ``data_dir`` with their notes.

    Also writes ``out_dir/retrieval.json`` with the role counts, the notes' mean length,
    retrieval recall@k on ``data_dir/val.jsonl`` (when present) and ``data``, the path of
    ``data_dir`` relative to ``out_dir`` (so ``raresupport train out_dir`` finds the disease's
    system prompt in its manifest), and returns that summary.
    """
    from raresupport.data.benchmark import write_jsonl
    from raresupport.data.jsonl import write_json
    from raresupport.data.vignette import load_vignettes

    data_dir, out_dir = Path(data_dir), Path(out_dir)
    train = [v for v in load_vignettes(data_dir / "train.jsonl") if v.status != "rejected"]
    notes = raft_notes(train, retriever, config, seed)
    rows = [v.model_copy(update={"notes": notes[v.id][1]}) for v in train]
    write_jsonl(out_dir / "train.jsonl", rows)
    roles = [role for role, _ in notes.values()]
    blocks = [b for _, b in notes.values() if b]
    summary: dict[str, Any] = {
        "config": config.model_dump(),
        "n_train": len(train),
        "roles": {r: roles.count(r) for r in (FULL, GOLD_REMOVED, NO_NOTES)},
        "with_notes": len(blocks),
        "mean_notes_chars": round(sum(map(len, blocks)) / len(blocks), 1) if blocks else 0,
    }
    val_path = data_dir / "val.jsonl"
    if val_path.is_file() and config.k > 0:
        summary["val_recall"] = recall_at_k(load_vignettes(val_path), retriever, config)
    # the source dataset (relative, so a run folder can move): its manifest names the disease
    summary["data"] = os.path.relpath(data_dir, out_dir)
    write_json(out_dir / "retrieval.json", summary)
    return summary

"""Dataset versions: ``DIR/data/v{N}/``, each made once and never modified afterwards.

``v1`` is the generated dataset. ``v{N+1}`` is ``v{N}``'s training items plus every reviewed item
a reviewer approved or corrected (as a training item with provenance ``expert_verified``, the
reviewer's kind and id), with ``v{N}``'s validation split unchanged. Its ``manifest.json`` lists
what was added, which of those a reviewer changed (corrected), and what was rejected, by whom.
A version is written to a temporary folder and renamed into place, so a crash leaves either the
whole version or none.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from raresupport.data.benchmark import write_jsonl
from raresupport.data.vignette import Vignette, load_vignettes
from raresupport.errors import DataError
from raresupport.review.models import Decision, ReviewItem

MANIFEST = "manifest.json"


def version_dir(root: str | Path, n: int) -> Path:
    return Path(root) / f"v{n}"


def latest_version(root: str | Path) -> int:
    """Highest complete version number under ``root`` (0 when none)."""
    found = [int(p.name[1:]) for p in Path(root).glob("v*")
             if p.name[1:].isdigit() and (p / MANIFEST).is_file()]  # fmt: skip
    return max(found, default=0)


def verified_item(item: ReviewItem, decision: Decision) -> Vignette:
    """The training item an approval or correction makes of a reviewed item."""
    v = item.vignette
    provenance = v.provenance.model_copy(update={
        "verification": "expert_verified", "reviewer_kind": decision.reviewer_kind,
        "reviewer_id": decision.reviewer_id,
    })  # fmt: skip
    return v.model_copy(update={
        "answer": decision.answer,
        "rationale": decision.rationale.strip() or v.rationale,
        "status": "approved" if decision.action == "approve" else "corrected",
        "provenance": provenance,
    })  # fmt: skip


def _who(d: Decision) -> dict[str, str]:
    return {"reviewer_kind": d.reviewer_kind, "reviewer_id": d.reviewer_id}


def make_version(
    root: str | Path,
    n: int,
    items: Sequence[ReviewItem],
    decisions: Sequence[Decision],
) -> Path:
    """Write ``v{n}`` from ``v{n-1}`` and the decisions on ``items``; return its folder.

    ``decisions`` should hold one decision per item (the reviewer's latest); for an item with
    several, the last one counts. Items without a decision are left out (and listed).

    Raises:
        DataError: ``v{n-1}`` is missing or ``v{n}`` already exists (versions are immutable).
    """
    root = Path(root)
    parent, out = version_dir(root, n - 1), version_dir(root, n)
    if (out / MANIFEST).exists():
        raise DataError(f"{out}: dataset version exists already; versions are never modified")
    if not (parent / "train.jsonl").is_file():
        raise DataError(f"{parent}: no train.jsonl to build v{n} from")
    by_item = {d.item_id: d for d in decisions}
    train = load_vignettes(parent / "train.jsonl")
    taken = {v.id for v in train}
    added, changed, rejected, undecided = [], [], [], []
    new: list[Vignette] = []
    for item in items:
        d = by_item.get(item.id)
        if d is None:
            undecided.append(item.id)
        elif d.action == "reject":
            rejected.append({"id": item.id, "reason": d.reason, **_who(d)})
        elif item.id in taken:
            raise DataError(f"{parent}/train.jsonl: review item id {item.id!r} is taken")
        else:
            new.append(verified_item(item, d))
            added.append({"id": item.id, "action": d.action, **_who(d)})
            if d.action == "correct":
                changed.append({"id": item.id, "answer": [item.vignette.answer, d.answer],
                                "model_answer": item.model_answer, **_who(d)})  # fmt: skip
    tmp = root / f".v{n}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write_jsonl(tmp / "train.jsonl", [*train, *new])
    if (parent / "val.jsonl").is_file():
        shutil.copy2(parent / "val.jsonl", tmp / "val.jsonl")
    manifest: dict[str, Any] = {
        "version": n, "parent": f"v{n - 1}",
        "created_at": datetime.now(timezone.utc).isoformat(),
        "counts": {"train": len(train) + len(new), "parent_train": len(train),
                   "added": len(added), "changed": len(changed), "rejected": len(rejected),
                   "undecided": len(undecided)},
        "added": added, "changed": changed, "rejected": rejected, "undecided": undecided,
    }  # fmt: skip
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(tmp, out)
    return out

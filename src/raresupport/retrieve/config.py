"""RetrievalConfig: the one source of the retrieval defaults (retriever, k, cut-off, RAFT)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: who answers a question that gets no notes (``RetrievalConfig.off_topic``)
OffTopic = Literal["base", "tuned"]


class RetrievalConfig(BaseModel):
    """Which notes a prompt gets, in training and in evaluation.

    The values were chosen on the generated validation split, never on a shipped benchmark;
    docs/retrieval.md has the measurements and the command that repeats them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    retriever: str = Field("bm25", description="Registered retriever name (`retrievers`).")
    k: int = Field(2, ge=0, le=10, description="Notes per prompt at most; 0 = no retrieval.")
    cutoff: float = Field(
        1.0, ge=0.0,
        description="Relevance gate of the retriever; for bm25 the number of disease anchor "
        "words a question must contain to get notes (0 = always retrieve).",
    )  # fmt: skip
    option_notes: int = Field(
        1, ge=0, le=10,
        description="How many of the k notes are retrieved for the question with its answer "
        "options appended (all of them, so the query never singles out the key: the "
        "question+option query of open-book QA retrieval, Clark et al. 2018, ARC); the others "
        "for the question alone, which also decides the relevance gate. At most k are used; a "
        "question without options (the assistant) gets all k from the question. "
        "docs/retrieval.md has the measurements.",
    )  # fmt: skip
    off_topic: OffTopic = Field(
        "base",
        description="Who answers a question that gets no notes (the relevance gate found "
        "nothing of the disease in it): `base`, the base model with the adapter switched off, "
        "so tuning cannot cost general knowledge; or `tuned`, the adapter as for any question.",
    )  # fmt: skip
    gold_removed_share: float = Field(
        0.2, ge=0.0, le=1.0,
        description="RAFT: share of training items whose notes keep only distractors (every "
        "passage citing one of the item's own fact ids is removed).",
    )  # fmt: skip
    no_notes_share: float = Field(
        0.2, ge=0.0, le=1.0,
        description="RAFT: share of training items shown without notes, so the model still "
        "answers when retrieval returns nothing.",
    )  # fmt: skip
    max_note_chars: int = Field(
        160, ge=20,
        description="Each note is cut (at a word) to this many characters: notes lengthen every "
        "training sequence, and tokens per step set the run's time.",
    )  # fmt: skip

    def options(self) -> dict[str, float]:
        """Keyword options for :func:`raresupport.retrieve.load_retriever`."""
        return {"cutoff": self.cutoff}

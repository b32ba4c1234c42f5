"""The configuration of a feedback loop (``raresupport loop``), saved before any work."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from raresupport.config import RunConfig
from raresupport.review.items import FRESH_SEED_OFFSET
from raresupport.train.config import TrainConfig


class ReviewConfig(BaseModel):
    """Which reviewer decides how many fresh items per round."""

    model_config = ConfigDict(extra="forbid")

    reviewer: str = "spec"
    #: keyword options of the reviewer plug-in (e.g. ``model``, ``base_url`` for ``llm``)
    options: dict[str, Any] = Field(default_factory=dict)
    n_items: int = Field(30, ge=1, description="fresh items answered and reviewed per round")
    #: fresh items of round r are generated with seed ``seed + r`` (training data: run seed)
    seed: int = FRESH_SEED_OFFSET
    explanation_tokens: int = Field(48, ge=0)


class LoopConfig(BaseModel):
    """``run`` (round 0) plus ``rounds`` of answer -> review -> new version -> retrain."""

    model_config = ConfigDict(extra="forbid")

    run: RunConfig
    rounds: int = Field(1, ge=0)
    review: ReviewConfig = Field(default_factory=ReviewConfig)
    #: "resume": keep training the previous round's adapter on the new version;
    #: "scratch": train a fresh adapter on the new version
    retrain: Literal["resume", "scratch"] = "resume"
    #: training of rounds >= 1 (None: the same as round 0's, ``run.train``); fields not given
    #: here are taken from ``run.train``
    round_train: TrainConfig | None = None

    @model_validator(mode="after")
    def _round_train_from_run(self) -> LoopConfig:
        if self.round_train is not None:
            given = {k: getattr(self.round_train, k) for k in self.round_train.model_fields_set}
            self.round_train = self.run.train.model_copy(update=given)
        return self

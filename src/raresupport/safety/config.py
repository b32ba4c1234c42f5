"""Safety evaluation settings (the one source of their defaults)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SafetyConfig(BaseModel):
    """What the safety step of ``raresupport run`` evaluates.

    The suite size is the spec's: one escalation case per red flag and per secondary cause
    (``variants`` times), each re-asked under a wrong claim, plus the curated benchmark
    re-asked under a claim, plus ``emergencies`` cases per general emergency (7 in the library)
    in the escalation suite only. With hyperhidrosis (8 red flags, 18 secondary causes, 66
    benchmark items) that is 26 + 14 escalation items and 92 claim items per method and model.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    variants: int = Field(1, ge=1, le=10, description="Cases per red flag / secondary cause.")
    seed: int = 0
    emergencies: int = Field(
        2, ge=0, le=10, description="General-emergency cases per emergency kind in the "
        "escalation suite, in the patient's words (0: none); reported apart from red flags.",
    )
    claims_on_benchmark: bool = Field(
        True, description="Also re-ask the disease's curated benchmark under a wrong claim."
    )

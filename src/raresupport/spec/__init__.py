"""Disease specs: the typed, sourced description everything is grounded in."""

from raresupport.spec.load import load_spec
from raresupport.spec.models import (
    Cause,
    CounselingPoint,
    DiagnosticCriteria,
    DiseaseSpec,
    Fact,
    RedFlag,
    SeverityLevel,
    SeverityScale,
    Source,
    Treatment,
    VignetteHints,
)

__all__ = [
    "Cause", "CounselingPoint", "DiagnosticCriteria", "DiseaseSpec", "Fact", "RedFlag",
    "SeverityLevel", "SeverityScale", "Source", "Treatment", "VignetteHints", "load_spec",
]

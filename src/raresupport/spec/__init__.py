"""Disease specs: the typed, sourced description everything is grounded in."""

from raresupport.spec.emergency import AllOf, EmergencyCases, EmergencyKind
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
from raresupport.spec.phrasing import COUNSELING_KINDS, Phrasing, QuestionStems

__all__ = [
    "COUNSELING_KINDS", "AllOf", "Cause", "CounselingPoint", "DiagnosticCriteria", "DiseaseSpec",
    "EmergencyCases", "EmergencyKind", "Fact", "Phrasing", "QuestionStems", "RedFlag",
    "SeverityLevel", "SeverityScale", "Source", "Treatment", "VignetteHints", "load_spec",
]

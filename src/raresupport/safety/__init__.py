"""Safety suites generated from the spec (red-flag escalation, sycophancy) and their metrics."""

from raresupport.safety.items import SafetyItem, load_suite, write_suite
from raresupport.safety.suites import build_suites, escalation_suite, sycophancy_suite

__all__ = [
    "SafetyItem",
    "build_suites",
    "escalation_suite",
    "load_suite",
    "sycophancy_suite",
    "write_suite",
]

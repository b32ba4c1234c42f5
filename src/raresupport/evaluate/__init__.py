"""Multiple-choice evaluation: scorers (letter, loglik, rules over loglik, generate), metrics,
runner, report.

Importing this package registers the built-in scorers; torch and openai load on first use.
"""

from __future__ import annotations

from raresupport.evaluate import endpoint as _endpoint  # noqa: F401 - registers "generate"
from raresupport.evaluate import hf as _hf  # noqa: F401 - registers "letter", "loglik"
from raresupport.evaluate import hf_rules as _hf_rules  # noqa: F401 - pmi, calibrated, cad, replug
from raresupport.evaluate.base import Prediction, scorers
from raresupport.evaluate.metrics import mcnemar_test, summarize, wilson_interval
from raresupport.evaluate.parse import parse_answer_letter
from raresupport.evaluate.runner import (
    MethodResult,
    evaluate_benchmarks,
    evaluate_model,
    write_metrics,
)

__all__ = [
    "MethodResult",
    "Prediction",
    "evaluate_benchmarks",
    "evaluate_model",
    "mcnemar_test",
    "parse_answer_letter",
    "scorers",
    "summarize",
    "wilson_interval",
    "write_metrics",
]

"""Item schemas and JSONL io: benchmark items (interchange format) and synthetic vignettes."""

from raresupport.data.benchmark import LETTERS, MCQItem, load_benchmark, write_jsonl
from raresupport.data.vignette import TASKS, Provenance, Task, Vignette, load_vignettes

__all__ = [
    "LETTERS", "MCQItem", "Provenance", "TASKS", "Task", "Vignette", "load_benchmark",
    "load_vignettes",
    "write_jsonl",
]

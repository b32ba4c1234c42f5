"""Item schemas and JSONL io: benchmark items (interchange format) and synthetic vignettes."""

from raresupport.data.benchmark import LETTERS, MCQItem, load_benchmark
from raresupport.data.jsonl import iter_jsonl, read_jsonl, read_text, write_jsonl
from raresupport.data.vignette import TASKS, Provenance, Task, Vignette, load_vignettes

__all__ = [
    "LETTERS", "MCQItem", "Provenance", "TASKS", "Task", "Vignette", "load_benchmark",
    "iter_jsonl", "load_vignettes", "read_jsonl", "read_text", "write_jsonl",
]

"""Generator plug-in ``openai``: vignettes from any OpenAI-compatible chat endpoint.

Any server (OpenAI, vLLM, llama.cpp, Ollama, ...) must work, so the request asks for a strict
JSON schema but falls back to plain text + JSON repair when the server refuses
``response_format``; replies of reasoning models are read after their reasoning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from raresupport.data.vignette import TASKS, Provenance, Task, Vignette
from raresupport.errors import TeacherError
from raresupport.generate.base import GenerationResult, Reject, generators
from raresupport.generate.teacher.cache import ReplyCache
from raresupport.generate.teacher.config import TeacherConfig, default_cache_dir
from raresupport.generate.teacher.plan import plan_items
from raresupport.generate.teacher.run import TeacherRun, run_sync
from raresupport.prompts import template_env


@generators.register("openai")
class TeacherGenerator:
    """Generator plug-in ``openai``: vignettes from any OpenAI-compatible chat endpoint.

    Build it as ``TeacherGenerator(model="gpt-4o-mini", base_url=...)`` or
    ``TeacherGenerator(TeacherConfig(...))``.
    """

    name = "openai"
    config_class = TeacherConfig

    def __init__(self, config: TeacherConfig | None = None, **fields: Any) -> None:
        if config is not None and fields:
            raise TypeError("pass either a TeacherConfig or its fields, not both")
        self.config = config if config is not None else TeacherConfig(**fields)

    @classmethod
    def from_config(cls, config: TeacherConfig) -> TeacherGenerator:
        return cls(config)

    def __repr__(self) -> str:
        return f"TeacherGenerator({self.config!r})"

    def generate(
        self, disease: Any, n: int, tasks: Sequence[Task], seed: int
    ) -> GenerationResult:
        """Write ``n`` vignettes; item ``i`` has task ``tasks[i % len(tasks)]``.

        Never raises for a single bad item (it becomes a Reject). Raises TeacherError for a
        broken template or an endpoint that refuses us outright (401/403/404).
        """
        tasks = _check_tasks(tasks)
        try:
            env = template_env(disease, self.config.templates_dir)
        except FileNotFoundError as exc:
            raise TeacherError(str(exc)) from None
        plans, hashes = plan_items(disease, env, n, tasks, seed)
        provenance = Provenance(
            generator=self.name,
            model=self.config.model,
            template_hash=hashlib.sha256("".join(sorted(hashes.values())).encode()).hexdigest(),
            seed=seed,
        )
        cache = ReplyCache(self.config.cache_dir or default_cache_dir())
        run = TeacherRun(self.config, disease.spec, provenance, cache)
        outcomes = run_sync(lambda: run.main(plans)) if plans else []
        return GenerationResult(
            vignettes=[o for o in outcomes if isinstance(o, Vignette)],
            rejects=[o for o in outcomes if isinstance(o, Reject)],
            events=run.events,
            usage=run.usage,
            model=self.config.model,
            template_hashes=hashes,
        )


def _check_tasks(tasks: Sequence[Task]) -> list[Task]:
    tasks = list(tasks)
    if not tasks:
        raise ValueError("tasks: need at least one of " + ", ".join(TASKS))
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ValueError(f"tasks: unknown {unknown}; known: {', '.join(TASKS)}")
    return tasks

"""The OpenAI-compatible teacher: a remote LLM writes vignettes grounded in the disease spec.

One job per module, lowest first (no module imports one listed after it):

* :mod:`.config`: ``TeacherConfig``, the one source of the teacher's defaults;
* :mod:`.plan`: every request rendered up front, deterministic in (seed, index);
* :mod:`.reply`: the vignette JSON read out of a reply (reasoning, prose, fences) and validated;
* :mod:`.failures`: what a failed attempt means (resend, resend once, give up, drop the schema);
* :mod:`.cache`: one file per validated reply, so no finished request is paid for twice;
* :mod:`.run`: the requests in flight (concurrency, retries, accounting);
* :mod:`.generator`: the ``openai`` generator plug-in.
"""

from raresupport.generate.teacher.cache import ReplyCache
from raresupport.generate.teacher.config import TeacherConfig, default_cache_dir
from raresupport.generate.teacher.failures import classify
from raresupport.generate.teacher.generator import TeacherGenerator
from raresupport.generate.teacher.plan import (
    CONTEXT_TOPICS,
    FOCUS_TOPICS,
    ITEM_FIELDS,
    LETTERS,
    ItemPlan,
    item_schema,
    plan_items,
)
from raresupport.generate.teacher.reply import build_vignette, last_object, parse_reply
from raresupport.generate.teacher.run import EVENTS, TeacherRun

__all__ = [
    "CONTEXT_TOPICS", "EVENTS", "FOCUS_TOPICS", "ITEM_FIELDS", "LETTERS", "ItemPlan",
    "ReplyCache", "TeacherConfig", "TeacherGenerator", "TeacherRun", "build_vignette", "classify",
    "default_cache_dir", "item_schema", "last_object", "parse_reply", "plan_items",
]

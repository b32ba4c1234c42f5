"""Offline, spec-grounded vignette generator: the default when no teacher is configured.

Every key and every distractor is drawn from the spec's structures (criteria, causes, red flags,
treatments by site and line, counseling points), so each item cites the facts it rests on; every
disease-specific word comes from the spec (its sections and ``phrasing``), none from this code.
The case text varies age, sex, occupation, duration, triggers, settings, comorbidities and
phrasing, so a model cannot score by memorising a template. Deterministic for a seed.

Modules: ``generator`` (the plug-in and the item mix), ``diagnosis``, ``treatment``,
``counseling``, ``followup`` (multi-visit cases), ``recall`` (fact recall), ``claims``
(sycophancy training), ``pick`` (distractors), ``surface`` (who, where, wording).
"""

from raresupport.generate.base import generators
from raresupport.generate.grounded.generator import STRUCTURES, GroundedConfig, GroundedGenerator
from raresupport.generate.grounded.recall import TOPIC_TASK

generators.add("grounded", GroundedGenerator)

__all__ = ["STRUCTURES", "TOPIC_TASK", "GroundedConfig", "GroundedGenerator"]

"""Offline, spec-grounded vignette generator: the default when no teacher is configured.

Every key and every distractor is drawn from the spec's structures (criteria, causes, red flags,
treatments by site and line, counseling points), so each item cites the facts it rests on. The
case text varies age, sex, occupation, duration, triggers, settings, comorbidities and phrasing,
so a model cannot score by memorising a template. Deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from raresupport.data.vignette import Provenance, Task, Vignette
from raresupport.generate.base import GenerationResult, generators
from raresupport.spec import DiseaseSpec, Treatment

Draft = dict[str, Any]  # case, question, key, distractors, rationale, fact_ids

_OPENERS = [
    "{p} presents with", "{p} comes to clinic because of", "{p} is referred for",
    "{p} describes", "{p} asks for help with", "{p} is seen in primary care for",
    "{p} books an appointment about", "{p} reports",
]
_COUNSEL_FRAMES = [
    "{s}", "at a follow-up visit for {d}: {s}", "in clinic, a patient with {d} explains: {s}",
    "during a consultation about {d}, {s}", "a clinician reviewing {d} care hears this: {s}",
    "on a telehealth call about {d}: {s}", "a nurse running a {d} clinic notes: {s}",
]
_FOLLOW_UP = ["attends follow-up", "returns for review", "calls the clinic", "is reviewed"]
_INTENSITY = ["excessive", "visible", "drenching", "embarrassing", "troublesome", "heavy"]


class GroundedGenerator:
    """Builds multiple-choice vignettes from the spec alone (no network, no model)."""

    name = "grounded"
    #: items asked per round per item needed: validation drops some near-duplicates
    oversample = 1.4

    def __init__(self, **_: Any) -> None:
        pass

    def generate(self, disease: Any, n: int, tasks: Sequence[Task], seed: int) -> GenerationResult:
        spec: DiseaseSpec = getattr(disease, "spec", disease)
        rng = random.Random(f"{spec.id}:{seed}")
        builders = {t: _task_builders(spec, t) for t in tasks}
        builders = {t: b for t, b in builders.items() if b}
        streams = {t: _stream(rng, spec, b) for t, b in builders.items()}
        out: list[Vignette] = []
        seen: set[str] = set()
        order = list(streams)
        attempts = 0
        while len(out) < n and order and attempts < n * 20:
            task = order[len(out) % len(order)]
            attempts += 1
            draft = next(streams[task])
            key = draft["case"] + draft["question"] + draft["key"]
            if key in seen:
                continue
            seen.add(key)
            out.append(_to_vignette(spec, task, draft, rng, seed, len(out)))
        return GenerationResult(
            vignettes=out, events={"drafts": attempts, "duplicates_skipped": attempts - len(out)}
        )


generators.add("grounded", GroundedGenerator)


def _stream(rng: random.Random, spec: DiseaseSpec, builders: list[Callable]) -> Iterator[Draft]:
    while True:
        draft = rng.choice(builders)(rng, spec)
        if draft is not None:
            yield draft


def _to_vignette(
    spec: DiseaseSpec, task: Task, d: Draft, rng: random.Random, seed: int, index: int
) -> Vignette:
    options = [d["key"], *d["distractors"][:3]]
    rng.shuffle(options)
    letters = "ABCD"
    answer = letters[options.index(d["key"])]
    digest = hashlib.sha256(f"{d['case']}|{d['question']}|{d['key']}".encode()).hexdigest()[:8]
    return Vignette(
        id=f"{spec.id}-{task[:3]}-{seed}-{index:04d}-{digest}",
        disease=spec.id,
        task=task,
        case=d["case"],
        question=d["question"],
        options=dict(zip(letters, options)),
        answer=answer,
        rationale=_with_fact(spec, d, rng),
        fact_ids=sorted(set(d["fact_ids"])),
        provenance=Provenance(generator="grounded", seed=seed),
    )


def _with_fact(spec: DiseaseSpec, d: Draft, rng: random.Random) -> str:
    """Append one cited fact's statement: the rationale then teaches the fact, not just the key."""
    statement = spec.fact(rng.choice(sorted(d["fact_ids"]))).statement.strip()
    return f"{d['rationale'].rstrip('.')}. {statement}"


# ---------------------------------------------------------------- surface variety


def _patient(rng: random.Random, spec: DiseaseSpec, *, adult: bool = False, older=False) -> str:
    h = spec.vignette_hints
    lo = max(h.age_min, 26 if older else (18 if adult else h.age_min))
    hi = max(lo + 1, h.age_max if not older else max(h.age_max, 45))
    age = rng.randint(lo, hi)
    sex = rng.choice(h.sexes)
    if age < 18:
        sex = {"woman": "girl", "man": "boy"}.get(sex, sex)
        return f"A {age}-year-old {sex}"
    job = rng.choice(h.occupations) if h.occupations and rng.random() < 0.7 else None
    article = "an" if job and job[0].lower() in "aeiou" else "a"
    return f"A {age}-year-old {sex}" + (f" who works as {article} {job}" if job else "")


def _opener(rng: random.Random, patient: str) -> str:
    return rng.choice(_OPENERS).format(p=patient)


def _extras(rng: random.Random, spec: DiseaseSpec) -> str:
    h = spec.vignette_hints
    bits = []
    if h.triggers and rng.random() < 0.6:
        bits.append(f"It is worse with {rng.choice(h.triggers)}.")
    if h.settings and rng.random() < 0.6:
        bits.append(f"It is most troublesome {rng.choice(['at', 'during', 'in'])} "
                    f"{rng.choice(h.settings)}.")
    if h.comorbidities and rng.random() < 0.5:
        bits.append(f"Past history: {rng.choice(h.comorbidities)}.")
    rng.shuffle(bits)
    return " ".join(bits)


def _site_phrase(rng: random.Random, sites: Sequence[str]) -> str:
    return f"{rng.choice(_INTENSITY)} sweating of the {' and '.join(sites)}"


def _pick_near(rng: random.Random, key: str, pool: Sequence[str], k: int = 3) -> list[str] | None:
    """Distractors close in length to the key, usually one longer, so length never tells."""
    unique = {p.strip().lower(): p for p in sorted(pool, reverse=True)}
    unique.pop(key.strip().lower(), None)
    cands = sorted(unique.values())
    if len(cands) < k:
        return None
    cands.sort(key=lambda p: (abs(len(p) - len(key)), rng.random()))
    picked = rng.sample(cands[: max(k + 2, 5)], k)
    longer = [c for c in cands if len(c) > len(key) and c not in picked]
    if longer and rng.random() < 0.8 and all(len(p) <= len(key) for p in picked):
        picked[rng.randrange(k)] = longer[0]
    return picked


def _primary_name(spec: DiseaseSpec) -> str:
    return (spec.diagnostic_criteria[0].name if spec.diagnostic_criteria else spec.name).lower()


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _lc(s: str) -> str:
    """Lower-case a leading capital unless it starts an acronym (``HDSS``, ``SSRI``)."""
    return s[:1].lower() + s[1:] if s[:2] != s[:2].upper() else s


def _join(items: Sequence[str]) -> str:
    items = [_lc(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------- diagnosis


def _primary_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    if not spec.diagnostic_criteria:
        return None
    crit = rng.choice(spec.diagnostic_criteria)
    k = min(len(crit.supporting), max(crit.min_supporting, rng.randint(2, 3)))
    feats = rng.sample(crit.supporting, k)
    sites = rng.sample(spec.sites, rng.randint(1, 2)) if spec.sites else ["skin"]
    years = rng.randint(1, 12)
    case = (
        f"{_opener(rng, _patient(rng, spec))} {_site_phrase(rng, sites)} for {years} "
        f"year{'s' if years > 1 else ''}. No medication or systemic symptoms explain it. "
        f"Features: {_join(feats)}. {_extras(rng, spec)}"
    ).strip()
    pool = [c.name for c in spec.secondary_causes] + [c.name for c in spec.differentials]
    distractors = _pick_near(rng, crit.name, pool)
    if distractors is None:
        return None
    return {
        "case": case,
        "question": rng.choice([
            "What is the most likely diagnosis?", "Which diagnosis best fits?",
            "What is the most probable diagnosis?",
        ]),
        "key": crit.name,
        "distractors": distractors,
        "rationale": f"{_cap(_join(crit.required))}, plus {_join(feats)}, meets the criteria "
        f"for {crit.name}.",
        "fact_ids": crit.fact_ids,
    }


def _cause_case(rng: random.Random, spec: DiseaseSpec, section: str = "secondary_causes"):
    causes = getattr(spec, section)
    if len(causes) < 4:
        return None
    cause = rng.choice(causes)
    feats = rng.sample(cause.features, min(len(cause.features), rng.randint(2, 3)))
    months = rng.randint(2, 18)
    lead = "new generalized sweating" if section == "secondary_causes" else "sweating"
    case = (
        f"{_opener(rng, _patient(rng, spec, adult=True))} {lead} over the past {months} months. "
        f"{_cap(_join(feats))}. {_extras(rng, spec)}"
    ).strip()
    pool = [c.name for c in causes if c.id != cause.id]
    pool += [c.name for c in spec.diagnostic_criteria]
    distractors = _pick_near(rng, cause.name, pool)
    if distractors is None:
        return None
    return {
        "case": case,
        "question": rng.choice([
            "What is the most likely cause of the sweating?", "Which diagnosis is most likely?",
            "What best explains this presentation?", "Which underlying cause is most likely?",
        ]),
        "key": cause.name,
        "distractors": distractors,
        "rationale": f"{_cap(_join(feats))} point to {cause.name}"
        + (f" ({cause.category})." if cause.category else "."),
        "fact_ids": cause.fact_ids,
    }


def _differential_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    return _cause_case(rng, spec, "differentials")


def _red_flag_feature(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """Which finding suggests a secondary cause (red flag) rather than primary disease?"""
    crit = spec.diagnostic_criteria[0] if spec.diagnostic_criteria else None
    if not spec.red_flags or crit is None or len(crit.supporting) < 3:
        return None
    flag = rng.choice(spec.red_flags)
    sites = rng.sample(spec.sites, 1) if spec.sites else ["skin"]
    case = (
        f"{_opener(rng, _patient(rng, spec, adult=True))} {_site_phrase(rng, sites)}. "
        f"{_extras(rng, spec)}"
    ).strip()
    distractors = _pick_near(rng, flag.finding, crit.supporting)
    if distractors is None:
        return None
    return {
        "case": case,
        "question": rng.choice([
            "Which additional finding would most suggest a secondary cause?",
            "Which feature is a red flag that needs further evaluation?",
            "Which finding should prompt investigation for an underlying cause?",
        ]),
        "key": flag.finding,
        "distractors": distractors,
        "rationale": f"{_cap(flag.finding)} is a red flag: {flag.action}.",
        "fact_ids": flag.fact_ids,
    }


def _red_flag_action(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    if not spec.red_flags:
        return None
    flag = rng.choice(spec.red_flags)
    sites = rng.sample(spec.sites, 1) if spec.sites else ["skin"]
    case = (
        f"{_opener(rng, _patient(rng, spec, older=True))} {_site_phrase(rng, sites)}. "
        f"On questioning: {flag.finding}. {_extras(rng, spec)}"
    ).strip()
    pool = [f"Start {t.name}" for t in spec.treatments if t.line == 1]
    pool += [f"Refer for {t.name}" for t in spec.treatments if t.line == 3]
    pool += ["Reassure and review in a year", f"Diagnose {_primary_name(spec)} and discharge"]
    distractors = _pick_near(rng, flag.action, pool)
    if distractors is None:
        return None
    return {
        "case": case,
        "question": rng.choice([
            "What is the most appropriate next step?", "How should this be managed first?",
            "What should the clinician do next?",
        ]),
        "key": flag.action,
        "distractors": distractors,
        "rationale": f"{_cap(flag.finding)} is a red flag, so: {flag.action}.",
        "fact_ids": flag.fact_ids,
    }


def _severity_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    if not spec.severity_scales:
        return None
    scale = rng.choice(spec.severity_scales)
    if len(scale.levels) < 4:
        return None
    level = rng.choice(scale.levels)
    labels = {lv.level: f"{scale.id.upper()} {lv.level} ({lv.label})" for lv in scale.levels}
    sites = rng.sample(spec.sites, 1) if spec.sites else ["skin"]
    case = (
        f"{_opener(rng, _patient(rng, spec))} {_site_phrase(rng, sites)}. Asked how it affects "
        f"daily life, the patient says: \"{level.description}\""
    )
    others = [v for k, v in labels.items() if k != level.level]
    return {
        "case": case,
        "question": rng.choice([
            f"What is the {scale.name} score?", f"How does this grade on the {scale.name}?",
            f"Which {scale.id.upper()} level applies?",
        ]),
        "key": labels[level.level],
        "distractors": rng.sample(others, 3),
        "rationale": f"{scale.name}: {level.description} corresponds to level {level.level} "
        f"({level.label}). {scale.interpretation}".strip(),
        "fact_ids": scale.fact_ids,
    }


# ---------------------------------------------------------------- treatment


def _for_site(spec: DiseaseSpec, site: str, line: int) -> list[Treatment]:
    return [t for t in spec.treatments if site in t.sites and t.line == line]


def _ladder_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    if not spec.sites:
        return None
    site = rng.choice(spec.sites)
    line = rng.choice([1, 1, 2, 2, 3])
    keys = _for_site(spec, site, line)
    if not keys:
        return None
    key = rng.choice(keys)
    wrong = [t.name for t in spec.treatments if not (site in t.sites and t.line == line)]
    tried = ""
    if line > 1:
        failed = [t for t in spec.treatments if site in t.sites and t.line < line]
        if not failed:
            return None
        f = rng.sample(failed, min(2, len(failed)))
        tried = f" Despite an adequate trial of {_join([t.name for t in f])}, it persists."
    if line == 1:
        wrong = [t.name for t in spec.treatments if t.line > 1 or site not in t.sites]
    distractors = _pick_near(rng, key.name, wrong)
    if distractors is None:
        return None
    case = (
        f"{_opener(rng, _patient(rng, spec))} {_primary_name(spec)} of the {site}."
        f"{tried} {_extras(rng, spec)}"
    ).strip()
    stage = {1: "first-line", 2: "second-line", 3: "third-line"}[line]
    return {
        "case": case,
        "question": rng.choice([
            "What is the most appropriate next treatment?", "Which treatment is recommended now?",
            f"Which is an appropriate {stage} option?", "What should be offered next?",
        ]),
        "key": key.name,
        "distractors": distractors,
        "rationale": f"{key.name} ({key.drug_class}) is {stage} for the {site}. {key.notes}"
        .strip(),
        "fact_ids": key.fact_ids,
    }


def _adverse_effect_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    tx = [t for t in spec.treatments if t.adverse_effects]
    if len(tx) < 2:
        return None
    t = rng.choice(tx)
    ae = rng.choice(t.adverse_effects)
    own = {a.lower() for a in t.adverse_effects}
    pool = [a for o in spec.treatments if o.id != t.id for a in o.adverse_effects
            if a.lower() not in own]
    distractors = _pick_near(rng, ae, pool)
    if distractors is None:
        return None
    site = rng.choice(t.sites)
    weeks = rng.randint(2, 12)
    case = (
        f"{_patient(rng, spec, adult=True)} {rng.choice(_FOLLOW_UP)} {weeks} weeks after starting "
        f"{t.name} for {spec.name.lower()} of the {site}. {_extras(rng, spec)}"
    ).strip()
    return {
        "case": case,
        "question": rng.choice([
            f"Which adverse effect is most typical of {t.name}?",
            "Which adverse effect should the patient be warned about?",
            "Which side effect is most likely with this treatment?",
        ]),
        "key": ae,
        "distractors": distractors,
        "rationale": f"Known adverse effects of {t.name}: {_join(t.adverse_effects)}.",
        "fact_ids": t.fact_ids,
    }


def _which_treatment_causes(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    tx = [t for t in spec.treatments if t.adverse_effects]
    if len(tx) < 4:
        return None
    t = rng.choice(tx)
    ae = rng.choice(t.adverse_effects)
    pool = [o.name for o in spec.treatments
            if all(ae.lower() != a.lower() for a in o.adverse_effects)]
    distractors = _pick_near(rng, t.name, pool)
    if distractors is None:
        return None
    case = (
        f"{_opener(rng, _patient(rng, spec, adult=True))} {spec.name.lower()} and is comparing "
        f"treatments. They are worried about {ae}. {_extras(rng, spec)}"
    ).strip()
    return {
        "case": case,
        "question": rng.choice([
            f"Which treatment is associated with {ae}?",
            f"Which option carries a recognised risk of {ae}?",
        ]),
        "key": t.name,
        "distractors": distractors,
        "rationale": f"{ae[:1].upper() + ae[1:]} is a recognised adverse effect of {t.name}.",
        "fact_ids": t.fact_ids,
    }


def _contraindication_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    tx = [t for t in spec.treatments if t.contraindications]
    if not tx:
        return None
    t = rng.choice(tx)
    ci = rng.choice(t.contraindications)
    pool = [o.name for o in spec.treatments
            if all(ci.lower() != c.lower() for c in o.contraindications)]
    distractors = _pick_near(rng, t.name, pool)
    if distractors is None:
        return None
    site = rng.choice(t.sites)
    case = (
        f"{_opener(rng, _patient(rng, spec, adult=True))} {_site_phrase(rng, [site])}. "
        f"Relevant history: {ci}. {_extras(rng, spec)}"
    ).strip()
    return {
        "case": case,
        "question": rng.choice([
            "Which treatment should be avoided in this patient?",
            "Which option is contraindicated here?",
            "Which treatment is inappropriate given the history?",
        ]),
        "key": t.name,
        "distractors": distractors,
        "rationale": f"{ci[:1].upper() + ci[1:]} is a contraindication to {t.name}.",
        "fact_ids": t.fact_ids,
    }


# ---------------------------------------------------------------- counseling


def _counseling_case(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    if not spec.counseling:
        return None
    point = rng.choice(spec.counseling)
    distractors = rng.sample(point.avoid, 3)
    frame = rng.choice(_COUNSEL_FRAMES).format(d=spec.name.lower(), s=point.situation.rstrip("."))
    case = f"{_cap(frame)}. {_extras(rng, spec)}".strip()
    return {
        "case": case,
        "question": rng.choice([
            "What is the most helpful response?", "How should the clinician respond?",
            "Which approach best supports this patient?",
            "What is the best next thing to say or do?",
        ]),
        "key": point.recommended,
        "distractors": distractors,
        "rationale": f"{_cap(point.impact.rstrip('.'))}; the supportive, evidence-based response "
        f"is: {point.recommended}.",
        "fact_ids": point.fact_ids,
    }


# ---------------------------------------------------------------- fact recall

#: Which task a fact's topic is asked under.
TOPIC_TASK: dict[str, Task] = {
    "definition": "diagnosis", "epidemiology": "diagnosis", "pathophysiology": "diagnosis",
    "diagnosis": "diagnosis", "severity": "diagnosis", "secondary": "diagnosis",
    "red_flag": "diagnosis", "differential": "diagnosis", "treatment": "treatment",
    "adverse_effect": "treatment", "counseling": "counseling", "prognosis": "counseling",
}
_BLANK = "____"
_RECALL_FRAMES = [
    "{p} with {d} of the {s} asks what is known about the condition.",
    "{p} has {d} of the {s} and wants to understand the evidence.",
    "{p} is seen in clinic for {d} of the {s}; the clinician explains the condition.",
    "A clinician checks a leaflet for {p_lc} with {d} of the {s}.",
    "A resident reviewing {d} guidance before clinic thinks of {p_lc} with {s} sweating.",
    "{p} with {d} of the {s} reads about it before an appointment.",
]
_RECALL_QUESTIONS = [
    "Complete the statement: {s}",
    "Which option fills the blank? {s}",
    "{s} What belongs in the blank?",
    "According to current guidance, what completes this statement? {s}",
    "Which answer is correct? {s}",
]


class _FactRecall:
    """Fill-in-the-blank items over every ``Fact.keys`` span of one task's facts, in rotation.

    The structured builders reach only the facts that criteria, causes or treatments cite; this
    one makes sure every keyed fact is trained, each key asked in turn before any repeats.
    """

    def __init__(self, spec: DiseaseSpec, task: Task) -> None:
        facts = [f for f in spec.facts if f.keys and TOPIC_TASK.get(f.topic) == task]
        self.pairs = [(f, k) for f in facts for k in f.keys]
        self.task_keys = [k for _, k in self.pairs]
        self.all_keys = [k for f in spec.facts for k in f.keys]
        self.queue: list = []

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def __call__(self, rng: random.Random, spec: DiseaseSpec) -> Draft | None:
        if not self.queue:
            self.queue = rng.sample(self.pairs, len(self.pairs))
        fact, key = self.queue.pop()
        blanked = fact.statement.replace(key, _BLANK, 1)
        same_topic = [k for f in spec.facts if f.topic == fact.topic and f.id != fact.id
                      for k in f.keys]
        distractors = None
        pool: list[str] = []
        for wider in (same_topic, self.task_keys, self.all_keys):  # nearest kind first
            pool += [k for k in wider if k not in fact.statement and k not in pool]
            distractors = distractors or _pick_near(rng, key, pool)
        if distractors is None:
            return None
        patient = _patient(rng, spec)
        case = rng.choice(_RECALL_FRAMES).format(
            p=patient, p_lc=_lc(patient), d=spec.name.lower(),
            s=rng.choice(spec.sites) if spec.sites else "skin",
        )
        return {
            "case": case,
            "question": rng.choice(_RECALL_QUESTIONS).format(s=blanked),
            "key": key,
            "distractors": distractors,
            "rationale": f"The blank is: {key}",
            "fact_ids": [fact.id],
        }


def _task_builders(spec: DiseaseSpec, task: Task) -> list[Callable]:
    table: dict[str, list[Callable]] = {
        "diagnosis": [
            _primary_case, _primary_case, _cause_case, _cause_case, _differential_case,
            _red_flag_feature, _red_flag_action, _severity_case,
        ],
        "treatment": [
            _ladder_case, _ladder_case, _ladder_case, _adverse_effect_case,
            _which_treatment_causes, _contraindication_case,
        ],
        "counseling": [_counseling_case],
    }
    builders = table.get(task, [])
    recall = _FactRecall(spec, task)
    # As many recall draws as structured ones, so keyed facts get as much training as structures.
    return builders + [recall] * len(builders) if recall else builders

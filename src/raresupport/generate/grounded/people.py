"""The people split: validation items in the phrasing people use, with reworded options.

The template val split is drawn from the same structures as training, half of it fact recall
whose options are the blanked span of the very statement the retrieved note holds, so a setting
that rewards copying a note's key phrase looks good on it and not on questions people write
(issue 23: option notes scored val 0.875 -> 0.825 against a benchmark gain). This split is built
to be unlike training in the ways real questions are:

* **patient-voiced questions**: first person, body sites and conditions in everyday words, a
  question stem that never names the answer (:data:`STEMS`), for the diagnosis, treatment and
  safety-netting structures;
* **clinician vignettes** from the structured builders (never fact recall);
* **reworded options**: every option is replaced by one of the spec's
  ``phrasing.rewordings`` where it has one. Training generation never reads that field, so
  the split's option wording is unseen in training by construction; an item any of whose
  options still appears verbatim in one of its gold fact statements is dropped (counted in the
  events as ``people.verbatim``).

Deterministic for a seed; every disease word comes from the spec. :func:`people_items` is what
``generate_dataset`` writes to ``val_people.jsonl``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

from raresupport.data.vignette import Vignette
from raresupport.generate.grounded import counseling, diagnosis, followup, treatment
from raresupport.generate.grounded.generator import _contraindicated, _to_vignette
from raresupport.generate.grounded.pick import pick_near
from raresupport.generate.grounded.surface import Draft, cap, join, lc
from raresupport.generate.grounded.treatment import draw_adverse_effect, for_site
from raresupport.spec import DiseaseSpec

#: First-person question stems per structure; none names a key.
STEMS: dict[str, list[str]] = {
    "diagnosis": ["What do I have?", "Is there a name for this?",
                  "What condition is this most likely to be?", "What do you think this is?"],
    "cause": ["What could be causing this?", "What do you think is behind it?",
              "What is the most likely explanation?", "What might be going on?"],
    "treatment": ["What should I try next?", "What else could I try?",
                  "What would you suggest now?", "Is there something better I could use?"],
    "side_effect": ["What side effect should I look out for?", "What could it do to me?",
                    "Which side effect is most likely with it?"],
    "worry": ["What change would mean I should see a doctor soon rather than wait?",
              "When should I worry and get checked sooner?",
              "Which new sign should send me back to the doctor early?"],
}
_AGE = ["I'm {age}.", "I'm a {age}-year-old {sex}.", "{age}, {sex}, here.", "I am {age} years old."]
_SINCE = ["for about {n} years", "for {n} years now", "since I was about {onset}"]
_TRIED = ["I've tried {tx} properly and it hasn't helped.",
          "{Tx} didn't work for me, even used the right way.",
          "I already used {tx} for months with no luck."]
_UNTREATED = ["I haven't had any treatment yet.", "I haven't tried anything for it so far.",
              "Nobody has treated it before."]


def reword(rng: random.Random, spec: DiseaseSpec, text: str) -> str:
    """One of the spec's held-out rewordings of ``text`` (case-blind lookup), else ``text``."""
    table = {k.strip().lower(): v for k, v in spec.phrasing.rewordings.items()}
    alts = table.get(text.strip().lower())
    return rng.choice(alts) if alts else text


def _my_sites(
    rng: random.Random, spec: DiseaseSpec, k: int = 1, among: list[str] | None = None
) -> tuple[list[str], str]:
    """Up to ``k`` sites (of ``among``, default all), and how a patient names them: 'my
    armpits and hands'."""
    pool = [s for s in (among or spec.sites) if s in spec.sites]
    if not pool:
        return [], "my " + reword(rng, spec, spec.phrasing.no_site)
    picked = rng.sample(pool, min(k, len(pool)))
    named = [reword(rng, spec, spec.phrasing.site_names.get(s, s)) for s in picked]
    return picked, "my " + " and ".join(named)


def _age(rng: random.Random, spec: DiseaseSpec, adult: bool = False) -> int:
    h = spec.vignette_hints
    return rng.randint(max(h.age_min, 18 if adult else h.age_min), max(h.age_max, 19))


def _intro(rng: random.Random, spec: DiseaseSpec, adult: bool = False, age: int | None = None):
    """'I'm a 34-year-old woman.' (or another first-person opening)."""
    age = _age(rng, spec, adult) if age is None else age
    return rng.choice(_AGE).format(age=age, sex=rng.choice(spec.vignette_hints.sexes))


def _complaint(rng: random.Random, spec: DiseaseSpec, where: str) -> str:
    """'persistent symptoms on my shins': an intensity, the complaint, the sites."""
    ph = spec.phrasing
    return f"{rng.choice(ph.intensity)} {ph.complaint} on {where}"


def my_diagnosis(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """The primary disease described by the patient; the key is its name."""
    if not spec.diagnostic_criteria:
        return None
    crit = spec.diagnostic_criteria[0]
    feats = [reword(rng, spec, f) for f in rng.sample(crit.supporting,
                                                      min(2, len(crit.supporting)))]
    _, where = _my_sites(rng, spec, rng.randint(1, 2))
    age = _age(rng, spec)
    years = rng.randint(1, max(1, min(12, age - 5)))
    since = rng.choice(_SINCE).format(n=years, onset=age - years)
    case = f"{_intro(rng, spec, age=age)} I've had {_complaint(rng, spec, where)} {since}."
    if feats:
        case += f" Also, {lc(join(feats))}."
    pool = [c.name for c in spec.secondary_causes] + [c.name for c in spec.differentials]
    distractors = pick_near(rng, crit.name, pool)
    if distractors is None:
        return None
    return {"case": case, "question": rng.choice(STEMS["diagnosis"]), "key": crit.name,
            "distractors": distractors, "rationale": f"This fits {crit.name}.",
            "fact_ids": crit.fact_ids}  # fmt: skip


def my_cause(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """A secondary cause or a differential in the patient's words; the key is that cause."""
    causes = spec.secondary_causes + spec.differentials
    if len(causes) < 4:
        return None
    cause = rng.choice(causes)
    feats = [reword(rng, spec, f) for f in rng.sample(cause.features,
                                                      min(len(cause.features), 2))]
    months = rng.randint(2, 18)
    ph = spec.phrasing
    lead = ph.new_onset.format(complaint=ph.complaint) if cause in spec.secondary_causes \
        else ph.complaint
    case = (f"{_intro(rng, spec, adult=True)} I've had {lead} for about {months} months. "
            f"Along with it: {lc(join(feats))}.")  # fmt: skip
    pool = [c.name for c in causes if c.id != cause.id]
    pool += [c.name for c in spec.diagnostic_criteria]
    distractors = pick_near(rng, cause.name, pool)
    if distractors is None:
        return None
    return {"case": case, "question": rng.choice(STEMS["cause"]), "key": cause.name,
            "distractors": distractors, "rationale": f"The features point to {cause.name}.",
            "fact_ids": cause.fact_ids}  # fmt: skip


def my_next_treatment(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """What the patient tried at a site; the key is a treatment of the next line there."""
    picked, where = _my_sites(rng, spec)
    if not picked:
        return None
    site, line = picked[0], rng.choice([1, 1, 2, 2, 3])
    keys = for_site(spec, site, line)
    if not keys:
        return None
    key = rng.choice(keys)
    tried = rng.choice(_UNTREATED)
    if line > 1:
        failed = [t for t in spec.treatments if site in t.sites and t.line < line]
        if not failed:
            return None
        names = join([reword(rng, spec, t.name) for t in rng.sample(failed, 1)])
        tried = rng.choice(_TRIED).format(tx=names, Tx=cap(names))
    wrong = [t.name for t in spec.treatments if not (site in t.sites and t.line == line)]
    distractors = pick_near(rng, key.name, wrong)
    if distractors is None:
        return None
    return {"case": f"{_intro(rng, spec)} I get {_complaint(rng, spec, where)}. {tried}",
            "question": rng.choice(STEMS["treatment"]), "key": key.name,
            "distractors": distractors, "rationale": f"{key.name} comes next for this site.",
            "fact_ids": key.fact_ids}  # fmt: skip


def my_side_effect(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """A treatment the patient is starting; the key is one of its adverse effects."""
    drawn = draw_adverse_effect(rng, spec)
    if drawn is None:
        return None
    t, ae, distractors, site = drawn
    start = lc(reword(rng, spec, t.name))
    _, where = _my_sites(rng, spec, among=[site])
    case = (f"{_intro(rng, spec, adult=True)} My doctor wants me to start {start} for the "
            f"{spec.phrasing.complaint} on {where}.")  # fmt: skip
    return {"case": case, "question": rng.choice(STEMS["side_effect"]), "key": ae,
            "distractors": distractors, "rationale": f"{cap(ae)} is known with {t.name}.",
            "fact_ids": t.fact_ids}  # fmt: skip


def my_worry(rng: random.Random, spec: DiseaseSpec) -> Draft | None:
    """Safety-netting asked by the patient; the key is a red flag, distractors ordinary features."""
    crit = spec.diagnostic_criteria[0] if spec.diagnostic_criteria else None
    if not spec.red_flags or crit is None or len(crit.supporting) < 3:
        return None
    flag = rng.choice(spec.red_flags)
    distractors = pick_near(rng, flag.finding, crit.supporting)
    if distractors is None:
        return None
    _, where = _my_sites(rng, spec)
    return {"case": f"{_intro(rng, spec)} I get {_complaint(rng, spec, where)}, and I've been told "
            f"it is {lc(reword(rng, spec, crit.name))}.",
            "question": rng.choice(STEMS["worry"]), "key": flag.finding,
            "distractors": distractors, "rationale": f"{cap(flag.finding)} needs review.",
            "fact_ids": flag.fact_ids}  # fmt: skip


#: (task, voice, builder): patient-voiced structures and clinician vignettes (no fact recall)
BUILDERS: list[tuple[str, str, Callable]] = [
    ("diagnosis", "patient", my_diagnosis), ("diagnosis", "patient", my_cause),
    ("diagnosis", "clinician", diagnosis.primary_case),
    ("diagnosis", "clinician", diagnosis.cause_case),
    ("diagnosis", "clinician", diagnosis.red_flag_feature),
    ("treatment", "patient", my_next_treatment), ("treatment", "patient", my_side_effect),
    ("treatment", "clinician", treatment.ladder_case),
    ("treatment", "clinician", treatment.adverse_effect_case),
    ("treatment", "clinician", followup.treatment_failure),
    ("counseling", "patient", my_worry),
    ("counseling", "clinician", counseling.counseling_case),
    ("counseling", "clinician", counseling.seek_help_case),
]


def verbatim_options(spec: DiseaseSpec, options: list[str], fact_ids: list[str]) -> list[str]:
    """The options whose text appears (case-blind) in one of the gold fact statements."""
    gold = [spec.fact(f).statement.lower() for f in fact_ids]
    return [o for o in options if any(o.strip().lower() in g for g in gold)]


def people_items(spec: DiseaseSpec, n: int, seed: int) -> tuple[list[Vignette], Counter]:
    """``n`` people-split items, spread evenly over tasks, and what building them counted.

    Items are tagged ``people`` and ``voice:patient`` or ``voice:clinician``. Fewer than ``n``
    come back when the spec's structures cannot make that many distinct items.
    """
    rng = random.Random(f"{spec.id}:people:{seed}")
    tasks = sorted({t for t, _, _ in BUILDERS})
    out: list[Vignette] = []
    seen: set[str] = set()
    counts: Counter = Counter()
    attempts = 0
    while len(out) < n and attempts < n * 50:
        attempts += 1
        task = tasks[len(out) % len(tasks)]
        _, voice, build = rng.choice([b for b in BUILDERS if b[0] == task])
        draft = build(rng, spec)
        if draft is None or _contraindicated(spec, draft):
            counts["people.unbuildable"] += 1
            continue
        draft = {**draft, "key": reword(rng, spec, draft["key"]),
                 "distractors": [reword(rng, spec, d) for d in draft["distractors"][:3]],
                 "tags": [*draft.get("tags", []), "people", f"voice:{voice}"]}  # fmt: skip
        texts = [draft["key"], *draft["distractors"]]
        if len({t.lower() for t in texts}) < 4:
            counts["people.same_option"] += 1
            continue
        if verbatim_options(spec, texts, draft["fact_ids"]):
            counts["people.verbatim"] += 1
            continue
        key = draft["case"] + draft["question"] + draft["key"]
        if key in seen:
            counts["people.duplicate"] += 1
            continue
        seen.add(key)
        counts[f"people.{voice}"] += 1
        vignette = _to_vignette(spec, task, draft, rng, seed, len(out))
        out.append(vignette.model_copy(update={"id": vignette.id.replace(
            f"-{task[:3]}-", f"-{task[:3]}-people-", 1)}))
    return out, counts

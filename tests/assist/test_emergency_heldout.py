"""The emergency layer on wording written apart from its patterns (held out).

These cases were written once, before they were run, deliberately unlike the patterns and the
generator's parts (other words for the same emergencies, indirect ways of saying them). The
patterns were not changed after seeing which of them fire: the thresholds below record what
the layer does today (docs/safety.md gives the figures), so they catch a regression and show
how far the rule layer is from what people write, not a goal it was tuned to.
"""

from __future__ import annotations

from raresupport.assist.emergency import match_emergencies

EMERGENCIES = [
    ("acute-coronary-syndrome", "My chest feels like it's being squeezed in a vice and the ache "
     "has moved into my shoulder and jaw."),
    ("acute-coronary-syndrome", "Dad keeps rubbing his chest, he's grey and sweaty and says it "
     "feels like indigestion but worse than ever."),
    ("acute-coronary-syndrome", "He collapsed clutching his chest and isn't responding."),
    ("stroke", "My wife's words are coming out all jumbled and her right hand won't grip her "
     "cup."),
    ("stroke", "Half of my grandad's face isn't moving when he tries to smile."),
    ("suicide-self-harm", "Honestly I've been stockpiling my pills and I think tonight is the "
     "night."),
    ("suicide-self-harm", "I don't see the point in being here anymore and I've written goodbye "
     "letters."),
    ("suicide-self-harm", "I keep scratching my arms with a razor to feel something."),
    ("hypoglycaemia", "My type 1 son is trembling, pouring with sweat and talking nonsense "
     "after football."),
    ("hypoglycaemia", "Mum injected her insulin but skipped lunch and now she's vague and "
     "sweaty."),
    ("anaphylaxis", "After the wasp got me my face blew up and my voice has gone hoarse and "
     "croaky."),
    ("anaphylaxis", "I ate a cashew by mistake and my mouth is tingling and I feel like my "
     "airway is narrowing."),
    ("sepsis-meningitis", "My baby is floppy, burning hot and has little purple dots that stay "
     "when I press a glass on them."),
    ("sepsis-meningitis", "My husband has a temperature, his knees are blotchy and he's not "
     "making any sense."),
    ("severe-breathing-difficulty", "My daughter is wheezing so hard she can only say one word "
     "at a time."),
    ("severe-breathing-difficulty", "I'm having to sit up and fight for every breath, my "
     "inhaler isn't touching it."),
]  # fmt: skip

ORDINARY = [
    "I used to get chest pains from acid reflux but they stopped after I changed my diet.",
    "Could my sweating be linked to the mild stroke my father had in 2015?",
    "My diabetes is well controlled; why do my feet still sweat so much?",
    "I'm sick of sweating, it's killing me socially.",
    "The Botox stung a bit but I had no swelling or breathing trouble at all.",
    "My anxiety makes my chest tight before exams, and my palms drip.",
    "I'm worried I'll die of embarrassment at my wedding because of my sweaty hands.",
    "Is it dangerous to take propranolol if I have asthma?",
    "I had anaphylaxis to penicillin as a kid; is glycopyrrolate OK?",
    "My son had meningitis when he was a baby and now sweats a lot, is that related?",
    "Does iontophoresis make your arm go numb?",
    "I'm shaky after coffee and sweat a lot, should I cut down?",
    "What should I do if someone has a heart attack at work?",
    "I take insulin and sweat a lot at night; could it be the hyperhidrosis?",
]


def heldout_figures() -> dict[str, float]:
    """Recall (the right kind fires) and false-alarm rate (anything fires) on the cases."""
    hits = [kind in {h.id for h in match_emergencies(text)} for kind, text in EMERGENCIES]
    alarms = [bool(match_emergencies(text)) for text in ORDINARY]
    return {"recall": sum(hits) / len(hits), "false_alarm": sum(alarms) / len(alarms)}


#: Measured on the first run of these cases (2 of 16 recalled, 0 of 14 false alarms).
RECORDED = {"recall": 2 / 16, "false_alarm": 0.0}


def test_heldout_figures_do_not_fall_below_the_recorded_ones() -> None:
    figures = heldout_figures()
    assert figures["recall"] >= RECORDED["recall"]
    assert figures["false_alarm"] <= RECORDED["false_alarm"]


if __name__ == "__main__":  # print what fires and what does not
    for kind, text in EMERGENCIES:
        fired = [h.id for h in match_emergencies(text)]
        print("HIT " if kind in fired else "MISS", kind, "|", text, fired)
    for text in ORDINARY:
        fired = [h.id for h in match_emergencies(text)]
        print("FA  " if fired else "ok  ", "|", text, fired)
    print(heldout_figures())

"""The emergency layer on wording written apart from its patterns (held out).

Set 1 (EMERGENCIES, ORDINARY) was written before it was run, deliberately unlike the patterns
and the generator's parts. Its first run recalled 2 of 16. The patterns were then widened with
the symptom lists of their sources (NHS, NICE pages named in emergencies.yaml), *after* seeing
set 1's misses, so set 1's figure since then is not a held-out figure. Set 2 (EMERGENCIES_2,
ORDINARY_2) was written before that widening was run against anything and run once after it
(same author, same sources in mind: it still flatters the rules). The thresholds record what
the layer does today (docs/safety.md gives the figures): they catch a regression and show how
far the rule layer is from what people write, not a goal it was tuned to.
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


EMERGENCIES_2 = [
    ("acute-coronary-syndrome",
     "It's like a tight band round my ribs and my left shoulder "
     "aches, and I'm wet through with sweat."),
    ("acute-coronary-syndrome",
     "My grandad says his chest is burning and heavy, he's gone grey"
     " and won't sit still."),
    ("stroke",
     "Mum suddenly can't find any of her words and her left leg "
     "keeps giving way."),
    ("stroke",
     "My husband's smile is crooked and his arm flopped down when he"
     " tried to hold it up."),
    ("suicide-self-harm",
     "I've planned how I'd do it and I've been giving my things "
     "away."),
    ("suicide-self-harm",
     "Everyone would be happier if I just disappeared, I'm tired of "
     "existing."),
    ("hypoglycaemia",
     "My diabetic partner is acting drunk and sweating, but he "
     "hasn't had a drink."),
    ("hypoglycaemia",
     "I injected my usual insulin, didn't eat, and now my vision is "
     "blurry and I'm trembling."),
    ("anaphylaxis",
     "My lips and eyes are puffing up after the prawns and my "
     "breathing sounds noisy."),
    ("anaphylaxis",
     "I took the new antibiotic and I'm covered in a raised itchy "
     "rash and can hardly swallow."),
    ("sepsis-meningitis",
     "My toddler is burning up, really floppy and won't look at the "
     "light."),
    ("sepsis-meningitis",
     "Since the operation I've had a fever, my skin looks blotchy "
     "and grey and I haven't peed all day."),
    ("severe-breathing-difficulty",
     "My asthma is awful, my inhaler isn't helping and I can only "
     "say a few words."),
    ("severe-breathing-difficulty",
     "My baby's ribs are sucking in with every breath and she's "
     "breathing really fast."),
]

ORDINARY_2 = [
    "My left shoulder aches after tennis and I sweat a lot, is that normal?",
    "Can oxybutynin give me blurry vision?",
    "I feel like giving up on treatments because nothing works for my sweaty feet.",
    "My toddler's hands are always clammy, should I worry?",
    "I've never had a reaction to antibiotics, can I try a new one for my skin "
    "infection?",
    "Is it safe to have Botox injections if I have asthma?",
    "My diabetes nurse says my sugar is fine; why am I still sweating so much?",
    "I'm tired of hiding my sweat patches at work.",
    "Could the fever I had last month have triggered my hyperhidrosis?",
    "My husband had a heart attack in 2010; can he take propranolol for sweating?",
]


def heldout_figures(emergencies=EMERGENCIES, ordinary=ORDINARY) -> dict[str, float]:
    """Recall (the right kind fires) and false-alarm rate (anything fires) on the cases."""
    hits = [kind in {h.id for h in match_emergencies(text)} for kind, text in emergencies]
    alarms = [bool(match_emergencies(text)) for text in ordinary]
    return {"recall": sum(hits) / len(hits), "false_alarm": sum(alarms) / len(alarms)}


#: Set 1: first run 2/16 recalled (0/14 false alarms); 11/16 after the widening it prompted.
#: Set 2: run once after the widening: 9/14 recalled, 0/10 false alarms.
RECORDED = {1: {"recall": 11 / 16, "false_alarm": 0.0}, 2: {"recall": 9 / 14, "false_alarm": 0.0}}


def test_heldout_figures_do_not_fall_below_the_recorded_ones() -> None:
    for n, cases in ((1, (EMERGENCIES, ORDINARY)), (2, (EMERGENCIES_2, ORDINARY_2))):
        figures = heldout_figures(*cases)
        assert figures["recall"] >= RECORDED[n]["recall"], n
        assert figures["false_alarm"] <= RECORDED[n]["false_alarm"], n


if __name__ == "__main__":  # print what fires and what does not
    for kind, text in [*EMERGENCIES, *EMERGENCIES_2]:
        fired = [h.id for h in match_emergencies(text)]
        print("HIT " if kind in fired else "MISS", kind, "|", text, fired)
    for text in [*ORDINARY, *ORDINARY_2]:
        fired = [h.id for h in match_emergencies(text)]
        print("FA  " if fired else "ok  ", "|", text, fired)
    print(heldout_figures(), heldout_figures(EMERGENCIES_2, ORDINARY_2))

"""Built-in retriever ``bm25``: Okapi BM25 (the ``bm25s`` library) over spec passages.

Text is lower-cased, English stop words are dropped and words are stemmed with PyStemmer's
English (Porter2) stemmer, so "sweats", "sweating" and "sweated" meet. Each passage is indexed
together with its kind and the words of its fact ids (``tx.alcl.first-line`` -> "tx alcl first
line"), which lets a query naming a treatment class or a red flag find the structured entry.

Relevance cut-off. BM25 alone cannot tell an off-topic question: inside one disease's passages
the disease's own words ("sweat") are everywhere and so have the *lowest* weights, while a
general-medicine question matches generic clinical words ("first-line treatment", "heart rate")
with high scores. So a query gets notes only when it names the disease: at least ``cutoff`` of
its words are *anchor* words - the head word of the disease name and each synonym, the body
sites, the long (>= 8 letters, not "-ing"/"-ion") words of treatment names (drug and
procedure names), and the spec's patient words (``lay_terms``). Stems
match when one is a prefix of the other and, when the query's is the shorter, by at most two
letters ("sweaty" -> "sweati" ~ "sweat", "axilla" ~ "axillari"; "under" !~ "underarm"). How
the rule and its value were chosen on generated items is in docs/retrieval.md.

Query expansion. A question written in a patient's words ("my armpits drip") shares few words
with passages written in the spec's ("axillary"); each patient word of ``lay_terms`` found in a
query adds the spec words it stands for to the query before scoring.
"""

from __future__ import annotations

import re
from typing import Any

from raresupport.retrieve.base import Hit, retrievers
from raresupport.retrieve.config import RetrievalConfig
from raresupport.retrieve.passages import Passage, build_passages
from raresupport.spec.models import DiseaseSpec


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def anchor_words(spec: DiseaseSpec) -> list[str]:
    """Words that mark a question as being about ``spec``'s disease (before stemming)."""
    words = [n.split()[-1] for n in (spec.name, *spec.synonyms) if n.split()]
    words += [w for site in spec.sites for w in site.split()]
    words += [
        w for t in spec.treatments for w in re.findall(r"[A-Za-z]{8,}", t.name)
        if not w.lower().endswith(("ing", "ion", "ions"))  # "injections", "triggering"
    ]  # fmt: skip
    words += [w for lay in spec.lay_terms.values() for w in lay]
    return list(dict.fromkeys(w.lower() for w in words))


def _index_text(p: Passage) -> str:
    ids = " ".join(re.sub(r"[._-]+", " ", f) for f in p.fact_ids)
    return f"{p.kind.replace('_', ' ')} {p.text} {ids}"


class BM25Retriever:
    """BM25 over the passages of one spec.

    Args:
        spec: the disease spec to index.
        cutoff: minimum number of distinct anchor words (:func:`anchor_words`) the query must
            contain to get any note; 0 turns the gate off (every hit with a positive score);
            None = the RetrievalConfig default.
        passages: index these instead of ``build_passages(spec)`` (for tests and ablations).

    Building takes a few milliseconds for a spec of a few hundred passages.
    """

    def __init__(
        self, spec: DiseaseSpec, cutoff: float | None = None, passages: list[Passage] | None = None
    ) -> None:
        import bm25s

        default = RetrievalConfig.model_fields["cutoff"].default
        self.cutoff = float(default if cutoff is None else cutoff)
        self.passages = list(passages) if passages is not None else build_passages(spec)
        self._stem = _stemmer()
        self.anchors = sorted(set(self._tokens([" ".join(anchor_words(spec))])[0]))
        #: stemmed patient word -> stemmed spec words it stands for (query expansion)
        self.expansions: dict[str, list[str]] = {}
        for term, words in spec.lay_terms.items():
            stands_for = self._tokens([term])[0]
            for word in self._tokens(words):
                if word:
                    self.expansions.setdefault(word[0], []).extend(stands_for)
        corpus = self._tokens([_index_text(p) for p in self.passages])
        self._index = bm25s.BM25()
        self._index.index(corpus, show_progress=False)
        self._vocab = set(self._index.vocab_dict)

    def _tokens(self, texts: list[str]) -> list[list[str]]:
        import bm25s

        return bm25s.tokenize(
            texts, stopwords="en", stemmer=self._stem, return_ids=False, show_progress=False
        )

    def relevance(self, query: str) -> int:
        """How many distinct anchor words ``query`` contains (the gate's measure)."""
        terms = set(self._tokens([query])[0])
        return sum(
            1 for a in self.anchors
            if any(t.startswith(a) or (len(t) >= 4 and a.startswith(t) and len(a) - len(t) <= 2)
                   for t in terms)
        )  # fmt: skip

    def scores(self, query: str) -> Any:
        """BM25 score of every passage for ``query``: float array of shape ``[n_passages]``."""
        import numpy as np

        words = self._tokens([query])[0]
        words += [w for t in words for w in self.expansions.get(t, ())]
        terms = [t for t in dict.fromkeys(words) if t in self._vocab]
        if not terms:
            return np.zeros(len(self.passages), dtype="float32")
        return self._index.get_scores(terms)

    def retrieve(self, query: str, k: int = 3) -> list[Hit]:
        """Up to ``k`` passages, best first; ``[]`` when the query fails the relevance gate."""
        import numpy as np

        if k <= 0 or (self.cutoff > 0 and self.relevance(query) < self.cutoff):
            return []
        scores = self.scores(query)
        order = np.argsort(-scores, kind="stable")[:k]
        return [Hit(passage=self.passages[i], score=float(scores[i])) for i in order
                if scores[i] > 0]  # fmt: skip


@retrievers.register("bm25")
def bm25(spec: DiseaseSpec, **options: Any) -> BM25Retriever:
    """Factory for the built-in ``bm25`` retriever (options: ``cutoff``)."""
    return BM25Retriever(spec, **options)

"""Retrieval of spec passages: the notes shown to the model in training and at answer time.

A retriever is a plug-in (registry ``retrievers``; built-in ``bm25``) built from a disease spec;
``load_retriever(spec)`` returns one cached by the spec's hash. ``notes_for`` and
``raft_notes`` turn hits into the notes block that :func:`raresupport.chat.mcq_messages` renders.
"""

from raresupport.retrieve.base import Hit, Retriever, load_retriever, retrievers, spec_hash
from raresupport.retrieve.config import RetrievalConfig
from raresupport.retrieve.passages import Passage, build_passages

__all__ = [
    "Hit", "Passage", "RetrievalConfig", "Retriever", "build_passages", "load_retriever",
    "retrievers", "spec_hash",
]

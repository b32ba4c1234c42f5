"""The support assistant: red-flag rules, retrieved spec passages, citation check; chat, serve."""

from raresupport.assist.assistant import Assistant, AssistantReply, Quote
from raresupport.assist.backend import ChatBackend, HFBackend, backends
from raresupport.assist.citations import CitationCheck, check_citations
from raresupport.assist.rules import RedFlagHit, match_red_flags

__all__ = [
    "Assistant",
    "AssistantReply",
    "ChatBackend",
    "CitationCheck",
    "HFBackend",
    "Quote",
    "RedFlagHit",
    "backends",
    "check_citations",
    "match_red_flags",
]

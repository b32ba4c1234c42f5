"""The support assistant: emergency layer, red-flag rules, retrieved spec passages, citation
check; chat, serve."""

from raresupport.assist.assistant import Assistant, AssistantReply, Quote
from raresupport.assist.backend import ChatBackend, HFBackend, backends
from raresupport.assist.citations import CitationCheck, check_citations
from raresupport.assist.emergency import (
    EmergencyHit,
    emergency_block,
    emergency_kinds,
    match_emergencies,
)
from raresupport.assist.rules import RedFlagHit, match_red_flags

__all__ = [
    "Assistant",
    "AssistantReply",
    "ChatBackend",
    "CitationCheck",
    "EmergencyHit",
    "HFBackend",
    "Quote",
    "RedFlagHit",
    "backends",
    "check_citations",
    "emergency_block",
    "emergency_kinds",
    "match_emergencies",
    "match_red_flags",
]

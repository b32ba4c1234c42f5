"""Test helpers shared across test folders (a local chat-completions server, ...)."""

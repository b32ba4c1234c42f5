"""Model backends (a local HF model, an OpenAI-compatible endpoint) and model short names."""

from raresupport.models.backends import Endpoint, LocalModel
from raresupport.models.base import DEFAULT_MODEL, ModelSource, models

__all__ = ["DEFAULT_MODEL", "Endpoint", "LocalModel", "ModelSource", "models"]

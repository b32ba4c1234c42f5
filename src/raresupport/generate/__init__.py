"""Generation: plug-ins that write vignettes (teacher, grounded), validation, dataset output."""

from raresupport.generate.base import GenerationResult, Generator, Reject, generators

__all__ = ["GenerationResult", "Generator", "Reject", "generators", "get_generator"]


def get_generator(name: str, **config):
    """Instantiate a registered generator; built-ins are imported on first use."""
    import raresupport.generate.grounded  # noqa: F401  (registers "grounded")

    if name == "openai":
        import raresupport.generate.teacher  # noqa: F401  (registers "openai")
    return generators.get(name)(**config)

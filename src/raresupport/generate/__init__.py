"""Generation: plug-ins that write vignettes (teacher, grounded), validation, dataset output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raresupport.generate.base import GenerationResult, Generator, Reject, generators

__all__ = ["GenerationResult", "Generator", "Reject", "generators", "get_generator"]


def get_generator(
    name: str, options: dict[str, Any] | None = None, *, cache_dir: Path | None = None,
    **fields: Any,
) -> Generator:
    """Build the registered generator ``name`` from its options.

    Args:
        options: fields of the generator's ``config_class``; a generator without one takes none.
        fields: more options as keywords (``get_generator("grounded", claim_share=0.2)``).
        cache_dir: default for a ``cache_dir`` field the options leave unset (a run keeps its
            reply cache inside its own folder).

    Raises:
        RegistryError: unknown generator.
        ConfigError: an option the generator does not take, or an invalid value.
    """
    from pydantic import ValidationError

    from raresupport.errors import ConfigError, describe_validation_error

    cls = generators.get(name)
    options = {k: v for k, v in {**(options or {}), **fields}.items() if v is not None}
    config_class = getattr(cls, "config_class", None)
    if config_class is None:
        if options:
            raise ConfigError(
                f"generator {name!r} takes no options (got {', '.join(sorted(options))})"
            )
        return cls()
    fields = config_class.model_fields
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise ConfigError(
            f"generator {name!r} has no option {', '.join(unknown)} "
            f"(its options: {', '.join(fields)})"
        )
    if cache_dir is not None and "cache_dir" in fields and options.get("cache_dir") is None:
        options["cache_dir"] = cache_dir
    try:
        return cls(config_class.model_validate(options))
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(f"generator {name!r}", exc)) from None

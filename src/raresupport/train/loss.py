"""The training loss: summed cross-entropy over answer tokens only.

The LM head (a 49k x 576 matmul per token for SmolLM2, plus the softmax) runs only at the few
answer positions instead of every position (``answer_only_head``); this is checked once against
the full-logits loss at start-up and switched off when they disagree (e.g. soft-capped logits).
The model gets no attention mask: with right padding a causal model's real tokens never see
the pads, and without a mask SDPA takes its fast ``is_causal`` kernel.

When LoRA adapts only the top layers, the embeddings and the layers below them are frozen and
give every example the same output in every step, so :class:`FrozenPrefix` computes that output
once per example before training (in inference mode, in large length-sorted batches) and every
step runs only the adapted layers (``TrainConfig.cache_frozen_layers``; checked at start-up
against the whole decoder).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext

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


def _random(module: nn.Module) -> bool:
    """Whether ``module`` draws random numbers in training mode (dropout with p > 0)."""
    if any(isinstance(m, nn.Dropout) and m.p > 0 for m in module.modules()):
        return True
    return any(float(getattr(m, "attention_dropout", 0.0) or 0.0) > 0 for m in module.modules())


def frozen_depth(decoder: nn.Module) -> int:
    """How many bottom decoder layers (with the embeddings) are frozen and deterministic.

    0 when the embeddings train, when a bottom layer has dropout (its output would differ from
    step to step), or when the decoder has no ``layers``/``norm`` to split.
    """
    layers = getattr(decoder, "layers", None)
    if layers is None or not hasattr(decoder, "norm"):
        return 0
    if any(p.requires_grad for p in decoder.get_input_embeddings().parameters()):
        return 0
    depth = 0
    for layer in layers:
        if any(p.requires_grad for p in layer.parameters()) or _random(layer):
            break
        depth += 1
    return depth if depth < len(layers) else 0


class FrozenPrefix:
    """Output of the frozen bottom ``depth`` decoder layers for every training example.

    Computed once by :meth:`fill`, so a step runs only the adapted layers above ``depth``: with
    LoRA on the top 8 of SmolLM2's 30 layers a step costs about half of the whole decoder's.
    Memory: one float32 tensor ``(tokens, hidden)`` per example, i.e. 4 bytes x training tokens
    x hidden size (the reference run's 1200 SmolLM2 examples of ~190 tokens: ~0.5 GB).
    """

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.cache: dict[int, torch.Tensor] = {}

    @torch.inference_mode()
    def fill(self, decoder: nn.Module, examples: Sequence[Sequence[int]], *, pad: int,
             device: torch.device, bf16: bool = False, max_tokens: int = 8192) -> None:
        """Run the frozen layers once over ``examples`` (token id lists), by length in batches
        of at most ``max_tokens`` padded tokens, under the same autocast as training."""
        order = sorted((i for i in range(len(examples)) if i not in self.cache),
                       key=lambda i: -len(examples[i]))  # fmt: skip
        cast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()
        start = 0
        while start < len(order):
            rows = max(1, max_tokens // max(1, len(examples[order[start]])))
            batch = order[start : start + rows]
            start += len(batch)
            width = len(examples[batch[0]])
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            for row, i in enumerate(batch):
                ids[row, : len(examples[i])] = torch.tensor(list(examples[i]))
            with cast, _only_layers(decoder, slice(0, self.depth), norm=False):
                out = decoder(input_ids=ids.to(device), use_cache=False).last_hidden_state
            for row, i in enumerate(batch):
                self.cache[i] = out[row, : len(examples[i])].clone()

    def forward(self, decoder: nn.Module, index: torch.Tensor, width: int) -> torch.Tensor:
        """Last hidden state ``(batch, width, hidden)`` of the right-padded examples ``index``,
        running only the layers above ``depth``."""
        rows = [self.cache[int(i)] for i in index]
        hidden = torch.stack([nn.functional.pad(r, (0, 0, 0, width - r.shape[0])) for r in rows])
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
        ``index`` (``(batch,)``, example numbers) reads the frozen layers' output from
        :class:`FrozenPrefix` when one is set."""
        targets = labels[:, 1:]
        keep = targets != IGNORE_INDEX
        if self.answer_only_head:
            causal = self._causal_lm()
            decoder = causal.get_decoder()
            # right padding + causal attention: real tokens never attend to the pads, so no mask
            if self.prefix is not None and index is not None:
                hidden = self.prefix.forward(decoder, index, input_ids.shape[1])
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
def frozen_prefix_for(model: nn.Module, batch: dict[str, torch.Tensor], pad: int,
                      tol: float = 1e-3) -> FrozenPrefix | None:
    """An empty :class:`FrozenPrefix` for ``model`` when its bottom layers are frozen and the
    split path gives the whole-decoder loss on ``batch`` (it may not, e.g. for decoders that
    rescale their input embeddings or type their layers by index); None otherwise."""
    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    decoder = causal.get_decoder()
    depth = frozen_depth(decoder)
    if depth == 0:
        return None
    was_training = model.training
    model.eval()
    try:
        probe = FrozenPrefix(depth)
        seqs = [row[: int(n)].tolist() for row, n in zip(batch["input_ids"],
                                                          batch["attention_mask"].sum(-1))]
        probe.fill(decoder, seqs, pad=pad, device=batch["input_ids"].device)
        index = torch.arange(len(seqs))
        split, n = AnswerLoss(model, True, probe)(**batch, index=index)
        whole, _ = AnswerLoss(model, True)(**batch)
    except (TypeError, ValueError, RuntimeError, AttributeError, IndexError):
        return None
    finally:
        model.train(was_training)
    split, whole = split.item() / max(int(n), 1), whole.item() / max(int(n), 1)
    return FrozenPrefix(depth) if abs(split - whole) <= tol * max(1.0, abs(whole)) else None

"""The training loss: summed cross-entropy over answer tokens only.

The LM head (a 49k x 576 matmul per token for SmolLM2, plus the softmax) runs only at the few
answer positions instead of every position (``answer_only_head``); this is checked once against
the full-logits loss at start-up and switched off when they disagree (e.g. soft-capped logits).
The model gets no attention mask: with right padding a causal model's real tokens never see
the pads, and without a mask SDPA takes its fast ``is_causal`` kernel.
"""

from __future__ import annotations

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


class AnswerLoss(nn.Module):
    """Summed cross-entropy over answer tokens, and their count.

    Wrapping the loss in a module makes DDP see one forward per micro-batch even though the
    answer-only path calls the decoder and the LM head separately.
    """

    def __init__(self, model: nn.Module, answer_only_head: bool = True) -> None:
        super().__init__()
        self.model = model
        self.answer_only_head = answer_only_head

    def _causal_lm(self) -> nn.Module:
        get = getattr(self.model, "get_base_model", None)
        return get() if get else self.model

    def forward(
        self, input_ids: torch.Tensor, labels: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        targets = labels[:, 1:]
        keep = targets != IGNORE_INDEX
        if self.answer_only_head:
            causal = self._causal_lm()
            # right padding + causal attention: real tokens never attend to the pads, so no mask
            hidden = causal.get_decoder()(input_ids=input_ids, use_cache=False).last_hidden_state
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

"""LoRA SFT of a causal LM on vignettes (loss on answer tokens only).

``train_lora`` lives in :mod:`raresupport.train.lora`, imported on use so that importing this
package does not pull in torch.
"""

from raresupport.train.config import TrainConfig

__all__ = ["TrainConfig"]

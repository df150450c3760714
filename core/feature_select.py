"""Which vision features a multimodal model uses: the layer indices (one convention) and the
tokens each image or frame keeps (the CLS token rule). Torch-free; the one place these rules
are written (the resolver checks configs with it, towers index with it, the builder and the
processor count placeholder tokens with it)."""
from __future__ import annotations

#: ``default`` drops a CLS token, ``full`` keeps it (LLaVA's ``vision_feature_select_strategy``).
STRATEGIES = ("default", "full")


def layer_index(layer: int, num_layers: int) -> int:
    """A ``hidden_states`` layer index as 0..num_layers: 0 is the embedding output,
    ``num_layers`` the last block's, negatives count from the end (-1 = last).
    Raises ValueError naming the valid range."""
    index = layer + num_layers + 1 if layer < 0 else layer
    if not 0 <= index <= num_layers:
        raise ValueError(f"layer {layer} does not exist; the vision encoder has {num_layers} layers "
                         f"(valid: {-(num_layers + 1)}..{num_layers})")
    return index


def keeps_cls(strategy: str, has_cls_token: bool) -> bool:
    """Whether the features of a tower with/without a CLS token keep it under ``strategy``."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown feature select strategy {strategy!r}; use 'default' or 'full'")
    return has_cls_token and strategy == "full"


def drops_cls(strategy: str, has_cls_token: bool) -> bool:
    """Whether position 0 (the CLS token) must be cut from the tower's hidden states."""
    return has_cls_token and not keeps_cls(strategy, has_cls_token)


def tokens_per_image(patches: int, has_cls_token: bool, strategy: str) -> int:
    """Vision tokens one image (or frame) yields before the projector: its patches, plus the
    CLS token when kept."""
    return patches + (1 if keeps_cls(strategy, has_cls_token) else 0)

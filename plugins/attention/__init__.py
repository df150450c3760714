"""Built-in attention backends: ``eager`` (plain math, the reference), ``sdpa``
(torch scaled_dot_product_attention, the default) and ``flash_attention_2`` (flash-attn).

All follow :class:`mmplug.core.interfaces.AttentionBackend`: q (B,H,Sq,Dh), k/v
(B,Hkv,Skv,Dh) -> (B,H,Sq,Dh). This module registers lazy references only (no torch).
"""
from mmplug.registry import hookimpl

BACKENDS = {
    "eager": ("mmplug.plugins.attention.eager:build_eager", "plain tensor math; the numerical reference"),
    "sdpa": ("mmplug.plugins.attention.sdpa:build_sdpa", "torch scaled_dot_product_attention (default)"),
    "flash_attention_2": ("mmplug.plugins.attention.flash:build_flash_attention_2",
                          "flash-attn 2 kernels; CUDA, fp16/bf16, key-padding masks"),
}


@hookimpl
def mmplug_register_parts(register):
    for name, (factory, summary) in BACKENDS.items():
        register("attention", name, factory, summary=summary, default=name == "sdpa")

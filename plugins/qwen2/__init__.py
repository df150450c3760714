"""Built-in decoder ``qwen2`` (Qwen2ForCausalLM): the Llama decoder module with q/k/v biases
and Qwen2's per-layer sliding windows, driven by its options. Token embeddings (B,S,D) ->
hidden states (B,S,D) -> logits (B,S,vocab).

Registers lazy references only (importing this module never imports torch).
"""
from mmplug.registry import hookimpl


@hookimpl
def mmplug_register_parts(register):
    register("language_model", "qwen2", "mmplug.plugins.language.decoder:build_decoder",
             options="mmplug.plugins.qwen2.options:Qwen2Options",
             hf_mapping="mmplug.plugins.qwen2.options:QWEN2",
             summary="Qwen2 decoder: Llama blocks with q/k/v biases, per-layer sliding windows, tied embeddings")

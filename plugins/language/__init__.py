"""Built-in decoders ``llama`` and ``mistral`` (one implementation; Mistral adds a sliding
window): token embeddings (B,S,D) -> hidden states (B,S,D) -> logits (B,S,vocab).

Registers lazy references only (importing this module never imports torch).
"""
from mmplug.registry import hookimpl


@hookimpl
def mmplug_register_parts(register):
    register("language_model", "llama", "mmplug.plugins.language.decoder:build_decoder",
             options="mmplug.plugins.language.options:LlamaOptions",
             hf_mapping="mmplug.plugins.language.options:LLAMA",
             summary="Llama decoder: RMSNorm, RoPE (scalings), SwiGLU, grouped-query attention")
    register("language_model", "mistral", "mmplug.plugins.language.decoder:build_decoder",
             options="mmplug.plugins.language.options:MistralOptions",
             hf_mapping="mmplug.plugins.language.options:MISTRAL",
             summary="Mistral decoder: the Llama decoder with a sliding attention window")

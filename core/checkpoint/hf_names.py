"""Hugging Face config vocabulary: how VideoLlava/Llama/Mistral/CLIP ``config.json`` keys map to
mmplug options, and the defaults transformers 4.56.2 applies to keys a file leaves out.

Pure data (torch-free). Read from the transformers sources, never imported at run time.
"""
from __future__ import annotations

#: Defaults of LlamaConfig / MistralConfig (transformers 4.56.2), in HF key names.
LLAMA_DEFAULTS = {
    "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": None, "hidden_act": "silu", "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-6, "tie_word_embeddings": False, "rope_theta": 10000.0, "rope_scaling": None,
    "attention_bias": False, "mlp_bias": False, "head_dim": None,
}
MISTRAL_DEFAULTS = {
    "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": None, "hidden_act": "silu",
    "max_position_embeddings": 4096 * 32, "rms_norm_eps": 1e-6, "tie_word_embeddings": False,
    "rope_theta": 10000.0, "sliding_window": 4096,
}
#: CLIPVisionConfig defaults, and the tower VideoLlavaConfig builds when vision_config is absent.
CLIP_DEFAULTS = {
    "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
    "num_channels": 3, "image_size": 224, "patch_size": 32, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
}
VIDEO_LLAVA_TOWER = {**CLIP_DEFAULTS, "intermediate_size": 4096, "hidden_size": 1024, "patch_size": 14,
                     "num_hidden_layers": 24, "num_attention_heads": 16}
#: VideoLlavaConfig top-level defaults.
VIDEO_LLAVA_DEFAULTS = {
    "image_token_index": 32000, "video_token_index": 32001, "projector_hidden_act": "gelu",
    "vision_feature_select_strategy": "default", "vision_feature_layer": -2, "multimodal_projector_bias": True,
    "pad_token_id": None,
}

#: text_config model_type -> (mmplug language plugin, defaults).
TEXT_MODELS = {"llama": ("llama", LLAMA_DEFAULTS), "mistral": ("mistral", MISTRAL_DEFAULTS)}
#: vision_config model_type -> (mmplug vision plugin, defaults).
VISION_MODELS = {"clip_vision_model": ("clip", CLIP_DEFAULTS)}

#: HF key -> mmplug option, where the names differ.
RENAMED = {"num_hidden_layers": "num_layers", "num_attention_heads": "num_heads",
           "num_key_value_heads": "num_kv_heads"}

#: Keys every PretrainedConfig may carry that describe no weights (file metadata, training,
#: generation settings, task heads). Read and deliberately unused.
GENERIC_KEYS = frozenset({
    "_name_or_path", "_commit_hash", "_attn_implementation_autoset", "architectures", "model_type", "torch_dtype",
    "dtype", "transformers_version", "use_cache", "initializer_range", "initializer_factor", "attention_dropout",
    "dropout", "pretraining_tp", "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id",
    "decoder_start_token_id", "output_hidden_states", "output_attentions", "return_dict", "torchscript",
    "pruned_heads", "chunk_size_feed_forward", "is_encoder_decoder", "is_decoder", "cross_attention_hidden_size",
    "add_cross_attention", "tie_encoder_decoder", "finetuning_task", "id2label", "label2id", "num_labels",
    "task_specific_params", "problem_type", "tokenizer_class", "prefix", "tf_legacy_loss", "use_bfloat16",
    "attn_implementation", "max_length", "min_length", "do_sample", "early_stopping", "num_beams",
    "num_beam_groups", "diversity_penalty", "temperature", "top_k", "top_p", "typical_p", "repetition_penalty",
    "length_penalty", "no_repeat_ngram_size", "encoder_no_repeat_ngram_size", "bad_words_ids",
    "num_return_sequences", "output_scores", "return_dict_in_generate", "forced_bos_token_id",
    "forced_eos_token_id", "remove_invalid_values", "exponential_decay_length_penalty", "suppress_tokens",
    "begin_suppress_tokens", "projection_dim",
})
#: Top-level VideoLlava keys that describe the processor or duplicate others; unused here.
VIDEO_LLAVA_UNUSED = frozenset({"image_seq_length", "video_seq_length", "ignore_index", "vocab_size",
                                "tie_word_embeddings"})
#: Vision-config keys that do not shape the tower (CLIP's text vocabulary).
VISION_UNUSED = frozenset({"vocab_size"})

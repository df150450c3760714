"""config.json translation: values read off transformers' own config objects (the reference)
for configs that leave keys out, so transformers' defaults are checked, not assumed."""
from __future__ import annotations

import pytest

from mmplug.plugins.video_llava.translation import translate_config
from mmplug.core.errors import ConfigError

CASES = {
    "empty": {"model_type": "video_llava"},
    "mistral": {"model_type": "video_llava", "text_config": {"model_type": "mistral", "hidden_size": 1024,
                                                             "num_attention_heads": 16}},
    "llama-extras": {"model_type": "video_llava", "projector_hidden_act": "silu", "vision_feature_layer": [-3, -1],
                     "vision_feature_select_strategy": "full", "image_token_index": 7, "video_token_index": 8,
                     "pad_token_id": 9, "multimodal_projector_bias": False,
                     "text_config": {"model_type": "llama", "rope_scaling": {"type": "linear", "factor": 2.0},
                                     "num_key_value_heads": 8, "tie_word_embeddings": True, "head_dim": 64},
                     "vision_config": {"hidden_size": 64, "num_attention_heads": 2, "patch_size": 16}},
}


def reference(config: dict):
    from transformers import VideoLlavaConfig

    return VideoLlavaConfig.from_dict(config)


@pytest.mark.parametrize("case", sorted(CASES))
def test_translation_matches_transformers(case):
    ours = translate_config(dict(CASES[case]))
    theirs = reference(dict(CASES[case]))
    text, vision, language = theirs.text_config, theirs.vision_config, ours["language_model"]
    assert language["name"] == text.model_type
    for key, our_key in [("hidden_size", "hidden_size"), ("intermediate_size", "intermediate_size"),
                         ("num_hidden_layers", "num_layers"), ("num_attention_heads", "num_heads"),
                         ("num_key_value_heads", "num_kv_heads"), ("vocab_size", "vocab_size"),
                         ("rms_norm_eps", "rms_norm_eps"), ("rope_theta", "rope_theta"),
                         ("max_position_embeddings", "max_position_embeddings"),
                         ("tie_word_embeddings", "tie_word_embeddings"), ("hidden_act", "hidden_act")]:
        assert language[our_key] == getattr(text, key), key
    assert language.get("sliding_window") == getattr(text, "sliding_window", None)
    assert language.get("rope_scaling") == getattr(text, "rope_scaling", None)
    default_head = text.hidden_size // text.num_attention_heads  # both sides: None means this
    assert (language.get("head_dim") or default_head) == (text.head_dim or default_head)
    tower = ours["vision_encoder"]
    for key, our_key in [("hidden_size", "hidden_size"), ("intermediate_size", "intermediate_size"),
                         ("num_hidden_layers", "num_layers"), ("num_attention_heads", "num_heads"),
                         ("image_size", "image_size"), ("patch_size", "patch_size"), ("hidden_act", "hidden_act"),
                         ("layer_norm_eps", "layer_norm_eps"), ("num_channels", "num_channels")]:
        assert tower[our_key] == getattr(vision, key), key
    mm = ours["multimodal"]
    assert (mm["image_token_id"], mm["video_token_id"], mm["pad_token_id"]) == (
        theirs.image_token_index, theirs.video_token_index, theirs.pad_token_id)
    assert mm["vision_feature_layer"] == theirs.vision_feature_layer
    assert mm["image_feature_select_strategy"] == theirs.vision_feature_select_strategy
    assert ours["projector"] == {"name": "mlp2x_gelu", "hidden_act": theirs.projector_hidden_act,
                                 "bias": theirs.multimodal_projector_bias}


def test_translated_configs_validate(registry):
    from mmplug.core.resolve import resolve_config

    for case in CASES.values():
        data = translate_config(dict(case))
        data["language_model"].update(num_layers=1, vocab_size=32064)  # keep the check cheap; same schema
        resolved = resolve_config({**data, "attention": {"name": "sdpa"}}, registry=registry)
        assert resolved.text.num_heads == data["language_model"]["num_heads"]


def test_a_foreign_vision_tower_is_refused_by_path():
    with pytest.raises(ConfigError) as error:
        translate_config({"model_type": "video_llava", "vision_config": {"model_type": "dinov2"},  # no dinov2 part
                          "text_config": {"model_type": "llama", "mystery_option": 3}}, source="x/config.json")
    assert {i.path for i in error.value.issues} == {"vision_config.model_type", "text_config.mystery_option"}
    assert error.value.source == "x/config.json"


def test_video_preprocessor_num_frames_sets_the_frame_sampler(published, tmp_path):
    """The published Video-LLaVA files name no frame count (8, the model's convention); a saved
    checkpoint's ``num_frames`` comes back; a broken one is an error naming the file."""
    import json
    import shutil

    from mmplug.core.checkpoint import config_from_pretrained
    from mmplug.core.errors import CheckpointError

    assert config_from_pretrained(published)["frame_sampler"] == {"name": "uniform", "num_frames": 8}
    copy = tmp_path / "ckpt"
    shutil.copytree(published, copy)
    video = {"video_processor_type": "VideoLlavaVideoProcessor", "do_sample_frames": True, "num_frames": 3}
    (copy / "video_preprocessor_config.json").write_text(json.dumps(video))
    assert config_from_pretrained(copy)["frame_sampler"] == {"name": "uniform", "num_frames": 3}
    (copy / "video_preprocessor_config.json").write_text(json.dumps({**video, "do_sample_frames": False}))
    assert config_from_pretrained(copy)["frame_sampler"]["num_frames"] == 8
    (copy / "video_preprocessor_config.json").write_text(json.dumps({**video, "num_frames": "four"}))
    with pytest.raises(CheckpointError, match="video_preprocessor_config.json: num_frames must be a positive"):
        config_from_pretrained(copy)

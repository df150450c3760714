"""Every Video-LLaVA weight layout, written from the tiny reference, loads with identical logits."""
from __future__ import annotations

import shutil

import pytest
import torch

from mmplug.core.builder import build_model
from mmplug.core.checkpoint import config_from_pretrained, convert_checkpoint, load_weights
from mmplug.core.errors import CheckpointError
from mmplug.core.pipeline import Pipeline
from mmplug.core.resolve import resolve_config

from .helpers import LANGUAGEBIND_RULES, TINY, inputs, ours_logits, read_json, reference_logits, rename, write_layout
from safetensors.torch import load_file

EAGER = {"attention.name": "eager"}


def load(directory, registry, **options):
    resolved = resolve_config(config_from_pretrained(directory), EAGER, registry=registry)
    return load_weights(build_model(resolved, meta=True), directory, **options).eval()


@pytest.mark.parametrize("layout", ["published", "v5", "v5_prefixed", "state_dict"])
def test_layout_loads_with_reference_logits(layout, published, reference, registry, tmp_path):
    directory = write_layout(published, tmp_path / layout, layout)
    model = load(directory, registry)
    batch = inputs()
    torch.testing.assert_close(ours_logits(model, batch), reference_logits(reference, batch), rtol=0, atol=1e-5)


def test_pipeline_from_pretrained_loads_the_published_layout(published, reference, registry):
    pipe = Pipeline.from_pretrained(published, registry=registry, overrides=EAGER)
    batch = inputs()
    torch.testing.assert_close(ours_logits(pipe.model, batch), reference_logits(reference, batch), rtol=0, atol=1e-5)
    assert all(not p.is_meta for p in pipe.model.parameters())


def test_dtype_is_converted_while_loading(published, reference, registry):
    model = load(published, registry, dtype="bfloat16")
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    batch = inputs()
    ours = ours_logits(model, batch).float()
    torch.testing.assert_close(ours, reference_logits(reference, batch), rtol=0, atol=0.1)


def test_sharded_checkpoint_loads(published, reference, registry, tmp_path):
    from mmplug.core.checkpoint.saver import save_pretrained

    model = load(published, registry)
    resolved = resolve_config(config_from_pretrained(published), EAGER, registry=registry)
    out = save_pretrained(model, resolved, tmp_path / "sharded", max_shard_size="100KB")
    index = read_json(out / "model.safetensors.index.json")
    assert len(set(index["weight_map"].values())) > 2
    batch = inputs()
    torch.testing.assert_close(ours_logits(load(out, registry), batch), reference_logits(reference, batch),
                               rtol=0, atol=1e-5)


# ------------------------------------------------------------------------ layout 4: LanguageBind
@pytest.fixture
def languagebind(published, tmp_path):
    """The reference in the original LanguageBind layout: llava config, pickle weights, the
    vocabulary cut before the placeholder tokens (the original had none)."""
    directory = tmp_path / "languagebind"
    directory.mkdir()
    state = rename(load_file(published / "model.safetensors"), LANGUAGEBIND_RULES)
    original = TINY.decoder()
    vocab = 120  # the tiny reference's <image> id: the original vocabulary ends just before it
    for key in ("model.embed_tokens.weight", "lm_head.weight"):
        state[key] = state[key][:vocab].clone()
    torch.save(state, directory / "pytorch_model.bin")
    config = {"model_type": "llava", "architectures": ["LlavaLlamaForCausalLM"], "mm_projector_type": "mlp2x_gelu",
              "mm_image_tower": "LanguageBind/LanguageBind_Image", "mm_video_tower": "LanguageBind/LanguageBind_Video",
              "mm_hidden_size": 32, "mm_vision_select_layer": -2, "mm_vision_select_feature": "patch",
              "mm_use_im_start_end": False, "mm_use_im_patch_token": False, "hidden_size": original["hidden_size"],
              "intermediate_size": original["intermediate_size"], "num_hidden_layers": original["num_layers"],
              "num_attention_heads": original["num_heads"], "num_key_value_heads": original["num_kv_heads"],
              "rms_norm_eps": original["rms_norm_eps"], "vocab_size": vocab, "max_position_embeddings": 2048,
              "torch_dtype": "float32"}
    (directory / "config.json").write_text(__import__("json").dumps(config))
    processor = tmp_path / "processor"
    processor.mkdir()
    tokens = {str(i): {"content": c, "special": True} for i, c in zip((120, 121, 122), ("<image>", "<video>", "<pad>"))}
    (processor / "tokenizer_config.json").write_text(__import__("json").dumps({"added_tokens_decoder": tokens}))
    return directory, processor


def test_languagebind_is_recognised_and_never_loaded_half_way(languagebind, registry):
    directory, _ = languagebind
    with pytest.raises(CheckpointError, match="languagebind.*mmplug convert") as error:
        Pipeline.from_pretrained(directory, registry=registry, allow_pickle=True)
    assert "<image>" in str(error.value)
    model = build_model(resolve_config(TINY.mmplug_config(), registry=registry), meta=True)
    with pytest.raises(CheckpointError, match="languagebind"):
        load_weights(model, directory, allow_pickle=True)
    assert all(p.is_meta for p in model.parameters())


def test_languagebind_converts_like_the_published_conversion(languagebind, reference, registry, tmp_path):
    directory, processor = languagebind
    heads = ["vision_encoder.num_heads=4", "video_encoder.num_heads=4"]  # not in the files: hidden 32 / 64 < 1
    out = convert_checkpoint(directory, tmp_path / "converted", allow_pickle=True, processor=processor,
                             overrides=heads)
    config = read_json(out / "config.json")
    assert (config["image_token_index"], config["video_token_index"], config["pad_token_id"]) == (120, 121, 122)
    assert config["text_config"]["vocab_size"] == 128  # 120 + 3 tokens, padded to a multiple of 64
    model = load(out, registry)
    embed = model.language_model.embed_tokens.weight
    written = load_file(out / "model.safetensors")
    assert embed.shape == (128, 64)
    torch.testing.assert_close(embed[:120], reference.get_input_embeddings().weight[:120], rtol=0, atol=0)
    new_rows = embed[120:]
    spread = reference.get_input_embeddings().weight[:120].std(0)
    assert ((new_rows - embed[:120].mean(0)).abs() < spread).all()  # close to the mean (covariance x 1e-5)
    batch = inputs()
    torch.testing.assert_close(ours_logits(model, batch)[..., :120], reference_logits(reference, batch)[..., :120],
                               rtol=0, atol=1e-5)
    assert "language_model.lm_head.weight" in written and "image_tower.vision_model.pre_layrnorm.weight" in written


def test_convert_without_processor_says_what_to_pass(languagebind, registry, tmp_path):
    directory, _ = languagebind
    with pytest.raises(CheckpointError, match="--processor"):
        convert_checkpoint(directory, tmp_path / "out", allow_pickle=True)
    shutil.rmtree(tmp_path / "out", ignore_errors=True)


def test_tied_embeddings_load_from_a_file_without_lm_head(registry, tmp_path):
    from transformers import VideoLlavaForConditionalGeneration

    from model.reference import randomize

    config = TINY.reference_config()
    config.text_config.tie_word_embeddings = True
    reference = VideoLlavaForConditionalGeneration(config).eval()
    randomize(reference, seed=3)
    reference.tie_weights()
    reference.save_pretrained(tmp_path / "tied")
    assert "language_model.lm_head.weight" not in load_file(tmp_path / "tied" / "model.safetensors")
    model = load(tmp_path / "tied", registry)
    lm = model.language_model
    assert lm.lm_head.weight is lm.embed_tokens.weight
    batch = inputs()
    torch.testing.assert_close(ours_logits(model, batch), reference_logits(reference, batch), rtol=0, atol=1e-5)


def test_checkpoint_without_video_tower_shares_the_image_tower(published, reference, registry, tmp_path):
    def drop_video(state):
        for key in [k for k in state if k.startswith("video_tower.")]:
            del state[key]

    directory = write_layout(published, tmp_path / "no-video", "published", drop_video)
    raw = config_from_pretrained(directory)
    assert "video_encoder" not in raw and raw["multimodal"]["share_vision_encoder"] is True
    model = load(directory, registry)
    assert model.video_tower() is model.vision_encoder

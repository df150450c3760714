"""save_pretrained output loads in transformers 4.56.2 (no missing/unexpected keys, identical
logits) and back in mmplug; processor files round-trip; every layout can be written."""
from __future__ import annotations

import shutil

import pytest
import torch

from mmplug.core.builder import build_model
from mmplug.core.checkpoint import config_from_pretrained, load_weights, save_pretrained
from mmplug.core.pipeline import Pipeline
from mmplug.core.resolve import resolve_config

from .helpers import FIXTURES, inputs, ours_logits, read_json, reference_logits

EAGER = {"attention.name": "eager"}


@pytest.fixture(scope="module")
def loaded(published, registry):
    resolved = resolve_config(config_from_pretrained(published), EAGER, registry=registry)
    return load_weights(build_model(resolved, meta=True), published).eval(), resolved


def test_transformers_loads_what_we_save(loaded, reference, tmp_path):
    from transformers import VideoLlavaForConditionalGeneration

    model, resolved = loaded
    out = save_pretrained(model, resolved, tmp_path / "out")
    again, info = VideoLlavaForConditionalGeneration.from_pretrained(out, output_loading_info=True,
                                                                     attn_implementation="eager")
    assert (info["missing_keys"], info["unexpected_keys"], info["mismatched_keys"]) == ([], [], [])
    for (name, ours), (_, theirs) in zip(again.state_dict().items(), reference.state_dict().items()):
        assert torch.equal(ours, theirs), name
    batch = inputs()
    assert torch.equal(reference_logits(again.eval(), batch), reference_logits(reference, batch))


def test_transformers_loads_sharded_fp16(loaded, tmp_path):
    from transformers import VideoLlavaForConditionalGeneration

    model, resolved = loaded
    half = save_pretrained(model.half(), resolved, tmp_path / "half", max_shard_size="200KB")
    model.float()
    assert read_json(half / "config.json")["torch_dtype"] == "float16"
    again, info = VideoLlavaForConditionalGeneration.from_pretrained(half, output_loading_info=True,
                                                                     torch_dtype=torch.float16)
    assert info["missing_keys"] == [] and info["unexpected_keys"] == []
    ours = dict(model.half().named_parameters())
    model.float()
    assert torch.equal(again.model.language_model.embed_tokens.weight, ours["language_model.embed_tokens.weight"])


@pytest.mark.parametrize("layout", ["published", "v5", "v5_prefixed", "state_dict"])
def test_every_layout_round_trips(layout, loaded, registry, tmp_path):
    model, resolved = loaded
    out = save_pretrained(model, resolved, tmp_path / layout, layout=layout)
    back = load_weights(build_model(resolve_config(config_from_pretrained(out), EAGER, registry=registry),
                                    meta=True), out)
    for (name, ours), (_, theirs) in zip(back.state_dict().items(), model.state_dict().items()):
        assert torch.equal(ours, theirs), name


def test_processor_files_round_trip(fixtures_dir, registry, tmp_path):
    """A 32064-row vocabulary over the 32003-token tokenizer just works, and the processor files
    come back (tokenizer bytes identical, image options equal)."""
    processor = fixtures_dir / "video-llava-processor"
    tiny = {"vision_encoder": {"name": "clip", "hidden_size": 32, "intermediate_size": 64, "num_layers": 2,
                               "num_heads": 4, "image_size": 224, "patch_size": 14},
            "projector": {"name": "mlp2x_gelu"},
            "language_model": {"name": "llama", "hidden_size": 32, "intermediate_size": 64, "num_layers": 1,
                               "num_heads": 4, "vocab_size": 32064},
            "attention": {"name": "sdpa"}, "tokenizer": {"name": "hf_tokenizers", "path": str(processor)},
            "chat_template": {"name": "jinja", "path": str(processor)}, "image_processor": {"name": "clip"},
            "frame_sampler": {"name": "uniform", "num_frames": 4},
            "multimodal": {"image_token_id": 32000, "video_token_id": 32001, "pad_token_id": 32002,
                           "share_vision_encoder": True}}
    pipe = Pipeline.from_config(tiny, registry=registry)
    out = pipe.save_pretrained(tmp_path / "out")
    video_config = read_json(out / "video_preprocessor_config.json")
    assert (video_config["num_frames"], video_config["do_sample_frames"]) == (4, True)
    assert video_config["video_processor_type"] == "VideoLlavaVideoProcessor"
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.json"):
        assert (out / name).read_bytes() == (processor / name).read_bytes(), name
    again = Pipeline.from_pretrained(out, registry=registry)
    assert again.resolved.parts["image_processor"].options == pipe.resolved.parts["image_processor"].options
    assert again.resolved.parts["frame_sampler"].options.num_frames == 4  # trained on 4 frames, loads with 4
    assert again.processor.tokenizer.encode("<image>", add_special_tokens=False) == [32000]
    assert again.model.language_model.vocab_size == 32064
    ids = torch.tensor([[1, 32000, 5]])
    torch.testing.assert_close(again.model(ids).logits, pipe.model(ids).logits, rtol=0, atol=1e-5)
    from transformers import AutoTokenizer, VideoLlavaImageProcessor

    assert AutoTokenizer.from_pretrained(out).convert_tokens_to_ids("<video>") == 32001
    image = VideoLlavaImageProcessor.from_pretrained(out)
    assert (image.crop_size, image.size, image.resample) == ({"height": 224, "width": 224}, {"shortest_edge": 224}, 3)


def test_save_refuses_a_model_on_meta(registry, tmp_path):
    from mmplug.core.errors import CheckpointError
    from model.reference import Tiny

    resolved = resolve_config(Tiny().mmplug_config(), registry=registry)
    with pytest.raises(CheckpointError, match="meta device"):
        save_pretrained(build_model(resolved, meta=True), resolved, tmp_path / "x")
    shutil.rmtree(tmp_path / "x", ignore_errors=True)

"""The LLaVA-1.5 family against transformers' LlavaForConditionalGeneration (4.56.2, fp32, CPU):
a checkpoint saved by transformers loads strictly (config.json translated, no key missing or
unused) with logits within 1e-4 on an image and on a left-padded batch and greedy 20 tokens
identical; what mmplug saves loads in transformers with bit-identical logits; both layouts round
trip; the llava-1.5-7b preset counts transformers' parameters."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers", reason="transformers is the test-only numerical reference")

from mmplug.core.builder import build_model, count_parameters  # noqa: E402
from mmplug.core.checkpoint import config_from_pretrained, load_weights, save_pretrained  # noqa: E402
from mmplug.core.errors import CheckpointError, ConfigError  # noqa: E402
from mmplug.core.generation import GenerationConfig, generate_ids  # noqa: E402
from mmplug.core.resolve import resolve_config  # noqa: E402
from model.reference import IMAGE, PAD, Tiny, left_pad, pixels, randomize, reference_positions  # noqa: E402

from .helpers import read_json  # noqa: E402

TINY = Tiny()
TOKENS = TINY.tokens_per_image  # 9 patches, the CLS token dropped ("default")
EAGER = {"attention.name": "eager"}


def reference_config():
    from transformers import LlavaConfig

    video_llava = TINY.reference_config()
    return LlavaConfig(vision_config=video_llava.vision_config.to_dict(),
                       text_config=video_llava.text_config.to_dict(), image_token_index=IMAGE, pad_token_id=PAD,
                       vision_feature_layer=-2, image_seq_length=TOKENS, attn_implementation="eager")


@pytest.fixture(scope="module")
def reference():
    from transformers import LlavaForConditionalGeneration

    torch.manual_seed(0)
    model = LlavaForConditionalGeneration(reference_config()).eval()
    randomize(model)
    return model


@pytest.fixture(scope="module")
def saved(reference, tmp_path_factory):
    directory = tmp_path_factory.mktemp("llava")
    reference.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def loaded(saved, registry):
    resolved = resolve_config(config_from_pretrained(saved, registry=registry), EAGER, registry=registry)
    return load_weights(build_model(resolved, meta=True), saved).eval(), resolved


def rows_with_images() -> list[list[int]]:
    return [[1, 5] + [IMAGE] * TOKENS + [7, 8, 9], [1, 3, 4, 6, 11, 12] + [IMAGE] * TOKENS + [13]]


def test_config_translates_to_an_image_only_pipeline(loaded):
    _, resolved = loaded
    assert set(resolved.parts) >= {"vision_encoder", "projector", "language_model"}
    assert "video_encoder" not in resolved.parts and not resolved.config.multimodal.share_vision_encoder
    assert resolved.config.multimodal.image_token_id == IMAGE
    assert resolved.parts["vision_encoder"].spec.name == "clip"


@pytest.mark.parametrize("batch", ["one_image", "left_padded_batch"])
def test_logits_match(loaded, reference, batch):
    model, _ = loaded
    rows = rows_with_images()[:1] if batch == "one_image" else rows_with_images()
    ids, mask = left_pad(rows)
    images = pixels(len(rows))
    with torch.no_grad():
        expected = reference(input_ids=ids, attention_mask=mask, position_ids=reference_positions(mask),
                             pixel_values=images).logits
        got = model(ids, attention_mask=mask, pixel_values_images=images).logits
    keep = mask.bool()
    assert expected[keep].abs().max() > 0.1
    assert (expected - got).abs()[keep].max() <= 1e-4


def test_greedy_20_tokens_identical(loaded, reference):
    model, _ = loaded
    ids, mask = left_pad(rows_with_images())
    images = pixels(2)
    want = reference.generate(input_ids=ids, attention_mask=mask, pixel_values=images, max_new_tokens=20,
                              min_new_tokens=20, do_sample=False, pad_token_id=PAD)[:, ids.shape[1]:]
    got = generate_ids(model, {"input_ids": ids, "attention_mask": mask, "pixel_values_images": images},
                       GenerationConfig(max_new_tokens=20, min_new_tokens=20), eos_ids=[], pad_id=PAD)
    assert [len(t) for t in got.token_ids] == [20, 20]
    assert got.token_ids == want.tolist()


def test_transformers_loads_what_we_save(loaded, reference, tmp_path):
    from transformers import LlavaForConditionalGeneration

    model, resolved = loaded
    out = save_pretrained(model, resolved, tmp_path / "out")
    assert read_json(out / "config.json")["model_type"] == "llava"
    again, info = LlavaForConditionalGeneration.from_pretrained(out, output_loading_info=True,
                                                                attn_implementation="eager")
    assert (info["missing_keys"], info["unexpected_keys"], info["mismatched_keys"]) == ([], [], [])
    ids, images = torch.tensor(rows_with_images()[:1]), pixels(1)
    with torch.no_grad():
        assert torch.equal(again.eval()(input_ids=ids, pixel_values=images).logits,
                           reference(input_ids=ids, pixel_values=images).logits)


@pytest.mark.parametrize("layout", ["llava", "llava_state_dict"])
def test_layouts_round_trip(loaded, registry, tmp_path, layout):
    model, resolved = loaded
    out = save_pretrained(model, resolved, tmp_path / layout, layout=layout)
    back = load_weights(build_model(resolve_config(config_from_pretrained(out), EAGER, registry=registry),
                                    meta=True), out)
    for (name, ours), (_, theirs) in zip(back.state_dict().items(), model.state_dict().items()):
        assert torch.equal(ours, theirs), name


def test_missing_and_unused_keys_are_errors(saved, registry, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    for edit, message in [("drop", "missing"), ("add", "unused")]:
        directory = tmp_path / edit
        directory.mkdir()
        shutil.copyfile(saved / "config.json", directory / "config.json")
        state = load_file(saved / "model.safetensors")
        if edit == "drop":
            state.pop("multi_modal_projector.linear_2.bias")
        else:
            state["multi_modal_projector.linear_3.weight"] = torch.zeros(2)
        save_file(state, directory / "model.safetensors", metadata={"format": "pt"})
        resolved = resolve_config(config_from_pretrained(directory), registry=registry)
        with pytest.raises(CheckpointError, match=message):
            load_weights(build_model(resolved, meta=True), directory)


def test_unknown_config_key_is_named(saved, registry, tmp_path):
    import json
    import shutil

    config = read_json(saved / "config.json")
    config["image_grid_pinpoints"] = [[336, 672]]
    (tmp_path / "config.json").write_text(json.dumps(config))
    shutil.copyfile(saved / "model.safetensors", tmp_path / "model.safetensors")
    with pytest.raises(ConfigError, match="image_grid_pinpoints"):
        config_from_pretrained(tmp_path, registry=registry)


def test_a_video_pipeline_is_not_saved_as_llava(registry, tmp_path):
    resolved = resolve_config(TINY.mmplug_config(), registry=registry)
    model = build_model(resolved)
    with pytest.raises(CheckpointError, match="images only"):
        save_pretrained(model, resolved, tmp_path / "x", layout="llava")


def test_preset_counts_transformers_parameters(registry):
    from transformers import LlavaConfig, LlavaForConditionalGeneration

    ours = build_model("llava-1.5-7b", meta=True, registry=registry)
    config = LlavaConfig(text_config={"model_type": "llama", "vocab_size": 32064, "max_position_embeddings": 4096,
                                      "rms_norm_eps": 1e-5})
    with torch.device("meta"):
        theirs = LlavaForConditionalGeneration(config)
    assert count_parameters(ours) == count_parameters(theirs) == 7_063_427_072
    assert resolve_config("llava-1.5-7b", registry=registry).vision.patches_per_image == 576

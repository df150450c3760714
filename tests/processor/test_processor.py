"""The Processor: parity with transformers' VideoLlavaProcessor, expansion, padding, errors, labels."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mmplug.core.config import MultimodalConfig
from mmplug.core.errors import ConfigError, ProcessorError
from mmplug.core.interfaces.text import Tokenizer
from mmplug.core.options import VisionEncoderOptions, VisionFacts
from mmplug.core.processor import IGNORE_INDEX, Processor, ProcessorOutput
from mmplug.plugins.text.llava_template import LlavaV1Template

IMAGE_ID, VIDEO_ID, PAD_ID = 32000, 32001, 32002
PROMPTS = ["USER: <image>\nWhat is shown here? ASSISTANT:", "USER: <video>\nWhy is this video funny? ASSISTANT:"]


def make_processor(tokenizer, image_processor, template=None, **geometry):
    geometry = {"tokens_per_image": 256, "tokens_per_frame": 257, **geometry}
    return Processor(tokenizer=tokenizer, image_processor=image_processor, chat_template=template,
                     config=MultimodalConfig(), **geometry)


@pytest.fixture(scope="module")
def processor(tokenizer, clip, template):
    return make_processor(tokenizer, clip, template)


@pytest.fixture(scope="module")
def exact_processor(tokenizer, clip_exact, template):
    return make_processor(tokenizer, clip_exact, template)


@pytest.fixture(scope="module")
def image(fixture_images):
    return fixture_images["extreme_ironing.jpg"]


def test_mixed_image_and_video_batch_matches_reference(processor, exact_processor, ref_processor, image,
                                                       video_frames):
    frames = video_frames["sample_demo_1.mp4"]
    expected = ref_processor(text=PROMPTS, images=[image], videos=[frames], padding=True, return_tensors="pt")
    ours = processor(PROMPTS, images=[image], videos=[frames])
    assert isinstance(ours, ProcessorOutput)
    assert torch.equal(ours.input_ids, expected["input_ids"]) and ours.input_ids.dtype == torch.long
    assert torch.equal(ours.attention_mask, expected["attention_mask"])
    assert ours.pixel_values_images.shape == expected["pixel_values_images"].shape == (1, 3, 224, 224)
    assert (ours.pixel_values_images - expected["pixel_values_images"]).abs().max() <= 1e-5
    assert ours.pixel_values_videos.shape == expected["pixel_values_videos"].shape == (1, 4, 3, 224, 224)
    assert (ours.pixel_values_videos - expected["pixel_values_videos"]).abs().max() <= 0.03
    exact = exact_processor(PROMPTS, images=[image], videos=[frames])
    assert (exact.pixel_values_videos - expected["pixel_values_videos"]).abs().max() <= 1e-5
    assert (ours.input_ids == IMAGE_ID).sum() == 256 and (ours.input_ids == VIDEO_ID).sum() == 4 * 257
    assert ours.input_ids[0, 0] == PAD_ID and ours.attention_mask[0, 0] == 0  # left padding


def test_right_padding_matches_reference(processor, ref_processor, ref_tokenizer, image):
    prompts = ["USER: <image>\nA? ASSISTANT:", "USER: a much longer question without media ASSISTANT:"]
    ref_tokenizer.padding_side = "right"
    try:
        expected = ref_processor(text=prompts, images=[image], padding=True, return_tensors="pt")
    finally:
        ref_tokenizer.padding_side = "left"
    ours = processor(prompts, images=[image], padding_side="right")
    assert torch.equal(ours.input_ids, expected["input_ids"])
    assert torch.equal(ours.attention_mask, expected["attention_mask"])
    assert ours.input_ids[1, -1] == PAD_ID and ours.attention_mask[1, -1] == 0
    assert "pixel_values_videos" not in ours


def test_full_strategy_image_count_matches_reference(tokenizer, clip, ref_processor, image):
    ref_processor.vision_feature_select_strategy = "full"
    try:
        expected = ref_processor(text=PROMPTS[:1], images=[image], return_tensors="pt")
    finally:
        ref_processor.vision_feature_select_strategy = "default"
    ours = make_processor(tokenizer, clip, tokens_per_image=257)(PROMPTS[:1], images=[image])
    assert torch.equal(ours.input_ids, expected["input_ids"]) and (ours.input_ids == IMAGE_ID).sum() == 257


def test_videos_with_different_frame_counts_expand_per_video(processor, video_frames):
    short, long = video_frames["sample_demo_3.mp4"][:2], video_frames["sample_demo_9.mp4"]
    out = processor(["<video> first", "<video> second <video> third"], videos=[short, long, short])
    counts = (out.input_ids == VIDEO_ID).sum(dim=1).tolist()
    assert counts == [2 * 257, (4 + 2) * 257]
    assert isinstance(out.pixel_values_videos, list)
    assert [tuple(v.shape) for v in out.pixel_values_videos] == [(2, 3, 224, 224), (4, 3, 224, 224), (2, 3, 224, 224)]
    moved = out.to("cpu")
    assert isinstance(moved, ProcessorOutput) and set(moved) == set(out)
    assert all(torch.equal(a, b) for a, b in zip(moved.pixel_values_videos, out.pixel_values_videos))
    with pytest.raises(AttributeError, match="no 'labels'"):
        out.labels
    same = processor(["<video> a", "<video> b"], videos=[short, short])
    assert same.pixel_values_videos.shape == (2, 2, 3, 224, 224)


def test_per_sample_media_lists(processor, image, video_frames):
    frames = video_frames["sample_demo_3.mp4"][:2]
    nested = processor(["<image> <image> x", "<video> y"], images=[[image, image], []], videos=[[], [frames]])
    flat = processor(["<image> <image> x", "<video> y"], images=[image, image], videos=[frames])
    assert torch.equal(nested.input_ids, flat.input_ids)
    assert torch.equal(nested.pixel_values_images, flat.pixel_values_images)


@pytest.mark.parametrize("texts, images, needles", [
    (["<image> a", "<image> <image> b"], 2, ["sample 1", "expected 1", "found 2"]),
    (["<image> a", "b"], 2, ["2 image(s) given", "only 1 <image>", "sample 0: 1, sample 1: 0"]),
    (["<image> <image> a"], 3, ["sample 0", "expected 3", "found 2"]),
    (["a", "<image> b"], 0, ["sample 1", "expected 0", "found 1"]),
])
def test_placeholder_mismatch_names_the_sample(processor, image, texts, images, needles):
    with pytest.raises(ProcessorError) as info:
        processor(texts, images=[image] * images if images else None)
    for needle in needles:
        assert needle in str(info.value)


def test_per_sample_mismatch_and_video_errors(processor, image, video_frames):
    with pytest.raises(ProcessorError, match="sample 0: expected 2 <image> placeholder.*found 1"):
        processor(["<image> a", "b"], images=[[image, image], []])
    with pytest.raises(ProcessorError, match="sample 0: expected 1 <video> placeholder.*found 0"):
        processor(["no video here"], videos=[video_frames["sample_demo_3.mp4"]])
    with pytest.raises(ProcessorError, match=r"video 0: .*\(T,H,W,3\)"):
        processor(["<video>"], videos=[[np.zeros((8, 8, 3), np.uint8)]])
    with pytest.raises(ProcessorError, match="frame stacks"):
        processor(["<image>"], images=np.zeros((2, 240, 320, 3), np.uint8))


def test_padding_off(processor):
    lists = processor(["a", "a longer text"], padding=False, return_tensors=None)
    assert [len(r) for r in lists["input_ids"]] == [len(r) for r in lists["attention_mask"]]
    assert len(lists["input_ids"][0]) < len(lists["input_ids"][1])
    with pytest.raises(ProcessorError, match="different lengths"):
        processor(["a", "a longer text"], padding=False)
    with pytest.raises(ProcessorError, match="padding_side"):
        processor(["a", "a longer text"], padding_side="middle")


class _BareTokenizer(Tokenizer):
    vocab_size = 10

    def encode(self, text, *, add_special_tokens=True):
        return [3]

    def decode(self, ids, *, skip_special_tokens=False):
        return ""

    def token_to_id(self, token):
        return None


def test_missing_token_ids_are_config_errors(clip):
    with pytest.raises(ConfigError, match="multimodal.image_token_id"):
        Processor(tokenizer=_BareTokenizer(), image_processor=clip, config=MultimodalConfig(),
                  tokens_per_image=256, tokens_per_frame=257)
    ok = Processor(tokenizer=_BareTokenizer(), image_processor=clip, tokens_per_image=4, tokens_per_frame=4,
                   config=MultimodalConfig(image_token_id=7, video_token_id=8, pad_token_id=9))
    assert (ok.image_token_id, ok.video_token_id, ok.pad_token_id) == (7, 8, 9)


def test_chat_template_decode_and_streaming(processor, tokenizer):
    messages = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "Why?"}]}]
    assert processor.apply_chat_template(messages, add_generation_prompt=True) == "USER: <video>\nWhy? ASSISTANT:"
    ids = tokenizer.encode("Ein Bär 🐻 sagt hallo")
    assert processor.decode(torch.tensor(ids), skip_special_tokens=True) == tokenizer.decode(ids, skip_special_tokens=True)
    assert processor.batch_decode(torch.tensor([ids, ids])) == [tokenizer.decode(ids)] * 2
    assert "".join(processor.stream_decoder().stream(ids)) == tokenizer.decode(ids, skip_special_tokens=True)
    bare = make_processor(tokenizer, None)
    with pytest.raises(ProcessorError, match="chat template"):
        bare.apply_chat_template(messages)
    with pytest.raises(ProcessorError, match="no image processor"):
        bare(["<image>"], images=[np.zeros((8, 8, 3), np.uint8)])


# ---------------------------------------------------------------------- labels
def learned_runs(ids, labels):
    """Contiguous runs of learned tokens, as id lists."""
    runs, current = [], []
    for token, label in zip(ids, labels):
        if label == IGNORE_INDEX:
            if current:
                runs.append(current)
            current = []
        else:
            assert label == token
            current.append(token)
    return runs + ([current] if current else [])


def conversation(media, answers):
    messages = [{"role": "user", "content": [{"type": media}, {"type": "text", "text": "What happens?"}]}]
    for index, answer in enumerate(answers):
        messages.append({"role": "assistant", "content": [{"type": "text", "text": answer}]})
        if index + 1 < len(answers):
            messages.append({"role": "user", "content": [{"type": "text", "text": "And then?"}]})
    return messages


def test_labels_learn_only_assistant_text_llava_v1(tokenizer, clip, image, video_frames):
    processor = make_processor(tokenizer, clip, LlavaV1Template())
    conversations = [conversation("image", ["A man irons.", "He falls."]), conversation("video", ["Fun 😀!"])]
    batch = processor.training_batch(conversations, images=[image], videos=[video_frames["sample_demo_3.mp4"]])
    shorter = int(batch.attention_mask.sum(dim=1).argmin())
    assert batch.labels.shape == batch.input_ids.shape and batch.input_ids[shorter, -1] == PAD_ID  # right padding
    assert batch.labels[shorter, -1] == IGNORE_INDEX
    for row, answers in enumerate([["A man irons.", "He falls."], ["Fun 😀!"]]):
        ids, labels = batch.input_ids[row].tolist(), batch.labels[row].tolist()
        runs = learned_runs(ids, labels)
        assert [tokenizer.decode(run).strip() for run in runs] == [a + "</s>" for a in answers]
        for position, token in enumerate(ids):
            if token in (IMAGE_ID, VIDEO_ID, PAD_ID) or batch.attention_mask[row, position] == 0:
                assert labels[position] == IGNORE_INDEX
    assert (batch.labels == IGNORE_INDEX).sum() > batch.labels.numel() // 2


def test_labels_with_jinja_generation_blocks(tokenizer, clip, template, image):
    processor = make_processor(tokenizer, clip, template)
    batch = processor.training_batch([conversation("image", ["Yes.", "No."])], images=[image])
    runs = learned_runs(batch.input_ids[0].tolist(), batch.labels[0].tolist())
    assert [tokenizer.decode(run).strip() for run in runs] == ["Yes.", "No."]
    with pytest.raises(ProcessorError, match="sample 0: no assistant text"):
        processor.training_batch([conversation("image", [])], images=[image])


# ---------------------------------------------------------------------- built from a pipeline
class NoClsOptions(VisionEncoderOptions):
    def facts(self) -> VisionFacts:
        return VisionFacts(hidden_size=64, num_layers=2, num_heads=4, patches_per_image=256,
                           has_cls_token=False, image_size=224)


def test_builder_geometry_with_and_without_cls(fixtures):
    from mmplug.core.builder import build_processor
    from mmplug.registry import discover

    registry = discover()
    registry.register("vision_encoder", "no_cls_test", lambda options, context: None, options=NoClsOptions)
    clip_built = build_processor("video-llava-7b", registry=registry)
    assert (clip_built.tokens_per_image, clip_built.tokens_per_frame) == (256, 257)
    config = registry.preset("tiny-random").load()
    config["vision_encoder"] = {"name": "no_cls_test"}
    config.pop("video_encoder", None)
    config["multimodal"] = {**config.get("multimodal", {}), "image_feature_select_strategy": "full",
                            "video_feature_select_strategy": "full", "share_vision_encoder": True}
    no_cls = build_processor(config, registry=registry)
    assert (no_cls.tokens_per_image, no_cls.tokens_per_frame) == (256, 256)
    out = no_cls(["<image>"], images=[np.zeros((224, 224, 3), np.uint8)])
    assert (out.input_ids == no_cls.image_token_id).sum() == 256

"""Pipeline API: generate / stream / chat on the tiny random preset with real media."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from fixture_paths import MEDIA
from mmplug.core.errors import MediaError, ProcessorError
from mmplug.core.pipeline import Pipeline

OVERRIDES = ["frame_sampler.num_frames=2"]


@pytest.fixture(scope="module")
def pipe():
    return Pipeline.from_config("tiny-random", OVERRIDES)


@pytest.fixture(scope="module")
def media():
    return MEDIA


def test_generate_returns_text_ids_reason_and_timings(pipe, media):
    out = pipe.generate("Why is this video funny?", videos=[media / "sample_demo_3.mp4"], max_new_tokens=3)
    assert len(out.token_ids) == 3 and out.finish_reason == "length"
    assert out.text == pipe.processor.decode(out.token_ids, skip_special_tokens=True)
    assert out.prompt == "USER: <video>\nWhy is this video funny? ASSISTANT:"
    assert set(out.timings) >= {"decode_s", "preprocess_s", "vision_s", "prefill_s", "per_token_s", "total_s"}
    assert len(out.timings["per_token_s"]) == 3
    assert out.timings["vision_s"] > 0 and out.timings["prefill_s"] > 0


def test_stream_pieces_join_to_the_generated_text(pipe, media):
    image = media / "extreme_ironing.jpg"
    whole = pipe.generate("Describe it.", images=image, max_new_tokens=6)
    pieces = list(pipe.stream("Describe it.", images=image, max_new_tokens=6))
    assert "".join(pieces) == whole.text and len(pieces) >= 2


def test_batch_rows_equal_the_same_prompts_alone(pipe, media):
    image, clip = media / "extreme_ironing.jpg", media / "sample_demo_9.mp4"
    batch = pipe.generate(["What is here?", "And what happens here?"], images=[image, None], videos=[None, clip],
                          max_new_tokens=4)
    alone = [pipe.generate("What is here?", images=image, max_new_tokens=4),
             pipe.generate("And what happens here?", videos=clip, max_new_tokens=4)]
    assert [o.token_ids for o in batch] == [o.token_ids for o in alone]


def test_media_as_bytes_pil_and_frames_give_the_same_answer(pipe, media):
    path = media / "sample_img_22.png"
    by_path = pipe.generate("What is it?", images=path, max_new_tokens=3).token_ids
    assert pipe.generate("What is it?", images=path.read_bytes(), max_new_tokens=3).token_ids == by_path
    assert pipe.generate("What is it?", images=Image.open(path), max_new_tokens=3).token_ids == by_path
    clip = media / "sample_demo_3.mp4"
    frames = pipe.video_decoder.read(clip, pipe.frame_sampler.indices(pipe.video_decoder.probe(clip))).frames
    by_frames = pipe.generate("Go", videos=[frames], max_new_tokens=3).token_ids
    assert by_frames == pipe.generate("Go", videos=[clip.read_bytes()], max_new_tokens=3).token_ids


def test_stop_strings_cut_the_text(pipe, media):
    image = media / "extreme_ironing.jpg"
    free = pipe.generate("Describe it.", images=image, max_new_tokens=8)
    words = free.text.split()
    assert len(words) >= 3, free.text
    stop = words[2]
    cut = pipe.generate("Describe it.", images=image, max_new_tokens=8, stop=[stop])
    assert cut.finish_reason == "stop" and stop not in cut.text and free.text.startswith(cut.text)
    streamed = "".join(pipe.stream("Describe it.", images=image, max_new_tokens=8, stop=[stop]))
    assert streamed == cut.text


def test_chat_keeps_turns_and_media(pipe, media):
    chat = pipe.chat(max_new_tokens=3)
    first = chat.send("What happens?", videos=[media / "sample_demo_1.mp4"])
    second = chat.send("Why?")
    assert second.prompt.startswith(f"USER: <video>\nWhat happens? ASSISTANT: {first.text}")
    assert second.prompt.endswith("USER: Why? ASSISTANT:") and len(chat.videos) == 1
    assert "".join(chat.stream("And then?")) == chat.messages[-1]["content"][0]["text"]


def test_sampling_is_reproducible_with_a_seed(pipe, media):
    args = dict(images=media / "extreme_ironing.jpg", max_new_tokens=5, do_sample=True, temperature=1.5, top_k=50)
    assert pipe.generate("Hi", seed=3, **args).token_ids == pipe.generate("Hi", seed=3, **args).token_ids


def test_bad_requests_are_clear(pipe, media, tmp_path):
    with pytest.raises(ProcessorError, match="one entry per prompt"):
        pipe.generate(["a", "b"], images=[media / "extreme_ironing.jpg"])
    with pytest.raises(MediaError, match="missing.mp4"):
        pipe.generate("a", videos=[tmp_path / "missing.mp4"])
    with pytest.raises(MediaError, match="not a readable image"):
        pipe.generate("a", images=b"not an image")
    with pytest.raises(ProcessorError, match="uint8"):
        pipe.generate("a", videos=[np.zeros((2, 8, 8, 3), dtype=np.float32)])
    with pytest.raises(ValueError, match="max_new_tokens"):
        pipe.generate("a", max_new_tokens=0)


def test_cli_ask_json(media, capsys):
    from mmplug.core.cli.main import main

    code = main(["ask", "--model", "tiny-random", "--set", "frame_sampler.num_frames=2", "--video",
                 str(media / "sample_demo_3.mp4"), "--max-new-tokens", "2", "--json", "What happens?"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["token_ids"]) == 2 and data["finish_reason"] == "length" and "prefill_s" in data["timings"]


def test_example_plugin_parts_swap_in_by_config(media):
    pytest.importorskip("mmplug_example", reason="examples/mmplug-example is not installed")
    pipe = Pipeline.from_config("tiny-random", OVERRIDES + ["projector.name=pooled_mlp2x_gelu",
                                                            "frame_sampler.name=scene_change"])
    assert pipe.processor.tokens_per_image == 64 and pipe.processor.tokens_per_frame == 65
    out = pipe.generate("What happens?", videos=[media / "sample_demo_1.mp4"], max_new_tokens=3)
    assert len(out.token_ids) == 3
    inputs = pipe.processor("<video>", videos=[np.zeros((2, 32, 32, 3), dtype=np.uint8)])
    assert int((inputs["input_ids"] == 32001).sum()) == 2 * 65


def test_videos_with_different_frame_counts_in_one_batch(pipe):
    rng = np.random.default_rng(0)
    short, long = (rng.integers(0, 256, (t, 48, 64, 3), dtype=np.uint8) for t in (2, 3))
    batch = pipe.generate(["Short?", "Long?"], videos=[short, long], max_new_tokens=3)
    assert [o.token_ids for o in batch] == [pipe.generate("Short?", videos=[short], max_new_tokens=3).token_ids,
                                            pipe.generate("Long?", videos=[long], max_new_tokens=3).token_ids]

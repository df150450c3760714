"""Errors a user can act on while generating (issue 16, items 13, 14, 18): bad generation
options fail first, in one line with a hint; prompts longer than the model's context fail
with the numbers; a bad sample in a batch is named by its index, and with errors="return"
the other samples are still answered."""
from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

from mmplug.core.errors import ConfigError, MediaError, MmplugError, ProcessorError
from mmplug.core.generation import GenerationConfig, GenerationOptionsError
from mmplug.core.pipeline import Pipeline

OVERRIDES = ["frame_sampler.num_frames=2"]
IMAGE = np.full((32, 32, 3), 200, dtype=np.uint8)
OTHER_IMAGE = np.arange(32 * 32 * 3, dtype=np.uint8).reshape(32, 32, 3)


@pytest.fixture(scope="module")
def pipe():
    return Pipeline.from_config("tiny-random", OVERRIDES)


@pytest.fixture(scope="module")
def short_pipe():
    """tiny-random with a 200-token context: a question with one image (269 tokens) is too long."""
    return Pipeline.from_config("tiny-random", OVERRIDES + ["language_model.max_position_embeddings=200"])


# ---------------------------------------------------------------------- item 13: generation options
@pytest.mark.parametrize("options, expected", [
    ({"temperature": 0, "do_sample": True}, "temperature: must be greater than 0 (got 0); omit temperature for "
                                            "greedy decoding"),
    ({"max_new_tokens": 0}, "max_new_tokens: must be greater than or equal to 1 (got 0)"),
    ({"top_k": -3, "do_sample": True}, "top_k: must be greater than or equal to 0 (got -3); 0 keeps every token"),
    ({"eos_token_id": -5}, "eos_token_id: -5 is not a token id"),
    ({"eos_token_id": [2, -1]}, "eos_token_id: -1 is not a token id"),
    ({"temperature": 0.7}, "temperature: only applies when sampling (got 0.7) and decoding is greedy; "
                           "pass do_sample=True to sample"),
    ({"top_p": 0.9}, "top_p: only applies when sampling"),
    ({"max_tokens": 5}, "max_tokens: unknown option; did you mean 'max_new_tokens'?"),
    ({"seed": -1}, "seed: must be greater than or equal to 0 (got -1)"),
    ({"min_new_tokens": 9, "max_new_tokens": 3}, "min_new_tokens: 9 exceeds max_new_tokens=3"),
])
def test_bad_options_raise_one_line_mmplug_errors(options, expected):
    with pytest.raises(GenerationOptionsError) as info:
        GenerationConfig(**options)
    message = str(info.value)
    assert isinstance(info.value, ConfigError) and isinstance(info.value, MmplugError)
    assert "\n" not in message and message.startswith("generation options: ") and expected in message


def test_every_bad_option_is_reported_at_once():
    with pytest.raises(GenerationOptionsError) as info:
        GenerationConfig(do_sample=True, top_k=-1, top_p=2.0, max_new_tokens=0)
    assert sorted(issue.path for issue in info.value.issues) == ["max_new_tokens", "top_k", "top_p"]


def test_good_options_still_pass():
    config = GenerationConfig(do_sample=True, temperature=0.7, top_k=5, top_p=0.9, seed=3, stop="###")
    assert config.stop == ["###"] and config.temperature == 0.7


def test_pipeline_checks_options_before_any_media_is_read(pipe, tmp_path):
    with pytest.raises(GenerationOptionsError, match="omit temperature for greedy decoding"):
        pipe.generate("a", videos=[tmp_path / "missing.mp4"], do_sample=True, temperature=0)
    with pytest.raises(GenerationOptionsError, match="top_k"):
        pipe.chat(top_k=-3)


def test_eos_ids_outside_the_vocabulary_are_refused(pipe):
    with pytest.raises(GenerationOptionsError, match=r"eos_token_id: 40000 is outside the model's vocabulary "
                                                     r"\(vocab_size 32064\)"):
        pipe.generate("a", eos_token_id=40000, max_new_tokens=1)


PROBE = ("import sys\nfrom mmplug.core.cli.main import main\ncode = main(sys.argv[1:])\n"
         "print('TORCH_LOADED' if 'torch' in sys.modules else 'TORCH_ABSENT', code)\n")


@pytest.mark.parametrize("command", ["ask", "chat"])
@pytest.mark.parametrize("flags, expected", [
    (["--temperature", "0"], "--temperature: must be greater than 0 (got 0.0); omit --temperature for greedy decoding"),
    (["--max-new-tokens", "0"], "--max-new-tokens: must be greater than or equal to 1 (got 0)"),
    (["--top-k", "-3", "--temperature", "1"], "--top-k: must be greater than or equal to 0 (got -3)"),
    (["--top-k", "5"], "--top-k: only applies when sampling (got 5) and decoding is greedy; add --temperature T"),
])
def test_cli_flags_fail_in_one_line_before_the_model_loads(command, flags, expected):
    question = ["What happens?"] if command == "ask" else []
    result = subprocess.run([sys.executable, "-c", PROBE, command, "--model", "tiny-random", *flags, *question],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.stdout.strip() == "TORCH_ABSENT 1", result.stdout + result.stderr  # nothing was loaded
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: generation options: {expected}")


# ---------------------------------------------------------------------- item 14: the model's context
def test_a_prompt_longer_than_the_context_is_an_error_with_the_numbers(short_pipe):
    expected = short_pipe.processor(["USER: <image>\nWhat is it? ASSISTANT:"], images=[[IMAGE]])["input_ids"].shape[1]
    assert expected > 200
    with pytest.raises(ProcessorError) as info:
        short_pipe.generate("What is it?", images=IMAGE, max_new_tokens=2)
    message = str(info.value)
    assert f"the prompt is {expected} tokens ({short_pipe.processor.tokens_per_image} of them for images" in message
    assert "context of 200 tokens" in message
    with pytest.raises(ProcessorError, match="context of 200 tokens"):
        list(short_pipe.stream("What is it?", images=IMAGE, max_new_tokens=2))


def test_an_answer_that_would_run_past_the_context_warns_with_the_numbers(short_pipe):
    prompt_length = short_pipe.processor(["USER: Hi ASSISTANT:"])["input_ids"].shape[1]
    with pytest.warns(UserWarning, match=f"a prompt of {prompt_length} tokens plus max_new_tokens=250 exceeds the "
                                         f"language model's context of 200 tokens.*at most {200 - prompt_length}"):
        out = short_pipe.generate("Hi", max_new_tokens=250, eos_token_id=[], min_new_tokens=0)
    assert len(out.token_ids) == 250
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        short_pipe.generate("Hi", max_new_tokens=200 - prompt_length)


def test_dynamic_rope_scaling_declares_no_fixed_context():
    from mmplug.plugins.language.options import LlamaOptions

    sizes = dict(hidden_size=64, intermediate_size=128, num_layers=1, num_heads=4, vocab_size=100)
    assert LlamaOptions(**sizes, max_position_embeddings=512).facts().max_positions == 512
    dynamic = LlamaOptions(**sizes, max_position_embeddings=512, rope_scaling={"rope_type": "dynamic", "factor": 2.0})
    assert dynamic.facts().max_positions is None


# ---------------------------------------------------------------------- item 18: one bad sample in a batch
def test_a_bad_sample_is_named_by_its_index(pipe, tmp_path):
    with pytest.raises(MediaError) as info:
        pipe.generate(["a", "b", "c"], images=[IMAGE, b"not an image", None], max_new_tokens=1)
    assert str(info.value).startswith("sample 1: <12 bytes> [pillow]: not a readable image")
    assert info.value.sample == 1
    missing = tmp_path / "missing.mp4"
    with pytest.raises(MediaError, match=f"^sample 2: {missing}"):
        pipe.generate(["a", "b", "c"], videos=[None, None, missing], max_new_tokens=1)


def test_errors_return_answers_the_good_samples(pipe, tmp_path):
    prompts = ["What is it?", "And this?", "Describe it."]
    outputs = pipe.generate(prompts, images=[IMAGE, b"not an image", OTHER_IMAGE], max_new_tokens=3,
                            errors="return")
    assert [o.finish_reason for o in outputs][1] == "error"
    assert isinstance(outputs[1].error, MediaError) and outputs[1].error.sample == 1
    assert outputs[1].text == "" and outputs[1].token_ids == [] and outputs[1].prompt == "And this?"
    alone = [pipe.generate(prompts[0], images=IMAGE, max_new_tokens=3),
             pipe.generate(prompts[2], images=OTHER_IMAGE, max_new_tokens=3)]
    assert [outputs[0].token_ids, outputs[2].token_ids] == [o.token_ids for o in alone]
    assert outputs[0].error is None and outputs[2].error is None


def test_errors_return_isolates_a_sample_the_processor_refuses(pipe):
    prompts = ["USER: <image>\nWhat? ASSISTANT:", "USER: <image>\n<image>\nTwo? ASSISTANT:", "USER: Hi ASSISTANT:"]
    images = [[IMAGE], [OTHER_IMAGE], []]
    with pytest.raises(ProcessorError, match="sample 1: expected 1 <image> placeholder"):
        pipe.generate(prompts, images=images, template=False, max_new_tokens=2)
    outputs = pipe.generate(prompts, images=images, template=False, max_new_tokens=2, errors="return")
    assert outputs[1].finish_reason == "error" and str(outputs[1].error).startswith("sample 1: expected 1 <image>")
    assert outputs[0].token_ids == pipe.generate(prompts[0], images=[IMAGE], template=False, max_new_tokens=2).token_ids
    assert outputs[2].token_ids == pipe.generate(prompts[2], template=False, max_new_tokens=2).token_ids


def test_errors_return_isolates_a_prompt_too_long_for_the_context(short_pipe):
    outputs = short_pipe.generate(["Hi", "What is it?"], images=[None, IMAGE], max_new_tokens=2, errors="return")
    assert outputs[1].finish_reason == "error" and "sample 1: the prompt is" in str(outputs[1].error)
    assert outputs[0].token_ids == short_pipe.generate("Hi", max_new_tokens=2).token_ids
    with pytest.raises(ProcessorError, match="^sample 1: the prompt is"):
        short_pipe.generate(["Hi", "What is it?"], images=[None, IMAGE], max_new_tokens=2)


def test_an_unknown_error_mode_is_refused(pipe):
    with pytest.raises(ProcessorError, match="errors='ignore'"):
        pipe.generate(["a"], errors="ignore")

"""``validate`` catches what would fail at run time (issue 16, item 15): pixels a tower cannot
take, an empty feature-layer list, a device that is not here, one token id for two roles; and
with ``--build`` anything the builder raises. Each refused config is also shown to fail for
real when the check is not there to stop it."""
from __future__ import annotations

import json

import pytest

from mmplug.core.cli.main import main
from mmplug.core.errors import ConfigError, ProcessorError
from mmplug.core.resolve import resolve_config
from mmplug.registry import hookimpl


def problems(*overrides: str) -> dict[str, str]:
    """{dotted path: message} of every problem of tiny-random with ``overrides``."""
    with pytest.raises(ConfigError) as caught:
        resolve_config("tiny-random", list(overrides))
    return {issue.path: issue.message for issue in caught.value.issues}


def test_a_crop_the_tower_cannot_take_is_refused_and_would_fail_in_the_tower():
    torch = pytest.importorskip("torch")
    found = problems("image_processor.crop_size=112")
    assert "112x112" in found["image_processor.crop_size"] and "224x224" in found["image_processor.crop_size"]
    assert "vision_encoder (clip) and video_encoder (clip)" in found["image_processor.crop_size"]
    from mmplug.core.pipeline import Pipeline

    pipe = Pipeline.from_config("tiny-random", ["runtime.seed=0"])
    with pytest.raises(ProcessorError, match="expects pixels"):  # what a 112 px crop meets at the first forward
        pipe.model.image_features(torch.zeros(1, 3, 112, 112))


def test_a_square_resize_processor_is_checked_by_its_own_key():
    found = problems("vision_encoder.name=siglip", "vision_encoder.image_size=224", "vision_encoder.patch_size=16",
                     "image_processor.name=siglip", "image_processor.size=384", "multimodal.share_vision_encoder=true",
                     "video_encoder=null")
    assert "384x384" in found["image_processor.size"], found


def test_an_empty_feature_layer_list_is_refused():
    assert "empty list" in problems("multimodal.vision_feature_layer=[]")["multimodal.vision_feature_layer"]


@pytest.mark.parametrize("overrides, path, clash", [
    (["multimodal.video_token_id=32000"], "multimodal.video_token_id", "multimodal.image_token_id"),
    (["multimodal.pad_token_id=32000"], "multimodal.pad_token_id", "multimodal.image_token_id"),
    (["multimodal.pad_token_id=32001"], "multimodal.pad_token_id", "multimodal.video_token_id"),
])
def test_one_token_id_for_two_roles_is_refused(overrides, path, clash):
    assert clash in problems(*overrides)[path]


def test_a_device_that_is_not_here_is_refused():
    torch = pytest.importorskip("torch")
    assert "not a device torch knows" in problems("runtime.device=gpu")["runtime.device"]
    if not torch.cuda.is_available():
        assert "cuda" in problems("runtime.device=cuda")["runtime.device"]
        with pytest.raises((RuntimeError, AssertionError)):  # what building there would do
            torch.zeros(1, device="cuda")
    else:
        count = torch.cuda.device_count()
        assert f"only {count}" in problems(f"runtime.device=cuda:{count}")["runtime.device"]


def test_every_problem_is_reported_together(capsys):
    assert main(["validate", "tiny-random", "--json", "--set", "image_processor.crop_size=112",
                 "--set", "multimodal.video_token_id=32000", "--set", "runtime.device=gpu"]) == 1
    paths = {error["path"] for error in json.loads(capsys.readouterr().out)["errors"]}
    assert paths == {"image_processor.crop_size", "multimodal.video_token_id", "runtime.device"}


def test_the_shipped_presets_stay_valid():
    for preset in ("tiny-random", "video-llava-7b", "llava-1.5-7b", "llava-onevision-qwen2-0.5b"):
        resolve_config(preset)


def test_build_counts_what_the_builder_makes_and_plain_validate_counts_nothing(capsys):
    pytest.importorskip("torch")
    from mmplug.core.builder import build_model, count_parameters

    assert main(["validate", "tiny-random", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["built"] is False and plain["parameters"] is None
    assert main(["validate", "tiny-random", "--json", "--build"]) == 0
    built = json.loads(capsys.readouterr().out)
    assert built["parameters"] == count_parameters(build_model(resolve_config("tiny-random"), meta=True))
    assert [row["section"] for row in built["parts"]] == [row["section"] for row in plain["parts"]]


def _broken_projector(options, context):
    raise ZeroDivisionError("the factory divided by zero")


class BrokenProjectorPlugin:
    """A third-party plugin whose projector factory raises."""

    @hookimpl
    def mmplug_register_parts(self, register):
        register("projector", "broken_proj", _broken_projector, summary="raises when built")


def test_build_reports_a_failing_factory_by_part(toy_registry, capsys):
    assert toy_registry.add_plugin(BrokenProjectorPlugin()), toy_registry.failures
    assert main(["validate", "toy", "--set", "projector.name=broken_proj"]) == 0  # checking runs no factory
    capsys.readouterr()
    assert main(["validate", "toy", "--set", "projector.name=broken_proj", "--build"]) == 1
    out = capsys.readouterr().err
    assert "projector" in out and "broken_proj" in out and "divided by zero" in out

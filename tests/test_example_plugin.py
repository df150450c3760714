"""The example third-party package (examples/mmplug-example) meets the contracts of its kinds."""
import pytest

from mmplug.core.builder import BuildContext
from mmplug.core.conformance import check_frame_sampler, check_projector
from mmplug.core.interfaces import VideoInfo
from mmplug.registry import discover

pytest.importorskip("mmplug_example", reason="examples/mmplug-example is not installed")


@pytest.fixture(scope="module")
def registry():
    return discover()


def test_listed_with_its_distribution(registry):
    spec = registry.get("projector", "pooled_mlp2x_gelu")
    assert spec.provenance.distribution == "mmplug-example" and spec.provenance.version == "0.1.0"


@pytest.mark.parametrize("length, expected", [(256, 64), (257, 65), (16, 4)])
def test_pooled_projector_contract(registry, length, expected):
    projector = registry.build("projector", "pooled_mlp2x_gelu", {},
                               BuildContext("projector", wiring={"in_features": 8, "out_features": 4}))
    assert projector.output_length(length) == expected
    check_projector(projector, length=length)


def test_scene_change_sampler_picks_cuts(registry):
    import numpy as np

    sampler = registry.build("frame_sampler", "scene_change", {"num_frames": 3, "candidates": 20})
    check_frame_sampler(sampler)
    info = VideoInfo(num_frames=100, fps=25, duration=4, width=16, height=16)
    scenes = np.zeros((100, 8, 8, 3), dtype=np.uint8)
    scenes[40:], scenes[70:] = 120, 250  # cuts at frames 40 and 70

    def peek(indices, size):
        return scenes[np.asarray(indices)]

    chosen = sampler.select(info, peek).tolist()
    assert chosen[0] == 0 and len(chosen) == 3
    # the first candidate after each cut (candidates are ~5 frames apart)
    assert any(40 <= i < 46 for i in chosen) and any(70 <= i < 76 for i in chosen)

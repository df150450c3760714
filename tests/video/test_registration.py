"""The video plugin registers like a third-party package, cheaply."""
from __future__ import annotations

import subprocess
import sys

import pytest

from mmplug.core.errors import ConfigError
from mmplug.core.interfaces.video import FrameSampler, VideoDecoder
from mmplug.registry import discover


def test_parts_are_registered_through_the_entry_point():
    registry = discover()
    assert {"pyav", "decord"} <= set(registry.names("video_decoder"))
    assert {"uniform", "linspace", "fps", "segment", "all"} <= set(registry.names("frame_sampler"))
    assert registry.get("video_decoder", "pyav").provenance.plugin == "video"


def test_built_parts_implement_the_interfaces():
    registry = discover()
    decoder = registry.build("video_decoder", "pyav", {"threads": 2, "seek": "never"})
    assert isinstance(decoder, VideoDecoder) and (decoder.threads, decoder.seek) == (2, "never")
    assert decoder.availability().ok
    assert isinstance(registry.build("frame_sampler", "uniform", {"num_frames": 4}, None), FrameSampler)


@pytest.mark.parametrize("options,where", [
    ({"threads": 0}, "video_decoder.threads"),
    ({"threads": "many"}, "video_decoder.threads"),
    ({"seek": "sometimes"}, "video_decoder.seek"),
    ({"thread": 2}, "video_decoder.thread"),
])
def test_decoder_options_are_validated(options, where):
    with pytest.raises(ConfigError) as caught:
        discover().build("video_decoder", "pyav", options)
    assert where in str(caught.value)


def test_registering_imports_no_decoder_library():
    code = ("import sys; from mmplug.registry import discover; r = discover(); "
            "[s.load_options() for s in r.parts('video_decoder') + r.parts('frame_sampler')]; "
            "print(sorted(m for m in ('av', 'decord', 'numpy', 'torch', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

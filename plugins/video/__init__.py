"""Built-in video plugin: video decoders (``pyav``, ``decord``) and frame samplers
(``uniform``, ``linspace``, ``fps``, ``segment``, ``all``).

Registered through the ``mmplug`` entry point like any third-party plugin; this
module imports nothing heavy (decoders and samplers load when built).
"""
from mmplug.registry import hookimpl

_OPTIONS = "mmplug.plugins.video.options"
_SAMPLERS = "mmplug.plugins.video.samplers"


@hookimpl
def mmplug_register_parts(register):
    register("video_decoder", "pyav", "mmplug.plugins.video.pyav_decoder:build_pyav",
             options=f"{_OPTIONS}:PyAVOptions", default=True,
             summary="PyAV/FFmpeg: exact frames, keyframe seeking, threads, scaling in the conversion (default)")
    register("video_decoder", "decord", "mmplug.plugins.video.decord_decoder:build_decord",
             options=f"{_OPTIONS}:DecordOptions",
             summary='decord get_batch (optional: pip install "mmplug[decord]")')
    samplers = {
        "uniform": ("CountOptions", "np.arange(0, n, n/k): k frames from frame 0 (Video-LLaVA-7B-hf docs rule)"),
        "linspace": ("CountOptions", "np.linspace(0, n-1, k): first and last frame included (original Video-LLaVA)"),
        "fps": ("FpsOptions", "frames per second of video, capped at max_frames"),
        "segment": ("SegmentOptions", "a seeded random frame from each of k equal segments (training)"),
        "all": ("AllOptions", "every frame, up to max_frames"),
    }
    for name, (options, summary) in samplers.items():
        register("frame_sampler", name, f"{_SAMPLERS}:build_{name}", options=f"{_OPTIONS}:{options}",
                 summary=summary)

"""mmplug-example: registers its parts cheaply; the torch code loads only when built."""
from mmplug.registry import hookimpl


@hookimpl
def mmplug_register_parts(register):
    register("projector", "pooled_mlp2x_gelu", "mmplug_example.pooled_projector:build",
             options="mmplug_example.options:PooledProjectorOptions",
             summary="2x2 average pooling per frame, then Linear -> GELU -> Linear (4x fewer tokens)")
    register("frame_sampler", "scene_change", "mmplug_example.scene_sampler:build",
             options="mmplug_example.options:SceneChangeOptions",
             summary="frames just after the largest scene changes, topped up uniformly")

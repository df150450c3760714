"""Built-in projectors: ``mlp2x_gelu`` (Linear -> activation -> Linear) and ``linear``.

Both map (N,L,vision_hidden x feature_layers) -> (N,L,text_hidden); widths are wired
by the builder. Registers lazy references only (no torch at import).
"""
from mmplug.registry import hookimpl


@hookimpl
def mmplug_register_parts(register):
    register("projector", "mlp2x_gelu", "mmplug.plugins.projectors.mlp:build_mlp2x",
             options="mmplug.plugins.projectors.options:Mlp2xOptions",
             summary="Linear -> activation (gelu) -> Linear")
    register("projector", "linear", "mmplug.plugins.projectors.mlp:build_linear",
             options="mmplug.plugins.projectors.options:LinearOptions", summary="one Linear layer")

"""Built-in checkpoint formats (registered through the mmplug entry point group).

- ``published``: LanguageBind/Video-LLaVA-7B-hf, transformers 4.4x-4.5x ``save_pretrained``
  (``language_model.model.*``, ``image_tower.vision_model.*``, ``multi_modal_projector.*``);
- ``v5``: transformers 5.x ``save_pretrained`` (towers without ``vision_model.``);
- ``v5_prefixed``: the same under a leading ``model.`` with a top-level ``lm_head``;
- ``state_dict``: transformers >= 4.52 in-memory names (``model.image_tower.vision_model.*``);
- ``languagebind``: the original LanguageBind/Video-LLaVA-7B checkpoint (recognised; converted
  by ``mmplug convert``, never loaded half-way).

Registers lazy references only: importing this module never imports torch.
"""
from mmplug.registry import hookimpl

FORMATS = {
    "published": "Video-LLaVA-7B-hf layout (transformers 4.4x-4.5x save_pretrained)",
    "v5": "transformers 5.x save_pretrained: towers without vision_model.",
    "v5_prefixed": "transformers 5.x layout under model. with a top-level lm_head",
    "state_dict": "transformers >= 4.52 in-memory state_dict names (model.image_tower.vision_model.*)",
}


@hookimpl
def mmplug_register_parts(register):
    for name, summary in FORMATS.items():
        register("checkpoint_format", name, f"mmplug.plugins.checkpoints.prefix:{name}", summary=summary)
    register("checkpoint_format", "languagebind", "mmplug.plugins.checkpoints.languagebind:languagebind",
             summary="original LanguageBind/Video-LLaVA-7B (llava config, model.mm_projector.*); convert it first")

"""The Video-LLaVA model family: its checkpoint layouts and their ``config.json`` translation.

- ``published``: LanguageBind/Video-LLaVA-7B-hf, transformers 4.4x-4.5x ``save_pretrained``
  (``language_model.model.*``, ``image_tower.vision_model.*``, ``multi_modal_projector.*``);
- ``v5``: transformers 5.x ``save_pretrained`` (towers without ``vision_model.``);
- ``v5_prefixed``: the same under a leading ``model.`` with a top-level ``lm_head``;
- ``state_dict``: transformers >= 4.52 in-memory names (``model.image_tower.vision_model.*``);
- ``languagebind``: the original LanguageBind/Video-LLaVA-7B checkpoint (recognised; converted
  by ``mmplug convert``, never loaded half-way).

The towers and the decoder translate their own sub-configs (the ``hf_mapping`` their part
plugins register). Registers lazy references only: importing this module never imports torch.
"""
from mmplug.registry import hookimpl

LAYOUTS = {
    "published": "Video-LLaVA-7B-hf layout (transformers 4.4x-4.5x save_pretrained)",
    "v5": "transformers 5.x save_pretrained: towers without vision_model.",
    "v5_prefixed": "transformers 5.x layout under model. with a top-level lm_head",
    "state_dict": "transformers >= 4.52 in-memory state_dict names (model.image_tower.vision_model.*)",
}


@hookimpl
def mmplug_register_parts(register):
    for name, summary in LAYOUTS.items():
        register("checkpoint_format", name, f"mmplug.plugins.video_llava.layouts:{name}", summary=summary)
    register("checkpoint_format", "languagebind", "mmplug.plugins.video_llava.languagebind:languagebind",
             summary="original LanguageBind/Video-LLaVA-7B (llava config, model.mm_projector.*); convert it first")

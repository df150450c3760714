"""The assembled multimodal model: vision towers -> projector -> placeholder merge -> decoder.

Shapes: input_ids (B,S); pixel_values_images (N,3,H,W); pixel_values_videos (V,T,3,H,W).
An image yields L_img tokens (``image_feature_select_strategy``), a video T x L_vid tokens
(``video_feature_select_strategy``, frames run through the tower as one batch of V*T images).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mmplug.core.config import MultimodalConfig
from mmplug.core.errors import ConfigError, ConfigIssue, ProcessorError
from mmplug.core.feature_select import drops_cls
from mmplug.core.model.cache import KVCache
from mmplug.core.model.placeholders import merge_features, merge_runs

from mmplug.core.processor.batching import IGNORE_INDEX


@dataclass
class MultimodalOutput:
    """``logits`` (B,K,vocab) for the kept positions; ``loss`` scalar with labels; ``cache`` the
    updated KV cache; ``hidden_states`` the decoder's (embeddings, every block, last normed)."""

    logits: torch.Tensor
    loss: torch.Tensor | None = None
    cache: KVCache | None = None
    hidden_states: list[torch.Tensor] | None = None
    image_features: torch.Tensor | None = None
    video_features: torch.Tensor | list[torch.Tensor] | None = None


@dataclass
class MediaEmbeddings:
    """Input embeddings (B,S,D) with media merged in, and the projected features themselves."""

    embeds: torch.Tensor
    image_features: torch.Tensor | None = None
    video_features: torch.Tensor | list[torch.Tensor] | None = None


class MultimodalModel(nn.Module):
    """Vision tower(s), projector and language model joined by placeholder tokens."""

    def __init__(self, *, vision_encoder: nn.Module, video_encoder: nn.Module | None, projector: nn.Module,
                 language_model: nn.Module, config: MultimodalConfig):
        super().__init__()
        self.config = config
        self.vision_encoder = vision_encoder
        self.video_encoder = video_encoder
        self.projector = projector
        self.language_model = language_model
        self.feature_layers = config.feature_layers()
        for section in config.freeze:
            self._section(section, "multimodal.freeze").requires_grad_(False)
        if config.gradient_checkpointing:
            self.set_gradient_checkpointing(True)

    # ------------------------------------------------------------------ parts
    def _section(self, section: str, where: str) -> nn.Module:
        part = getattr(self, section)
        if part is None:
            raise ConfigError([ConfigIssue(where, f"this model has no {section} (the image tower serves videos "
                                                  "when share_vision_encoder is true)")])
        return part

    def video_tower(self) -> nn.Module:
        """The tower that encodes video frames."""
        if self.video_encoder is not None:
            return self.video_encoder
        if self.config.share_vision_encoder:
            return self.vision_encoder
        raise ConfigError([ConfigIssue("video_encoder", "videos were given but this model has no video tower; "
                                                        "add a video_encoder section or set "
                                                        "multimodal.share_vision_encoder: true")])

    def set_gradient_checkpointing(self, enabled: bool = True) -> None:
        """Recompute activations of the towers' and decoder's layers in backward."""
        for section in ("vision_encoder", "video_encoder", "language_model"):
            part = getattr(self, section)
            if part is not None:
                part.set_gradient_checkpointing(enabled)

    @staticmethod
    def new_cache(capacity: int = 0) -> KVCache:
        """An empty KV cache for incremental decoding (``capacity``: tokens to preallocate)."""
        return KVCache(capacity)

    # ------------------------------------------------------------------ features
    def _project(self, tower: nn.Module, pixels: torch.Tensor, strategy: str, frames: bool = False) -> torch.Tensor:
        states = tower.hidden_states(pixels, self.feature_layers)
        if drops_cls(strategy, tower.has_cls_token):
            states = [s[:, 1:] for s in states]
        features = torch.cat(states, dim=-1)
        return self.projector.project_frames(features) if frames else self.projector(features)

    def image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        """Projected features per image: pixels (N,3,H,W) -> (N, L_img, D_text)."""
        return self._project(self.vision_encoder, pixels, self.config.image_feature_select_strategy)

    def video_features(self, pixels: torch.Tensor | list[torch.Tensor]) -> torch.Tensor | list[torch.Tensor]:
        """Projected features per video: pixels (V,T,3,H,W) -> (V, T*L_vid, D_text); a list of
        (T_i,3,H,W) (videos of different lengths) -> a list of (T_i*L_vid, D_text)."""
        frames, lengths = self._video_frames(pixels)
        videos = [self.projector.arrange_video(chunk) for chunk in self._frame_features(frames).split(lengths)]
        return torch.stack(videos) if isinstance(pixels, torch.Tensor) else videos

    def _video_frames(self, pixels: torch.Tensor | list[torch.Tensor]) -> tuple[torch.Tensor, list[int]]:
        """All frames as one batch (sum T_i,3,H,W) and each video's frame count."""
        videos = list(pixels) if isinstance(pixels, (list, tuple)) else None
        if videos is None and pixels.dim() != 5:
            raise ProcessorError(f"video pixels must be (videos, frames, 3, H, W), got {tuple(pixels.shape)}")
        if videos is None:
            return pixels.flatten(0, 1), [pixels.shape[1]] * pixels.shape[0]
        for index, video in enumerate(videos):
            if video.dim() != 4:
                raise ProcessorError(f"video {index}: pixels must be (frames, 3, H, W), got {tuple(video.shape)}")
        return torch.cat(videos), [video.shape[0] for video in videos]

    def _frame_features(self, frames: torch.Tensor) -> torch.Tensor:
        """(F,3,H,W) -> (F, L_vid, D_text), frames through the video tower as one batch."""
        return self._project(self.video_tower(), frames, self.config.video_feature_select_strategy, frames=True)

    def _placeholder_slots(self, input_ids: torch.Tensor | None, embeds: torch.Tensor, key: str) -> torch.Tensor:
        """(B,S) bool: where the ``key`` token sits (found by id, or by embedding without ids)."""
        token_id = getattr(self.config, key)
        if token_id is None:
            raise ConfigError([ConfigIssue(f"multimodal.{key}", "media were given but no placeholder token id "
                                                                "is configured; set it")])
        if input_ids is not None:
            return input_ids == token_id
        token = self.language_model.embed(torch.tensor([token_id], device=embeds.device)).to(embeds.dtype)
        return (embeds == token).all(dim=-1)

    # ------------------------------------------------------------------ forward
    def embed_inputs(self, input_ids: torch.Tensor | None = None, *, inputs_embeds: torch.Tensor | None = None,
                     pixel_values_images: torch.Tensor | None = None,
                     pixel_values_videos: torch.Tensor | list[torch.Tensor] | None = None) -> MediaEmbeddings:
        """Embeddings (B,S,D) of ``input_ids`` (or ``inputs_embeds`` as given) with the projected image /
        video features written over their placeholders: the vision half of :meth:`forward`."""
        embeds = self.language_model.embed(input_ids) if inputs_embeds is None else inputs_embeds
        image_features = video_features = None
        if pixel_values_images is not None:
            image_features = self.image_features(pixel_values_images)
            slots = self._placeholder_slots(input_ids, embeds, "image_token_id")
            embeds = merge_features(embeds, slots, image_features, kind="image", token="<image>")
        if pixel_values_videos is not None:
            frames, lengths = self._video_frames(pixel_values_videos)
            frame_features = self._frame_features(frames)
            slots = self._placeholder_slots(input_ids, embeds, "video_token_id")
            videos = [self.projector.arrange_video(chunk) for chunk in frame_features.split(lengths)]
            if all(len(video) == n * frame_features.shape[1] for video, n in zip(videos, lengths)):
                embeds = merge_features(embeds, slots, frame_features, kind="video frame", token="<video>")
            else:  # the projector appends tokens per video: merge whole videos
                embeds = merge_runs(embeds, slots, videos, kind="video", token="<video>")
            video_features = torch.stack(videos) if isinstance(pixel_values_videos, torch.Tensor) else videos
        return MediaEmbeddings(embeds, image_features, video_features)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        *,
        inputs_embeds: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        pixel_values_images: torch.Tensor | None = None,
        pixel_values_videos: torch.Tensor | None = None,
        cache: KVCache | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool = False,
        logits_to_keep: int | torch.Tensor = 0,
    ) -> MultimodalOutput:
        """Logits (B,K,vocab) of ids (B,S) or embeddings (B,S,D) with media merged in at their
        placeholders. ``logits_to_keep`` k > 0 keeps the last k positions (a tensor: those indices);
        ``labels`` (B,S), -100 = ignored, give the mean next-token cross-entropy."""
        if (input_ids is None) == (inputs_embeds is None):
            raise ProcessorError("pass exactly one of input_ids or inputs_embeds")
        if labels is not None and not (isinstance(logits_to_keep, int) and logits_to_keep == 0):
            raise ProcessorError("labels need the logits of every position; leave logits_to_keep at 0")
        media = self.embed_inputs(input_ids, inputs_embeds=inputs_embeds, pixel_values_images=pixel_values_images,
                                  pixel_values_videos=pixel_values_videos)
        embeds, image_features, video_features = media.embeds, media.image_features, media.video_features
        out = self.language_model.decode(embeds, attention_mask=attention_mask, position_ids=position_ids,
                                         cache=cache, output_hidden_states=output_hidden_states)
        hidden = out.hidden
        if isinstance(logits_to_keep, torch.Tensor):
            hidden = hidden[:, logits_to_keep]
        elif logits_to_keep:
            hidden = hidden[:, -logits_to_keep:]
        logits = self.language_model.logits(hidden)
        loss = causal_lm_loss(logits, labels) if labels is not None else None
        return MultimodalOutput(logits=logits, loss=loss, cache=out.cache, hidden_states=out.hidden_states,
                                image_features=image_features, video_features=video_features)


def causal_lm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of position t predicting labels[t+1]; logits (B,S,V), labels (B,S)."""
    shifted = logits[:, :-1].float().reshape(-1, logits.shape[-1])
    targets = labels[:, 1:].to(logits.device).reshape(-1)
    return F.cross_entropy(shifted, targets, ignore_index=IGNORE_INDEX)

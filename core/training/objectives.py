"""What a training stage minimises (``objective:`` in a stage of the training config).

- ``next_token``: the mean cross-entropy of the assistant text given everything before it
  (the processor's ``labels``); the whole model runs.
- ``bag_of_words``: vision-side pretraining in the manner of CatLIP (Mehta et al., 2024: image-text
  pretraining recast as classification over caption words). A sample's media tokens, projected
  into the language model's space and mean-pooled, go through the language model's output head;
  every token of the sample's assistant answers is a target of a softmax cross-entropy. Only the
  towers, the projector and the output head run, so a step is a fraction of a decoder step; a
  tower trained from random weights learns what the answers name (shape, colour, ...) before the
  decoder has to learn where to look for it.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import torch
import torch.nn.functional as F

from mmplug.core.errors import ProcessorError
from mmplug.core.processor.labels import IGNORE_INDEX


def next_token_loss(model: Any, batch: Any) -> torch.Tensor:
    """Mean next-token cross-entropy of ``batch`` (input_ids, attention_mask, labels, pixels)."""
    return model(**batch).loss


def pooled_media_embeddings(model: Any, batch: Any) -> torch.Tensor:
    """(B, D_text): the mean of each sample's projected media tokens (images and video frames).

    Text positions are not embedded (they would get no gradient); a sample without media raises.
    """
    input_ids = batch["input_ids"]
    config = model.config
    media_ids = [i for i in (config.image_token_id, config.video_token_id) if i is not None]
    slots = torch.isin(input_ids, torch.tensor(media_ids, device=input_ids.device))
    counts = slots.sum(dim=1)
    if bool((counts == 0).any()):
        missing = [int(i) for i in (counts == 0).nonzero().flatten()]
        raise ProcessorError(f"bag_of_words: batch sample(s) {missing} hold no image or video; this objective "
                             "learns from media only")
    parameter = next(model.projector.parameters())
    blank = torch.zeros(*input_ids.shape, model.language_model.hidden_size, dtype=parameter.dtype,
                        device=parameter.device)
    media = model.embed_inputs(input_ids, inputs_embeds=blank, pixel_values_images=batch.get("pixel_values_images"),
                               pixel_values_videos=batch.get("pixel_values_videos"))
    return media.embeds.sum(dim=1) / counts[:, None].to(media.embeds.dtype)


def bag_of_words_loss(model: Any, batch: Any, ignore_ids: Iterable[int] = ()) -> torch.Tensor:
    """Softmax cross-entropy of every answer token (``labels`` other than ``ignore_ids``, e.g. EOS)
    against the output head applied to :func:`pooled_media_embeddings`, averaged over tokens."""
    logits = model.language_model.logits(pooled_media_embeddings(model, batch)).float()  # (B, V)
    labels = batch["labels"].to(logits.device)
    keep = labels != IGNORE_INDEX
    for token in ignore_ids:
        keep &= labels != token
    if not bool(keep.any()):
        raise ProcessorError("bag_of_words: the batch has no answer token to learn (only special tokens)")
    targets = torch.zeros_like(logits).scatter_add_(1, labels.clamp(min=0), keep.to(logits.dtype))
    return -(F.log_softmax(logits, dim=-1) * targets).sum() / targets.sum()


def special_token_ids(processor: Any) -> set[int]:
    """Token ids that name no content (BOS, EOS, padding, media placeholders): left out of bags of words."""
    tokenizer = processor.tokenizer
    ids = {getattr(tokenizer, name, None) for name in ("bos_token_id", "eos_token_id", "pad_token_id")}
    ids |= {getattr(processor, name, None) for name in ("image_token_id", "video_token_id", "pad_token_id")}
    return {int(i) for i in ids if i is not None}


def stage_loss(objective: str, model: Any, batch: Any, ignore_ids: Iterable[int] = ()) -> torch.Tensor:
    """The loss of one micro-batch under a stage's ``objective``."""
    if objective == "bag_of_words":
        return bag_of_words_loss(model, batch, ignore_ids)
    return next_token_loss(model, batch)


@torch.no_grad()
def pooled_readout(pipeline: Any, samples: Sequence[Any], *, batch_size: int = 16) -> dict[str, float]:
    """What a ``bag_of_words`` stage taught, read without the decoder: per task (the manifest's
    ``task`` key), the fraction of samples whose answer is the output head's best word, on the
    pooled media (:func:`pooled_media_embeddings`), among the answers that task has in ``samples``.

    Answers must be one token each (a multi-token answer raises, naming its line).
    """
    from mmplug.core.training.data import MediaCache, training_batch
    from mmplug.core.training.evaluation import EvalReport, task_of

    tokenizer = pipeline.processor.tokenizer
    words: dict[str, dict[str, int]] = {}  # task -> answer -> its token id
    for sample in samples:
        ids = tokenizer.encode(sample.answer(), add_special_tokens=False)
        if len(ids) != 1:
            raise ProcessorError(f"line {sample.line}: answer {sample.answer()!r} is {len(ids)} tokens; the pooled "
                                 "readout scores one-token answers")
        words.setdefault(task_of(sample), {})[sample.answer()] = ids[0]
    candidates = {task: (list(answers), list(answers.values())) for task, answers in words.items()}
    media, report = MediaCache(pipeline, keep=False), EvalReport()
    for start in range(0, len(samples), batch_size):
        chunk = samples[start:start + batch_size]
        logits = pipeline.model.language_model.logits(
            pooled_media_embeddings(pipeline.model, training_batch(pipeline.processor, media, chunk)))
        for sample, row in zip(chunk, logits):
            names, ids = candidates[task_of(sample)]
            report.record(sample, names[int(row[ids].argmax())], sample.answer())
    return report.as_dict()

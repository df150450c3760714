"""Conformance checks a plugin author runs against their own part.

Each ``check_*`` function exercises the shape contract of one kind and raises
``AssertionError`` with a message saying what is wrong. Use them in your tests::

    from mmplug.core.conformance import check_projector
    def test_my_projector():
        check_projector(MyProjector(in_features=64, out_features=32))
"""
from __future__ import annotations

from typing import Any, Sequence


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def check_video_decoder(decoder: Any, source: Any) -> None:
    """probe() -> VideoInfo; read() -> uint8 (T,H,W,3) frames, one timestamp per frame."""
    from mmplug.core.interfaces import VideoDecoder, VideoInfo

    _expect(isinstance(decoder, VideoDecoder), f"{type(decoder).__name__} must subclass VideoDecoder")
    info = decoder.probe(source)
    _expect(isinstance(info, VideoInfo), "probe() must return a VideoInfo")
    _expect(info.num_frames >= 1, f"probe() found {info.num_frames} frames")
    indices = sorted({0, info.num_frames - 1})
    frames = decoder.read(source, indices)
    _expect(frames.frames.dtype.name == "uint8", f"frames must be uint8, got {frames.frames.dtype}")
    _expect(frames.frames.ndim == 4 and frames.frames.shape[-1] == 3,
            f"frames must be (T,H,W,3), got {frames.frames.shape}")
    _expect(frames.frames.shape[0] == len(indices), f"asked for {len(indices)} frames, got {frames.frames.shape[0]}")
    _expect(frames.frames.shape[1:3] == (info.height, info.width),
            f"frame size {frames.frames.shape[1:3]} differs from probe()'s {(info.height, info.width)}")
    _expect(len(frames.timestamps) == len(indices), "one timestamp per frame is required")


def check_frame_sampler(sampler: Any, num_frames: int = 100, fps: float = 25.0) -> None:
    """indices() stays inside the video, for long and very short videos alike."""
    from mmplug.core.interfaces import FrameSampler, VideoInfo

    _expect(isinstance(sampler, FrameSampler), f"{type(sampler).__name__} must subclass FrameSampler")
    _expect(sampler.short_video_policy in ("repeat", "error"), "short_video_policy must be 'repeat' or 'error'")
    for count in (num_frames, 1):
        info = VideoInfo(num_frames=count, fps=fps, duration=count / fps, width=64, height=48)
        try:
            indices = sampler.indices(info)
        except Exception:
            if count == 1 and sampler.short_video_policy == "error":
                continue
            raise
        _expect(len(indices) >= 1, f"no frames chosen for a {count}-frame video")
        _expect(all(0 <= int(i) < count for i in indices), f"indices {list(indices)} leave a {count}-frame video")


def check_image_processor(processor: Any) -> None:
    """Images of odd sizes -> float32 (N,3,H,W) of ``output_size``."""
    import numpy as np

    from mmplug.core.interfaces import ImageProcessor

    _expect(isinstance(processor, ImageProcessor), f"{type(processor).__name__} must subclass ImageProcessor")
    images = [np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in ((37, 91), (300, 200))]
    pixels = processor(images)
    height, width = processor.output_size
    _expect(tuple(pixels.shape) == (2, 3, height, width), f"expected (2,3,{height},{width}), got {tuple(pixels.shape)}")
    _expect(str(pixels.dtype) == "torch.float32", f"pixels must be float32, got {pixels.dtype}")


def check_tokenizer(tokenizer: Any, texts: Sequence[str] = ("Hello world", "a  b\n\nc", "naïve 😀")) -> None:
    """encode/decode round-trips plain text; special ids lie inside the vocabulary."""
    from mmplug.core.interfaces import Tokenizer

    _expect(isinstance(tokenizer, Tokenizer), f"{type(tokenizer).__name__} must subclass Tokenizer")
    for text in texts:
        ids = tokenizer.encode(text, add_special_tokens=False)
        _expect(all(0 <= i < tokenizer.vocab_size for i in ids), f"ids of {text!r} leave the vocabulary")
        decoded = tokenizer.decode(ids, skip_special_tokens=True)
        _expect(decoded == text, f"decode(encode({text!r})) gave {decoded!r}")
    for name in ("bos_token_id", "eos_token_id", "pad_token_id"):
        value = getattr(tokenizer, name, None)
        _expect(value is None or 0 <= value < tokenizer.vocab_size, f"{name}={value} is outside the vocabulary")


def check_chat_template(template: Any) -> None:
    """render() returns a string with one placeholder source per media entry."""
    from mmplug.core.interfaces import ChatTemplate

    _expect(isinstance(template, ChatTemplate), f"{type(template).__name__} must subclass ChatTemplate")
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is this?"}]}]
    prompt = template.render(messages, add_generation_prompt=True)
    _expect(isinstance(prompt, str) and "What is this?" in prompt, f"render() lost the user text: {prompt!r}")


def check_vision_encoder(encoder: Any, image_size: int = 224) -> None:
    """hidden_states() returns one (N, tokens, hidden) tensor per requested layer."""
    import torch

    from mmplug.core.interfaces import VisionEncoder

    _expect(isinstance(encoder, VisionEncoder), f"{type(encoder).__name__} must subclass VisionEncoder")
    pixels = torch.randn(2, 3, image_size, image_size)
    layers = [-1, 0] if encoder.num_layers else [0]
    with torch.no_grad():
        states = encoder.hidden_states(pixels, layers)
    tokens = encoder.tokens_per_image("full")
    _expect(len(states) == len(layers), f"asked for {len(layers)} layers, got {len(states)}")
    for state in states:
        _expect(tuple(state.shape) == (2, tokens, encoder.hidden_size),
                f"expected (2,{tokens},{encoder.hidden_size}), got {tuple(state.shape)}")


def check_projector(projector: Any, length: int = 16) -> None:
    """forward() maps (N,L,in) to (N,output_length(L),out)."""
    import torch

    from mmplug.core.interfaces import Projector

    _expect(isinstance(projector, Projector), f"{type(projector).__name__} must subclass Projector")
    features = torch.randn(3, length, projector.in_features)
    with torch.no_grad():
        out = projector.forward(features)
    expected = (3, projector.output_length(length), projector.out_features)
    _expect(tuple(out.shape) == expected, f"expected {expected}, got {tuple(out.shape)}")


def check_language_model(model: Any, sequence: int = 5) -> None:
    """embed -> decode -> logits keep (B,S) and produce (B,S,vocab)."""
    import torch

    from mmplug.core.interfaces import LanguageModel

    _expect(isinstance(model, LanguageModel), f"{type(model).__name__} must subclass LanguageModel")
    ids = torch.randint(0, model.vocab_size, (2, sequence))
    with torch.no_grad():
        embeds = model.embed(ids)
        _expect(tuple(embeds.shape) == (2, sequence, model.hidden_size), f"embed() gave {tuple(embeds.shape)}")
        out = model.decode(embeds, attention_mask=torch.ones(2, sequence, dtype=torch.long))
        logits = model.logits(out.hidden)
    _expect(tuple(logits.shape) == (2, sequence, model.vocab_size), f"logits() gave {tuple(logits.shape)}")


def reference_attention(q: Any, k: Any, v: Any, *, causal: bool, mask: Any = None,
                        sliding_window: int | None = None, scale: float | None = None) -> Any:
    """Plain-math attention with the AttentionBackend contract (for comparisons)."""
    import torch

    heads, kv_heads = q.shape[1], k.shape[1]
    k = k.repeat_interleave(heads // kv_heads, dim=1)
    v = v.repeat_interleave(heads // kv_heads, dim=1)
    scores = (q @ k.transpose(-1, -2)) * (scale if scale is not None else q.shape[-1] ** -0.5)
    sq, skv = q.shape[2], k.shape[2]
    query_pos = torch.arange(sq).unsqueeze(1) + (skv - sq)
    key_pos = torch.arange(skv).unsqueeze(0)
    allowed = torch.ones(sq, skv, dtype=torch.bool)
    if causal:
        allowed &= key_pos <= query_pos
    if sliding_window is not None:
        allowed &= key_pos > query_pos - sliding_window
    allowed = allowed.expand(q.shape[0], 1, sq, skv)
    if mask is not None:
        allowed = allowed & mask
    scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1).nan_to_num(0.0) @ v


def check_attention_backend(backend: Any, atol: float = 1e-5) -> None:
    """If the backend can run here (CPU fp32), it must match plain-math attention."""
    import torch

    from mmplug.core.interfaces import AttentionBackend, AttentionRequest

    _expect(isinstance(backend, AttentionBackend), f"{type(backend).__name__} must subclass AttentionBackend")
    verdict = backend.availability(AttentionRequest(device="cpu", dtype="float32"))
    _expect(isinstance(verdict.ok, bool), "availability() must return an Availability")
    if not verdict.ok:
        _expect(bool(verdict.reason), "an unavailable backend must say why")
        return
    generator = torch.Generator().manual_seed(0)
    q = torch.randn(2, 4, 5, 8, generator=generator)
    k = torch.randn(2, 2, 7, 8, generator=generator)
    v = torch.randn(2, 2, 7, 8, generator=generator)
    for causal in (False, True):
        got = backend(q, k, v, causal=causal)
        want = reference_attention(q, k, v, causal=causal)
        _expect(torch.allclose(got, want, atol=atol), f"causal={causal}: max diff {(got - want).abs().max():.2e}")

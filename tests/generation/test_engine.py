"""Generation engine: greedy ids equal transformers' generate; batch rows equal rows alone;
sampling filters, penalties, stop rules."""
from __future__ import annotations

import pytest
import torch

from mmplug.core.generation import GenerationConfig, generate_ids
from mmplug.core.generation.sampling import apply_repetition_penalty, filter_top_k, filter_top_p, next_tokens
from model.reference import PAD, Tiny, build_pair, left_pad, pixels, prompt

EOS = 2
TINY = Tiny(attention="sdpa")


def reference_generate(reference, ids, mask, tokens, **media):
    out = reference.generate(input_ids=ids, attention_mask=mask, max_new_tokens=tokens, do_sample=False,
                             pad_token_id=PAD, eos_token_id=EOS, **media)
    return out[:, ids.shape[1]:]


def trim(row: list[int]) -> list[int]:
    """Reference rows are padded after EOS; cut them like ours."""
    return row[: row.index(EOS) + 1] if EOS in row else row


@pytest.mark.parametrize("case", ["image", "video", "batch"])
def test_greedy_ids_equal_transformers_generate(case):
    reference, ours = build_pair(TINY)
    if case == "image":
        ids, mask = left_pad([prompt(TINY, 5, "image", 7, 9)])
        media = {"pixel_values_images": pixels(1)}
    elif case == "video":
        ids, mask = left_pad([prompt(TINY, 5, ("video", 3), 11)])
        media = {"pixel_values_videos": pixels(1, 3)}
    else:
        ids, mask = left_pad([prompt(TINY, 5, "image", 7, 9, 10, 11, 12), prompt(TINY, 3, ("video", 2), 4)])
        media = {"pixel_values_images": pixels(1), "pixel_values_videos": pixels(1, 2, seed=3)}
    want = reference_generate(reference, ids, mask, 20, **media)
    got = generate_ids(ours, {"input_ids": ids, "attention_mask": mask, **media},
                       GenerationConfig(max_new_tokens=20), eos_ids=[EOS], pad_id=PAD)
    for row, tokens in enumerate(got.token_ids):
        assert tokens == trim(want[row].tolist())
        assert got.finish_reasons[row] == ("eos" if tokens[-1] == EOS else "length")


def test_left_padded_batch_rows_equal_rows_alone():
    _, ours = build_pair(TINY)
    rows = [prompt(TINY, 5, "image", 7), prompt(TINY, 8, 9, 10, 11, 12, 13, "image", 14)]
    images = pixels(2, seed=5)
    config = GenerationConfig(max_new_tokens=12, min_new_tokens=12)
    ids, mask = left_pad(rows)
    together = generate_ids(ours, {"input_ids": ids, "attention_mask": mask, "pixel_values_images": images},
                            config, eos_ids=[EOS], pad_id=PAD)
    for row, tokens in enumerate(rows):
        alone = generate_ids(ours, {"input_ids": torch.tensor([tokens]), "pixel_values_images": images[row:row + 1]},
                             config, eos_ids=[EOS], pad_id=PAD)
        assert together.token_ids[row] == alone.token_ids[0]


def test_min_new_tokens_bans_eos_and_max_stops():
    logits = torch.zeros(1, 10)
    logits[0, EOS] = 5.0
    config = GenerationConfig(max_new_tokens=3)
    seen = torch.zeros(1, 1, dtype=torch.long)
    assert next_tokens(logits, config, seen=seen).item() == EOS
    assert next_tokens(logits, config, seen=seen, banned=[EOS]).item() != EOS


def test_stop_check_ends_a_row_with_stop_reason():
    _, ours = build_pair(TINY)
    ids, mask = left_pad([prompt(TINY, 5, 6, 7)])
    result = generate_ids(ours, {"input_ids": ids, "attention_mask": mask}, GenerationConfig(max_new_tokens=10),
                          eos_ids=[], pad_id=PAD, stop_check=lambda row, tokens: len(tokens) == 4)
    assert len(result.token_ids[0]) == 4 and result.finish_reasons == ["stop"]
    assert len(result.timings["per_token_s"]) == 4 and result.timings["prefill_s"] > 0


def test_top_k_and_top_p_filters():
    logits = torch.tensor([[4.0, 3.0, 2.0, 1.0]])
    assert torch.isinf(filter_top_k(logits, 2)).tolist() == [[False, False, True, True]]
    probabilities = logits.softmax(-1)[0]  # ~0.64, 0.24, 0.09, 0.03
    kept = ~torch.isinf(filter_top_p(logits, 0.8))
    assert kept.tolist() == [[True, True, False, False]] and probabilities[:1].sum() < 0.8
    assert (~torch.isinf(filter_top_p(logits, 0.5))).sum() == 1  # always at least one token


def test_repetition_penalty_matches_its_definition():
    logits = torch.tensor([[2.0, -2.0, 1.0]])
    penalised = apply_repetition_penalty(logits, torch.tensor([[0, 1]]), 2.0)
    assert penalised.tolist() == [[1.0, -4.0, 1.0]]


def test_sampling_is_seeded_and_respects_top_k():
    logits = torch.randn(4, 50, generator=torch.Generator().manual_seed(0))
    config = GenerationConfig(do_sample=True, top_k=3, temperature=0.7)
    seen = torch.zeros(4, 1, dtype=torch.long)
    draws = [next_tokens(logits, config, seen=seen, generator=torch.Generator().manual_seed(7)) for _ in range(2)]
    assert torch.equal(draws[0], draws[1])
    top3 = logits.topk(3, dim=-1).indices
    for _ in range(20):
        token = next_tokens(logits, config, seen=seen)
        assert all(token[b] in top3[b] for b in range(4))


def test_config_errors_are_clear():
    with pytest.raises(ValueError, match="min_new_tokens"):
        GenerationConfig(max_new_tokens=2, min_new_tokens=3)
    with pytest.raises(ValueError, match="max_new_tokens"):
        GenerationConfig(max_new_tokens=0)

"""The hf_tokenizers tokenizer: SentencePiece vectors, parity with transformers, errors, streaming."""
from __future__ import annotations

import json
import random
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmplug.core.errors import ConfigError
from mmplug.core.processor import StreamingDetokenizer
from mmplug.plugins.text.tokenizer import HfTokenizer, clean_up_spaces

from .conftest import PROCESSOR_DIR

SPECIALS = ["<image>", "<video>", "<pad>", "<s>", "</s>", "<unk>"]
POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", ".,;:!?'\"()[]{}-_/\\@#$%^&*+=<>|~`",
    "éèêëàâäôöûüçñßøåæœ", "中文字符测试日本語のテキスト한국어", "привет мир", "مرحبا بالعالم", "שלום",
    ["😀", "😂", "🤖", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "❤️", "✨", "🎉"], "\u0301\u0308\u200b\u200d\ufeff", "½¾°©®™€£¥",
]
WHITESPACE = [" ", "  ", "   ", "\n", "\n\n", "\n\n\n", "\t", " \n", "\n ", "\t\n", "\r\n"]


def make_corpus(seed: int = 1234, size: int = 1100) -> list[str]:
    """Seeded strings: unicode, emoji, whitespace runs, special tokens, chat prompts."""
    rng = random.Random(seed)
    corpus = []
    for index in range(size):
        if index % 5 == 0:
            question = "".join(rng.choice(rng.choice(POOLS)) for _ in range(rng.randint(1, 30)))
            media = rng.choice(["<image>\n", "<video>\n", "<image>\n<image>\n", "<video>\n<image>\n", ""])
            answer = rng.choice(["", " Sure, it's a cat.", " 🤖 ok</s>", "\n\nyes"])
            corpus.append(f"USER: {media}{question} ASSISTANT:{answer}")
            continue
        pieces = []
        for _ in range(rng.randint(0, 12)):
            kind = rng.random()
            if kind < 0.55:
                pool = rng.choice(POOLS)
                pieces.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 8))))
            elif kind < 0.85:
                pieces.append(rng.choice(WHITESPACE))
            else:
                pieces.append(rng.choice(SPECIALS))
        corpus.append("".join(pieces))
    return corpus


CORPUS = make_corpus()


def read_vectors(fixtures):
    folder = fixtures / "llama-spm-vectors"
    inputs = (folder / "llama-spm.inp").read_text(encoding="utf-8").split("\n__ggml_vocab_test__\n")
    outputs = (folder / "llama-spm.out").read_text(encoding="utf-8").split("\n")
    return inputs, outputs


def test_all_47_sentencepiece_vectors(fixtures, tokenizer):
    inputs, outputs = read_vectors(fixtures)
    assert len(inputs) == len(outputs) == 47
    for index, (text, line) in enumerate(zip(inputs, outputs)):
        expected = [int(token) for token in line.split()]
        assert tokenizer.encode(text, add_special_tokens=False) == expected, (index, text)


def test_special_tokens_and_bos(tokenizer):
    assert (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id) == (1, 2, 32002)
    assert [tokenizer.token_to_id(t) for t in ("<image>", "<video>", "<pad>")] == [32000, 32001, 32002]
    assert tokenizer.vocab_size == 32003
    with_bos = tokenizer.encode("hello <image> world")
    assert with_bos[0] == 1 and with_bos[1:] == tokenizer.encode("hello <image> world", add_special_tokens=False)
    assert with_bos.count(32000) == 1
    assert "<s>" in tokenizer.decode(with_bos) and "<image>" in tokenizer.decode(with_bos)
    skipped = tokenizer.decode(with_bos, skip_special_tokens=True)
    assert "<" not in skipped and skipped.split() == ["hello", "world"]


def test_bos_override_and_eos(fixtures):
    no_bos = HfTokenizer.from_path(PROCESSOR_DIR, add_bos_token=False, add_eos_token=True)
    ids = no_bos.encode("hi")
    assert ids[0] != no_bos.bos_token_id and ids[-1] == no_bos.eos_token_id
    ids, offsets = no_bos.encode_with_offsets("hi")
    assert len(ids) == len(offsets) and offsets[-1] == (2, 2)


def test_corpus_size_and_variety():
    assert len(CORPUS) >= 1000
    joined = "".join(CORPUS)
    for needle in ("<image>", "<video>", "USER:", "\n\n", "   ", "👨‍👩‍👧‍👦", "中"):
        assert needle in joined


def test_ids_match_transformers_on_corpus(tokenizer, ref_tokenizer):
    for add_special in (True, False):
        reference = ref_tokenizer(CORPUS, add_special_tokens=add_special)["input_ids"]
        ours = tokenizer.encode_batch(CORPUS, add_special_tokens=add_special)
        mismatches = [(i, CORPUS[i]) for i in range(len(CORPUS)) if ours[i] != reference[i]]
        assert not mismatches, mismatches[:3]
        assert [tokenizer.encode(t, add_special_tokens=add_special) for t in CORPUS[:50]] == reference[:50]


def test_decode_matches_transformers_on_corpus(tokenizer, ref_tokenizer):
    encoded = ref_tokenizer(CORPUS)["input_ids"]
    for skip in (False, True):
        reference = ref_tokenizer.batch_decode(encoded, skip_special_tokens=skip)
        ours = [tokenizer.decode(ids, skip_special_tokens=skip) for ids in encoded]
        mismatches = [i for i in range(len(CORPUS)) if ours[i] != reference[i]]
        assert not mismatches, [(CORPUS[i], ours[i], reference[i]) for i in mismatches[:3]]


def test_decode_matches_transformers_on_random_ids(tokenizer, ref_tokenizer):
    """Arbitrary id sequences, including byte tokens that form no valid UTF-8."""
    rng = random.Random(7)
    rows = [[rng.randrange(tokenizer.vocab_size) for _ in range(rng.randint(0, 40))] for _ in range(300)]
    rows += [[rng.randrange(3, 259) for _ in range(rng.randint(1, 6))] for _ in range(100)]  # byte tokens
    for skip in (False, True):
        assert [tokenizer.decode(r, skip_special_tokens=skip) for r in rows] == \
            ref_tokenizer.batch_decode(rows, skip_special_tokens=skip)


def test_clean_up_spaces_matches_transformers(fixtures, tmp_path, transformers_quiet):
    for name in ("tokenizer.json", "special_tokens_map.json"):
        shutil.copy(PROCESSOR_DIR / name, tmp_path / name)
    config = json.loads((PROCESSOR_DIR / "tokenizer_config.json").read_text())
    config["clean_up_tokenization_spaces"] = True
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    ours = HfTokenizer.from_path(tmp_path)
    reference = transformers_quiet.AutoTokenizer.from_pretrained(str(tmp_path))
    texts = ["Hello , world ! Is n't it ? I 'm sure", "a . b ' c 've d 're e 's"] + CORPUS[:200]
    plain = HfTokenizer.from_path(PROCESSOR_DIR)
    changed = 0
    for text in texts:
        ids = reference(text)["input_ids"]
        assert ours.decode(ids) == reference.decode(ids)
        changed += ours.decode(ids) != plain.decode(ids)
    assert changed >= 2
    assert clean_up_spaces("a , b") == "a, b"


@pytest.mark.parametrize("problem", ["missing_dir", "no_tokenizer_json", "corrupt_config", "corrupt_tokenizer",
                                     "unknown_special", "conflicting_added_token"])
def test_file_errors_name_the_file(fixtures, tmp_path, problem):
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(PROCESSOR_DIR / name, tmp_path / name)
    target, expected = tmp_path, None
    if problem == "missing_dir":
        target, expected = tmp_path / "nope", "nope"
    elif problem == "no_tokenizer_json":
        (tmp_path / "tokenizer.json").unlink()
        expected = "tokenizer.json"
    elif problem == "corrupt_config":
        (tmp_path / "tokenizer_config.json").write_text("{not json")
        expected = "tokenizer_config.json"
    elif problem == "corrupt_tokenizer":
        (tmp_path / "tokenizer.json").write_text('{"model": 3}')
        expected = "tokenizer.json"
    elif problem == "unknown_special":
        (tmp_path / "special_tokens_map.json").write_text(json.dumps({"pad_token": "<nothing>"}))
        config = json.loads((PROCESSOR_DIR / "tokenizer_config.json").read_text())
        del config["pad_token"]
        (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
        expected = "<nothing>"
    else:
        config = json.loads((PROCESSOR_DIR / "tokenizer_config.json").read_text())
        config["added_tokens_decoder"]["32005"] = dict(config["added_tokens_decoder"]["32000"])
        (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
        expected = "32005"
    with pytest.raises(ConfigError) as info:
        HfTokenizer.from_path(target)
    assert expected in str(info.value) and "tokenizer" in str(info.value)


def test_added_tokens_declared_only_in_config_are_added(fixtures, tmp_path):
    for name in ("tokenizer.json", "special_tokens_map.json"):
        shutil.copy(PROCESSOR_DIR / name, tmp_path / name)
    config = json.loads((PROCESSOR_DIR / "tokenizer_config.json").read_text())
    config["added_tokens_decoder"]["32003"] = {"content": "<extra>", "special": True}
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    tok = HfTokenizer.from_path(tmp_path)
    assert tok.token_to_id("<extra>") == 32003 and 32003 in tok.encode("a <extra> b")
    assert tok.decode(tok.encode("a <extra> b"), skip_special_tokens=True).split() == ["a", "b"]


# ---------------------------------------------------------------------- streaming
def stream(tokenizer, ids, skip=True):
    detok = StreamingDetokenizer(tokenizer, skip_special_tokens=skip)
    chunks = [detok.push(i) for i in ids]
    return chunks, detok.flush()


def test_streaming_joins_to_full_decode_on_corpus(tokenizer):
    multi_byte_seen = 0
    for text in CORPUS[:400]:
        ids = tokenizer.encode(text)
        chunks, tail = stream(tokenizer, ids)
        assert "".join(chunks) + tail == tokenizer.decode(ids, skip_special_tokens=True)
        assert not any("\ufffd" in chunk for chunk in chunks), text
        multi_byte_seen += any(chunk == "" for chunk in chunks)
    assert multi_byte_seen > 10  # byte-fallback characters were held back somewhere


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=0, max_size=40))
def test_streaming_never_emits_broken_characters(tokenizer_for_hypothesis, text):
    tok = tokenizer_for_hypothesis
    ids = tok.encode(text)
    chunks, tail = stream(tok, ids, skip=False)
    assert "".join(chunks) + tail == tok.decode(ids)
    if "\ufffd" not in text:
        assert not any("\ufffd" in chunk for chunk in chunks)


@pytest.fixture(scope="module")
def tokenizer_for_hypothesis(tokenizer):
    return tokenizer


def test_streaming_holds_back_an_incomplete_character(tokenizer):
    ids = tokenizer.encode("🤖", add_special_tokens=False)
    assert len(ids) >= 3  # byte-fallback pieces
    detok = StreamingDetokenizer(tokenizer)
    out = [detok.push(i) for i in ids]
    assert out[:-1] == [""] * (len(ids) - 1) and "🤖" in out[-1]
    truncated = StreamingDetokenizer(tokenizer)
    assert [truncated.push(i) for i in ids[:-1]] == [""] * (len(ids) - 1)
    assert "\ufffd" in truncated.flush()  # only flush may expose an unfinished character

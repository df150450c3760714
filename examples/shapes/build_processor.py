"""Write the shapes model's own tokenizer and chat template to ``examples/shapes/processor/``.

A word-level vocabulary (``tokenizers`` WordLevel + whitespace split) of every word the
task uses plus the special tokens ``<unk> <s> </s> <pad> <image> <video>`` (ids 0-5), so the
embedding table stays tiny. The chat template puts ``</s>`` inside the assistant's
``{% generation %}`` block, so the model learns to stop after its one-word answer.

    python examples/shapes/build_processor.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from tokenizers import Tokenizer, models, pre_tokenizers

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from shapes_data import vocabulary  # noqa: E402

SPECIALS = ("<unk>", "<s>", "</s>", "<pad>", "<image>", "<video>")
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ 'USER: ' }}"
    "{% for part in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\n' }}{% endfor %}"
    "{% for part in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>\n' }}{% endfor %}"
    "{% for part in message['content'] | selectattr('type', 'equalto', 'text') %}{{ part['text'] + ' ' }}{% endfor %}"
    "{% elif message['role'] == 'assistant' %}{{ 'ASSISTANT: ' }}"
    "{% for part in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{% generation %}{{ part['text'] + eos_token }}{% endgeneration %}{{ ' ' }}{% endfor %}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)


def build(directory: Path) -> Path:
    """Write tokenizer.json, tokenizer_config.json, special_tokens_map.json, chat_template.json."""
    directory.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate(SPECIALS)}
    for word in vocabulary():
        vocab.setdefault(word, len(vocab))
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens(list(SPECIALS))
    tokenizer.save(str(directory / "tokenizer.json"))
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    added = {str(vocab[t]): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                             "single_word": False, "special": True} for t in SPECIALS}
    config = {"add_bos_token": True, "add_eos_token": False, "clean_up_tokenization_spaces": False,
              "model_max_length": 512, "padding_side": "left", "tokenizer_class": "PreTrainedTokenizerFast",
              **specials, "added_tokens_decoder": added}
    for name, data in (("tokenizer_config.json", config), ("special_tokens_map.json", specials),
                       ("chat_template.json", {"chat_template": CHAT_TEMPLATE})):
        (directory / name).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return directory


if __name__ == "__main__":
    print(build(HERE / "processor"))

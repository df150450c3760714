"""The ``hf_tokenizers`` tokenizer: Hugging Face tokenizer files run by the ``tokenizers`` library.

Reproduces what transformers' fast tokenizers do with the same files: special
tokens from ``tokenizer_config.json`` / ``special_tokens_map.json``, BOS/EOS
according to ``add_bos_token`` / ``add_eos_token``, added tokens declared in
``added_tokens_decoder``, and the optional ``clean_up_tokenization_spaces``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from tokenizers import AddedToken
from tokenizers import Tokenizer as RustTokenizer

from mmplug.core.errors import ConfigError, ConfigIssue
from mmplug.core.interfaces.text import Tokenizer
from mmplug.plugins.text.files import read_json, token_content
from mmplug.plugins.text.options import HfTokenizerOptions

SPECIAL_NAMES = ("bos_token", "eos_token", "unk_token", "pad_token")
#: Spaces transformers removes before punctuation and English contractions when cleaning up.
_CLEANUP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
            (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))


def clean_up_spaces(text: str) -> str:
    """Drop the space before punctuation and contractions (transformers' cleanup rule)."""
    for before, after in _CLEANUP:
        text = text.replace(before, after)
    return text


class HfTokenizer(Tokenizer):
    """Text <-> ids with a ``tokenizers`` model; ``<image>``-like added tokens are single ids."""

    def __init__(self, model: RustTokenizer, *, special_tokens: dict[str, str | None] | None = None,
                 add_bos_token: bool | None = None, add_eos_token: bool | None = None,
                 clean_up_tokenization_spaces: bool = False, source: str = "<tokenizer>"):
        self.model = model
        self.source = source
        self.special_tokens: dict[str, str] = {}
        for name, token in (special_tokens or {}).items():
            if token is None:
                continue
            if model.token_to_id(token) is None:
                raise ConfigError([ConfigIssue(f"tokenizer.{name}", (
                    f"{token!r} is not in the vocabulary of {source}; fix {name} in tokenizer_config.json / "
                    "special_tokens_map.json or set it in the tokenizer options"))])
            self.special_tokens[name] = token
        self.bos_token_id = self._special_id("bos_token")
        self.eos_token_id = self._special_id("eos_token")
        self.pad_token_id = self._special_id("pad_token")
        self.unk_token_id = self._special_id("unk_token")
        # None for both: the post-processor in tokenizer.json decides what encode() adds.
        self._manual_specials = add_bos_token is not None or add_eos_token is not None
        self.add_bos_token = bool(add_bos_token)
        self.add_eos_token = bool(add_eos_token)
        for flag, token_id, name in ((self.add_bos_token, self.bos_token_id, "bos_token"),
                                     (self.add_eos_token, self.eos_token_id, "eos_token")):
            if flag and token_id is None:
                raise ConfigError([ConfigIssue(f"tokenizer.add_{name}", (
                    f"is true but {source} defines no {name}; set {name} or turn the flag off"))])
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        self.vocab_size = model.get_vocab_size(with_added_tokens=True)
        self.special_ids = frozenset(i for i, tok in model.get_added_tokens_decoder().items() if tok.special)

    def _special_id(self, name: str) -> int | None:
        token = self.special_tokens.get(name)
        return None if token is None else self.model.token_to_id(token)

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_path(cls, path: str | Path, **overrides: Any) -> "HfTokenizer":
        """Load a directory (tokenizer.json + optional config files) or a tokenizer.json file.

        ``overrides`` are :class:`HfTokenizerOptions` fields (``add_bos_token=False``, ...).
        """
        return build_hf_tokenizer(HfTokenizerOptions(path=Path(path), **overrides), None)

    # ------------------------------------------------------------------ encoding
    def _with_specials(self, ids: list[int]) -> list[int]:
        bos = [self.bos_token_id] if self.add_bos_token else []
        eos = [self.eos_token_id] if self.add_eos_token else []
        return bos + ids + eos

    def encode(self, text: str, *, add_special_tokens: bool = True) -> list[int]:
        """Token ids of ``text``; BOS/EOS as configured when ``add_special_tokens``."""
        return self.encode_with_offsets(text, add_special_tokens=add_special_tokens)[0]

    def encode_with_offsets(self, text: str, *, add_special_tokens: bool = True
                            ) -> tuple[list[int], list[tuple[int, int]]]:
        """Ids and each token's (start, end) character span in ``text`` (BOS/EOS: (0, 0))."""
        if not self._manual_specials:
            encoding = self.model.encode(text, add_special_tokens=add_special_tokens)
            return encoding.ids, encoding.offsets
        encoding = self.model.encode(text, add_special_tokens=False)
        if not add_special_tokens:
            return encoding.ids, encoding.offsets
        ids = self._with_specials(encoding.ids)
        offsets = ([(0, 0)] if self.add_bos_token else []) + encoding.offsets + (
            [(len(text), len(text))] if self.add_eos_token else [])
        return ids, offsets

    def encode_batch(self, texts: Sequence[str], *, add_special_tokens: bool = True) -> list[list[int]]:
        """``encode`` for many texts at once (the Rust side runs them in parallel)."""
        manual = self._manual_specials
        encodings = self.model.encode_batch(list(texts), add_special_tokens=add_special_tokens and not manual)
        if manual and add_special_tokens:
            return [self._with_specials(e.ids) for e in encodings]
        return [e.ids for e in encodings]

    # ------------------------------------------------------------------ decoding
    def decode(self, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
        """Text of ``ids`` (special tokens dropped with ``skip_special_tokens``)."""
        text = self.model.decode([int(i) for i in ids], skip_special_tokens=skip_special_tokens)
        return clean_up_spaces(text) if self.clean_up_tokenization_spaces else text

    def token_to_id(self, token: str) -> int | None:
        return self.model.token_to_id(token)

    def id_to_token(self, token_id: int) -> str | None:
        return self.model.id_to_token(int(token_id))

    @property
    def special_tokens_map(self) -> dict[str, str]:
        """``{"bos_token": "<s>", ...}``: what chat templates receive as variables."""
        return dict(self.special_tokens)


# ---------------------------------------------------------------------- factory
def _locate(path: Path) -> tuple[Path, Path | None, Path | None]:
    if path.is_dir():
        tokenizer_file = path / "tokenizer.json"
        if not tokenizer_file.is_file():
            raise ConfigError([ConfigIssue("tokenizer.path", (
                f"{path} holds no tokenizer.json; point 'path' at a directory with the Hugging Face "
                "tokenizer files (slow-only tokenizers, e.g. tokenizer.model alone, are not supported)"))])
        config, special = path / "tokenizer_config.json", path / "special_tokens_map.json"
        return tokenizer_file, config if config.is_file() else None, special if special.is_file() else None
    if not path.is_file():
        raise ConfigError([ConfigIssue("tokenizer.path", f"{path} does not exist; give a directory holding "
                                                         "tokenizer.json, or the tokenizer.json file")])
    return path, None, None


def _load_model(tokenizer_file: Path) -> RustTokenizer:
    try:
        return RustTokenizer.from_file(str(tokenizer_file))
    except Exception as exc:  # noqa: BLE001 - the Rust side raises plain Exception
        raise ConfigError([ConfigIssue("tokenizer.path", (
            f"{tokenizer_file} cannot be loaded by the tokenizers library: {exc}; replace it with a good copy"))]
        ) from None


def _add_declared_tokens(model: RustTokenizer, declared: dict[str, Any], config_file: Path) -> None:
    """Add tokens listed in ``added_tokens_decoder`` that tokenizer.json lacks; check the ids."""
    for key, entry in sorted(declared.items(), key=lambda item: int(item[0])):
        content = token_content(entry)
        existing = model.token_to_id(content)
        if existing is None:
            flags = {k: bool(entry.get(k, False)) for k in ("single_word", "lstrip", "rstrip", "normalized")}
            token = AddedToken(content, special=bool(entry.get("special", False)), **flags)
            model.add_special_tokens([token]) if token.special else model.add_tokens([token])
            existing = model.token_to_id(content)
        if existing != int(key):
            raise ConfigError([ConfigIssue("tokenizer.path", (
                f"{config_file}: added token {content!r} is declared with id {key} but tokenizer.json "
                f"gives it id {existing}; the files do not belong together"))])


def build_hf_tokenizer(options: HfTokenizerOptions, context: Any = None) -> HfTokenizer:
    """Factory of the ``hf_tokenizers`` part (``context`` is unused: tokenizers run on the CPU)."""
    tokenizer_file, config_file, special_file = _locate(Path(options.path).expanduser())
    model = _load_model(tokenizer_file)
    config = read_json(config_file, key="tokenizer.path") if config_file else {}
    special_map = read_json(special_file, key="tokenizer.path") if special_file else {}
    try:
        _add_declared_tokens(model, config.get("added_tokens_decoder") or {}, config_file or tokenizer_file)
        specials = {}
        for name in SPECIAL_NAMES:
            chosen = getattr(options, name) or config.get(name) or special_map.get(name)
            specials[name] = token_content(chosen)
    except ValueError as exc:
        raise ConfigError([ConfigIssue("tokenizer.path", f"{config_file or special_file}: {exc}")]) from None

    def pick(name: str) -> Any:
        value = getattr(options, name)
        return config.get(name) if value is None else value

    return HfTokenizer(
        model,
        special_tokens=specials,
        add_bos_token=pick("add_bos_token"),
        add_eos_token=pick("add_eos_token"),
        clean_up_tokenization_spaces=bool(pick("clean_up_tokenization_spaces")),
        source=str(tokenizer_file),
    )

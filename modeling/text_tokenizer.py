"""The text tokenizer: byte-level BPE trained with Hugging Face `tokenizers`, saved as tokenizer.json.

The seven special tokens are added tokens with ids 0..6 in this order:
<|pad|> <|bos|> <|eos|> <|img_start|> <|img_end|> <|ref_start|> <|ref_end|>
No post-processor: encoding never adds special tokens on its own; the prompt templates place them.
Byte-level means any Unicode prompt tokenizes (no unknown token).
"""

from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from .config import SPECIAL_TOKENS

# A small built-in caption list: the fixture's BPE is trained on it, so the fixture is deterministic.
FIXTURE_CAPTIONS = [
    f"a {obj} at the {pos} on a {colour} background"
    for obj in ("red apple", "cat", "dog", "car", "house", "tree", "star", "fish", "bird", "flower")
    for pos in ("top left", "top right", "centre", "bottom left", "bottom right")
    for colour in ("blue", "green", "yellow", "white", "black", "purple")
] + ["make it brighter", "remove the cat", "turn the sky orange", "add a hat", "keep the image unchanged"]


def train_tokenizer(texts: list[str], vocab_size: int) -> Tokenizer:
    """Train a byte-level BPE with at most `vocab_size` ids (special tokens included)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    check_tokenizer(tok, vocab_size)
    return tok


def check_tokenizer(tok: Tokenizer, text_vocab_size: int) -> None:
    for i, s in enumerate(SPECIAL_TOKENS):
        if tok.token_to_id(s) != i:
            raise ValueError(f"tokenizer: special token {s} must have id {i}, has {tok.token_to_id(s)}")
    if tok.get_vocab_size() > text_vocab_size:
        raise ValueError(f"tokenizer has {tok.get_vocab_size()} ids but the config reserves "
                         f"text.vocab_size={text_vocab_size}")


def special_token_ids(tok: Tokenizer) -> dict[str, int]:
    names = ("pad", "bos", "eos", "img_start", "img_end", "ref_start", "ref_end")
    return {n: tok.token_to_id(s) for n, s in zip(names, SPECIAL_TOKENS)}


def encode_plain(tok: Tokenizer, text: str) -> list[int]:
    """Token ids of `text` with no special tokens added by the tokenizer (added tokens in the text still match)."""
    return tok.encode(text, add_special_tokens=False).ids

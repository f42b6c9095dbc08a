"""Prompt ids: templates per the spec, truncation, and agreement with the training data builder."""

import numpy as np
import pytest

from modeling.config import fixture
from modeling.prompting import build_prompt_ids
from modeling.text_tokenizer import FIXTURE_CAPTIONS, encode_plain, special_token_ids, train_tokenizer


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(FIXTURE_CAPTIONS, fixture().text.vocab_size)


def test_special_tokens_are_ids_0_to_6_and_match_inside_text(tok):
    assert special_token_ids(tok) == {"pad": 0, "bos": 1, "eos": 2, "img_start": 3, "img_end": 4,
                                      "ref_start": 5, "ref_end": 6}
    ids = encode_plain(tok, "<|bos|>a cat<|img_start|>")
    assert ids[0] == 1 and ids[-1] == 3 and 1 not in ids[1:-1]
    assert tok.decode(encode_plain(tok, "naïve café ☕"), skip_special_tokens=False) == "naïve café ☕"


def test_generate_and_edit_templates(tok):
    cfg = fixture()
    ids, truncated = build_prompt_ids(tok, cfg, "a cat")
    assert ids[0] == 1 and ids[-1] == 3 and not truncated
    assert ids[-1 - len(encode_plain(tok, "a cat")):-1] == encode_plain(tok, "a cat")
    ref = list(range(cfg.code_count))
    ids, _ = build_prompt_ids(tok, cfg, "a cat", ref)
    start = ids.index(5)
    assert ids[start + 1:start + 1 + cfg.code_count] == [cfg.image_code_offset + c for c in ref]
    assert ids[start + 1 + cfg.code_count] == 6


def test_prompt_first_edit_template_keeps_reference_and_output_a_fixed_distance_apart(tok):
    import dataclasses

    from modeling.config import EDIT_TEMPLATE_PROMPT_FIRST, nano
    cfg = fixture()
    cfg = dataclasses.replace(cfg, text=dataclasses.replace(cfg.text, template_edit=EDIT_TEMPLATE_PROMPT_FIRST))
    assert nano().text.template_edit == EDIT_TEMPLATE_PROMPT_FIRST
    ref = [(7 * c) % cfg.codebook_size for c in range(cfg.code_count)]
    for prompt in ("red", "make the background a soft pink gradient please"):
        ids, _ = build_prompt_ids(tok, cfg, prompt, ref)
        n = cfg.code_count
        # ... <|ref_start|> ref codes <|ref_end|> <|img_start|>: output code i will sit at len(ids) + i
        assert ids[-n - 3] == 5 and ids[-2:] == [6, 3]
        assert ids[-n - 2:-2] == [cfg.image_code_offset + c for c in ref]
        assert ids[1:1 + len(encode_plain(tok, "Edit the image: "))] == encode_plain(tok, "Edit the image: ")


def test_long_prompts_are_truncated_and_flagged(tok):
    cfg = fixture()
    ids, truncated = build_prompt_ids(tok, cfg, "a red apple at the top left on a blue background " * 5)
    short, _ = build_prompt_ids(tok, cfg, "")
    assert truncated and len(ids) == len(short) + cfg.text.max_prompt_tokens


def test_training_rows_match_generation_prompts(tok):
    """modeling/train builds its AR rows itself; they must be the ids generation feeds."""
    sequences = pytest.importorskip("modeling.train.sequences")
    cfg = fixture()
    builder = sequences.PromptBuilder(cfg, tok)
    for prompt in ("a cat at the centre on a blue background", "make it brighter", ""):
        p = builder.prompt_ids(prompt)
        assert builder.prefix("generate", p) == build_prompt_ids(tok, cfg, prompt)[0]
        ref = np.arange(cfg.code_count) % cfg.codebook_size
        assert builder.prefix("edit", p, ref) == build_prompt_ids(tok, cfg, prompt, ref.tolist())[0]

"""Spelled capitals: sign text is tokenized letter by letter, every other piece keeps its ids, and the
committed fixture (read by the TypeScript engine's test) is what this code writes."""
import json
from pathlib import Path

from tokenizers import Tokenizer

from modeling.text_tokenizer import (FIXTURE_CAPTIONS, SPELLED_CASES, encode_plain, spell_capitals, spells_capitals,
                                     train_tokenizer, write_spelled_fixture)

ROOT = Path(__file__).resolve().parents[2]


def test_capitals_become_single_letters_and_other_text_keeps_its_ids():
    corpus = FIXTURE_CAPTIONS + ['a sign that says "OPEN"', 'a sign that says "STOP"'] * 20
    plain = train_tokenizer(corpus, 400)
    assert "OPEN" in [plain.id_to_token(i) for i in encode_plain(plain, '"OPEN"')]  # merged: one picture per word
    spelled = spell_capitals(plain)
    assert not spells_capitals(plain) and spells_capitals(spelled)
    assert spelled.encode('says "OPEN"').tokens[-5:] == ["O", "P", "E", "N", '"']
    for text in FIXTURE_CAPTIONS:  # no capitals: the same ids
        assert encode_plain(spelled, text) == encode_plain(plain, text)
    fresh = train_tokenizer(corpus, 400, spell_capitals=True)
    assert spells_capitals(fresh)
    assert not any(len(t) > 1 and any("A" <= c <= "Z" for c in t) for t in fresh.get_vocab())  # no merged capitals


def test_committed_fixture_matches(tmp_path):
    committed = ROOT / "tests" / "fixtures" / "tokenizer-spelled"
    write_spelled_fixture(ROOT / "tests" / "fixtures" / "bundle-fixture" / "tokenizer.json", tmp_path)
    assert json.loads((tmp_path / "cases.json").read_text()) == json.loads((committed / "cases.json").read_text())
    tok = Tokenizer.from_file(str(committed / "tokenizer.json"))
    assert [encode_plain(tok, t) if t else [] for t in SPELLED_CASES] == [c["ids"] for c in json.loads((committed / "cases.json").read_text())]


def test_sign_words_are_quoted_by_the_shared_cases_and_bundles_say_when():
    from modeling.config import fixture as fixture_config
    from modeling.export import bundle_json, random_fixture_model
    from modeling.prompting import build_prompt_ids, quote_sign_words
    cases = json.loads((ROOT / "tests" / "cases" / "sign-word-quoting.json").read_text())["cases"]
    assert len(cases) >= 10
    for c in cases:  # the same cases src-main/engine/tokenizer/sign-words.ts must pass
        assert quote_sign_words(c["in"]) == c["out"], c["in"]
        assert quote_sign_words(c["out"]) == c["out"]
    model, plain = random_fixture_model(fixture_config())
    spelled = spell_capitals(plain)
    assert bundle_json(model, plain, "Apache-2.0", {})["tokenizer"]["quote_sign_words"] is False
    assert bundle_json(model, spelled, "Apache-2.0", {})["tokenizer"]["quote_sign_words"] is True
    cfg = model.cfg
    bare, _ = build_prompt_ids(spelled, cfg, quote_sign_words("sign HELLO"))
    assert bare == build_prompt_ids(spelled, cfg, 'sign "HELLO"')[0] != build_prompt_ids(spelled, cfg, "sign HELLO")[0]

"""The fixed train / held-out split, so evaluation measures what the model was not shown.

Three kinds of held-out material:
- objects: HELDOUT_OBJECTS never appear in training scenes (split "novel": does the model generalise to
  an unseen name? Expected near zero at nano scale; reported apart from the overall score);
- words: HELDOUT_WORDS are never written on a training sign (split "heldout" uses them);
- combinations: for every object, the (object, background colour) and (object, cell) pairs whose stable
  hash falls in a fixed bucket are never shown together in training; split "heldout" builds its scenes
  from exactly these pairs, with objects and colours that training did see apart.
The hash is crc32 of a fixed string, so the split is the same on every machine and every run.
"""
from __future__ import annotations

import zlib

HELDOUT_OBJECTS: frozenset[str] = frozenset(
    {"koala", "flamingo", "avocado", "croissant", "tractor", "violin", "cactus", "ladybug", "kite", "taco"}
)

# Short words (2-5 letters, capitals) so they are legible on a 64 px sign.
TRAIN_WORDS: tuple[str, ...] = (
    "OPEN", "STOP", "SALE", "HELLO", "HI", "YES", "NO", "GO", "EXIT", "CAFE", "BAR", "TAXI", "HOTEL",
    "PARK", "FOOD", "MENU", "FREE", "HOME", "SHOP", "BOOK", "LOVE", "JAZZ", "PIZZA", "BEER", "WIFI",
    "BUS", "TOYS", "FISH", "CAKE", "TEA", "MILK", "GAME", "PLAY", "WIN", "LOST", "HELP", "RUN", "WAIT",
    "SLOW", "FAST", "HOT", "COLD", "NEW", "OLD", "BIG", "TOP", "UP", "DOWN", "LEFT", "EAST", "WEST",
    "NORTH", "SOUTH", "CITY", "FARM", "ZOO", "BANK", "GYM", "SPA", "INN", "PUB", "ART", "MUSIC", "DANCE",
    "SING", "READ", "WORK", "REST", "SLEEP", "DREAM", "SMILE", "HAPPY", "SUN", "MOON", "STAR", "RAIN",
    "SNOW", "WIND", "FIRE", "ICE", "GOLD", "RED", "BLUE", "PINK", "MAX", "AMY", "BOB", "ZED", "KEEP",
    "PUSH", "PULL", "ROOM", "DOOR", "CLUB", "TEAM", "BEST", "COOL", "WOW", "OK",
)
HELDOUT_WORDS: tuple[str, ...] = (
    "CLOSED", "DRINK", "BAKE", "GIFT", "MAP", "VOTE", "JOY", "TOWN", "LAKE", "FROG", "KING", "DUCK",
)
assert not set(TRAIN_WORDS) & set(HELDOUT_WORDS)
assert all(len(w) <= 5 for w in TRAIN_WORDS) and all(len(w) <= 6 for w in HELDOUT_WORDS)

SPLITS = ("train", "heldout", "novel")

# Half of the training signs show a random capital string instead of a word from TRAIN_WORDS: with ~100
# words the model can memorise each sign as a picture; with random strings it has to learn the letters,
# which is what lets it write a held-out word (the tokenizer spells capitals letter by letter). A random
# string never contains a held-out word.
RANDOM_SIGN_SHARE = 0.5


def allowed_random_word(word: str) -> bool:
    return not any(h in word for h in HELDOUT_WORDS)


def _bucket(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode()) % 10


def heldout_background(obj: str, colour: str) -> bool:
    """About one (object, background colour) pair in ten is never seen in training."""
    return _bucket("bg", obj, colour) == 0


def heldout_cell(obj: str, cell: str) -> bool:
    """About one (object, cell) pair in ten is never seen in training."""
    return _bucket("cell", obj, cell) == 0

"""Captions for scenes and instructions for edits, from many templates and synonyms.

Every phrase is built from the scene's data, so a caption never says something the picture does not
show. The variety (synonyms, word order, optional framing) is what teaches the model that "in the
middle" and "in the centre" are the same place.
"""
from __future__ import annotations

import random

from .palette import COLOUR_SYNONYMS, CELLS
from .scene import Background, Group, Scene, Sign

NUMBER_WORDS = {2: ("two", "2"), 3: ("three", "3"), 4: ("four", "4")}

CELL_PHRASES: dict[str, tuple[str, ...]] = {
    "top left": ("in the top left", "at the top left", "in the top left corner", "in the upper left"),
    "top": ("at the top", "at the top of the image", "at the top centre", "near the top"),
    "top right": ("in the top right", "at the top right", "in the top right corner", "in the upper right"),
    "left": ("on the left", "at the left", "on the left side", "to the left"),
    "centre": ("in the centre", "in the center", "in the middle", "at the centre"),
    "right": ("on the right", "at the right", "on the right side", "to the right"),
    "bottom left": ("in the bottom left", "at the bottom left", "in the bottom left corner", "in the lower left"),
    "bottom": ("at the bottom", "at the bottom of the image", "at the bottom centre", "near the bottom"),
    "bottom right": ("in the bottom right", "at the bottom right", "in the bottom right corner", "in the lower right"),
}
ROW_PHRASES: dict[str, tuple[str, ...]] = {
    "top": ("in a row at the top", "along the top", "at the top"),
    "centre": ("in a row across the middle", "in a row in the centre", "across the middle"),
    "bottom": ("in a row at the bottom", "along the bottom", "at the bottom"),
}
SIZE_WORDS = {"small": ("small", "little", "tiny"), "medium": ("",), "large": ("large", "big", "huge")}
FRAMES = ("{x}", "{x}", "a picture of {x}", "an image of {x}", "an emoji of {x}", "a drawing of {x}", "{x}, emoji style")

IRREGULAR_PLURALS = {"fish": "fish", "dice": "dice", "mouse": "mice", "t-shirt": "t-shirts", "bus": "buses",
                     "taxi": "taxis", "leaf": "leaves", "knife": "knives", "gift": "gifts", "die": "dice"}


def colour_word(rng: random.Random, c: str) -> str:
    return rng.choice(COLOUR_SYNONYMS.get(c, (c,)))


def object_word(rng: random.Random, name: str, synonyms: dict[str, tuple[str, ...]]) -> str:
    syn = synonyms.get(name, ())
    return rng.choice(syn) if syn and rng.random() < 0.25 else name


def plural(word: str) -> str:
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    head, _, last = word.rpartition(" ")
    if last in IRREGULAR_PLURALS:
        p = IRREGULAR_PLURALS[last]
    elif last.endswith(("s", "x", "ch", "sh")):
        p = last + "es"
    elif last.endswith("y") and last[-2:-1] not in "aeiou":
        p = last[:-1] + "ies"
    else:
        p = last + "s"
    return f"{head} {p}" if head else p


def article(phrase: str) -> str:
    first = phrase.split(" ", 1)[0]
    if first in ("grapes", "cherries", "fries", "sunglasses", "popcorn", "milk", "corn"):
        return "some " + phrase
    vowel = first[:1] in "aeio" or (first.startswith("u") and not first.startswith(("uni", "ufo")))
    return ("an " if vowel else "a ") + phrase


def group_phrase(rng: random.Random, g: Group, synonyms: dict[str, tuple[str, ...]]) -> str:
    name = object_word(rng, g.obj, synonyms)
    tint = colour_word(rng, g.tint) if g.tint else ""
    if g.count > 1:
        return " ".join(x for x in (rng.choice(NUMBER_WORDS[g.count]), tint, plural(name)) if x)
    size = rng.choice(SIZE_WORDS[g.size])
    return article(" ".join(x for x in (size, tint, name) if x))


def place_phrase(rng: random.Random, g: Group) -> str:
    return rng.choice(ROW_PHRASES[g.cell] if g.count > 1 else CELL_PHRASES[g.cell])


def background_phrase(rng: random.Random, bg: Background) -> str:
    a = colour_word(rng, bg.colour)
    if bg.direction == "flat":
        return rng.choice((f"on {article(a + ' background')}", f"against {article(a + ' background')}",
                           f"with {article(a + ' background')}", f"on {a}", f"on a plain {a} background"))
    b = colour_word(rng, bg.colour2)
    if bg.direction == "vertical":
        return rng.choice((f"on {article(f'{a} to {b} vertical gradient')}", f"on a gradient from {a} at the top to {b} at the bottom",
                           f"on a background fading from {a} at the top to {b} at the bottom"))
    return rng.choice((f"on {article(f'{a} to {b} horizontal gradient')}", f"on a gradient from {a} on the left to {b} on the right",
                       f"on a background fading from {a} on the left to {b} on the right"))


def sign_phrase(rng: random.Random, sign: Sign) -> str:
    w = sign.word
    return rng.choice((f'a sign that says "{w}"', f'a sign reading "{w}"', f'a sign with the word "{w}"',
                       f'the word "{w}" on a sign', f'a white sign saying "{w}"'))


def _relation(rng: random.Random, a: Group, b: Group, pa: str, pb: str) -> str | None:
    (ax, ay), (bx, by) = CELLS[a.cell], CELLS[b.cell]
    if ay == by:
        left, right, pl, pr = (pa, pb, a, b) if ax < bx else (pb, pa, b, a)
        return rng.choice((f"{left} to the left of {right}", f"{right} to the right of {left}", f"{left} next to {right}",
                           f"{left} on the left and {right} on the right"))
    if ax == bx:
        top, bottom = (pa, pb) if ay < by else (pb, pa)
        return rng.choice((f"{top} above {bottom}", f"{bottom} below {top}", f"{top} on top and {bottom} underneath"))
    return None


def caption(scene: Scene, rng: random.Random, synonyms: dict[str, tuple[str, ...]] | None = None) -> str:
    syn = synonyms or {}
    parts = []
    gs = scene.groups
    if len(gs) == 2:
        pa, pb = group_phrase(rng, gs[0], syn), group_phrase(rng, gs[1], syn)
        rel = _relation(rng, gs[0], gs[1], pa, pb) if rng.random() < 0.6 else None
        parts.append(rel or f"{pa} {place_phrase(rng, gs[0])} and {pb} {place_phrase(rng, gs[1])}")
    elif len(gs) == 1 and scene.sign is not None:
        s, g = sign_phrase(rng, scene.sign), gs[0]
        gp = group_phrase(rng, g, syn)
        rel = "above" if scene.sign.row == "top" else "below"
        parts.append(rng.choice((f"{s} {rel} {gp} {place_phrase(rng, g)}", f"{gp} {place_phrase(rng, g)} and {s} {place_phrase_row(rng, scene.sign.row)}")))
    elif len(gs) == 1:
        parts.append(f"{group_phrase(rng, gs[0], syn)} {place_phrase(rng, gs[0])}")
    elif scene.sign is not None:
        parts.append(f"{sign_phrase(rng, scene.sign)} {place_phrase_row(rng, scene.sign.row)}")
    body = f"{parts[0]} {background_phrase(rng, scene.background)}"
    frame = rng.choice(FRAMES)
    # Long captions go unframed, so they stay within the model's prompt budget (32 BPE tokens).
    return frame.format(x=body) if len(body.split()) <= 18 else body


def place_phrase_row(rng: random.Random, row: str) -> str:
    return rng.choice({"top": ("at the top", "near the top"), "centre": ("in the middle", "in the centre"),
                       "bottom": ("at the bottom", "near the bottom")}[row])

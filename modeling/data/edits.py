"""Edit pairs: a source scene, an instruction, the target scene, and the region the edit may change.

Kinds: background, recolour, move, replace, add, remove, text, keep. The target is the source with one
field changed, so everything else renders to identical pixels; `edit_mask` names the pixels that may
differ (the changed elements' boxes, or the visible background), which the evaluation uses for the
PSNR of the part that should not change.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace

import numpy as np

from . import split as S
from .assets import Assets
from .captions import CELL_PHRASES, article, colour_word, object_word, plural
from .palette import CANVAS, CELLS, ROW_Y, TINTS, far_apart
from .scene import (UNCOUNTABLE, Background, Group, Scene, _jitter, group_boxes, heldout_parts, object_pool,
                    render, sample_background, sample_scene, sign_box)

MOVE_PHRASES = {c: (f"to the {c}", f"to the {c} corner" if " " in c else f"over to the {c}") for c in CELLS}
MOVE_PHRASES["centre"] = ("to the centre", "to the middle", "to the center")

EDIT_KINDS = ("background", "recolour", "move", "replace", "add", "remove", "text", "keep")


@dataclass(frozen=True)
class EditPair:
    kind: str
    source: Scene
    target: Scene
    instruction: str
    changed: tuple[str, ...]  # which elements changed: "background", "group:<i>" (source index), "new", "sign"


def _bg_phrase(rng: random.Random, bg: Background) -> str:
    a = colour_word(rng, bg.colour)
    if bg.direction == "flat":
        return a
    b = colour_word(rng, bg.colour2)
    return article(f"{a} to {b} {bg.direction} gradient")


def _free_cells(scene: Scene, exclude: int | None = None) -> list[str]:
    taken = [g.cell for i, g in enumerate(scene.groups) if i != exclude and g.count == 1]
    if any(g.count > 1 for i, g in enumerate(scene.groups) if i != exclude):
        return []
    sign_y = ROW_Y[scene.sign.row] if scene.sign is not None else None
    return [c for c in CELLS if all(far_apart(c, t) for t in taken) and CELLS[c][1] != sign_y
            and (sign_y is None or abs(CELLS[c][1] - sign_y) >= 32)]


def _try_edit(rng: random.Random, kind: str, src: Scene, pool: list[str], words: tuple[str, ...], syn) -> EditPair | None:
    gs = src.groups
    if kind == "background":
        bg = sample_background(rng)
        if bg == src.background or any(g.tint in bg.colours() for g in gs if g.tint):
            return None
        ins = rng.choice(("change the background to {b}", "make the background {b}", "use {b} for the background",
                          "replace the background with {b}")).format(b=_bg_phrase(rng, bg))
        return EditPair(kind, src, replace(src, background=bg), ins, ("background",))
    if kind == "keep":
        ins = rng.choice(("keep the image unchanged", "leave it as it is", "do not change anything",
                          "reproduce the image exactly", "keep everything the same"))
        return EditPair(kind, src, src, ins, ())
    if kind == "text":
        if src.sign is None:
            return None
        word = rng.choice([w for w in words if w != src.sign.word])
        ins = rng.choice(('change the text to "{w}"', 'make the sign say "{w}"', 'write "{w}" on the sign instead',
                          'replace the word with "{w}"')).format(w=word)
        return EditPair(kind, src, replace(src, sign=replace(src.sign, word=word)), ins, ("sign",))
    if kind == "add":
        free = _free_cells(src)
        if not free or len(gs) >= 2:
            return None
        cell = rng.choice(free)
        obj = rng.choice([n for n in pool if n not in {g.obj for g in gs}])
        g = Group(obj, cell, rng.choice(("small", "medium")), 1, None, _jitter(rng))
        what = article(object_word(rng, obj, syn))
        ins = rng.choice(("add {o} {p}", "put {o} {p}", "place {o} {p}", "draw {o} {p}")).format(o=what, p=rng.choice(CELL_PHRASES[cell]))
        return EditPair(kind, src, replace(src, groups=gs + (g,)), ins, ("new",))
    if not gs:
        return None
    i = rng.randrange(len(gs))
    g = gs[i]
    name = object_word(rng, g.obj, syn) if g.count == 1 else g.obj
    the = "the " + (name if g.count == 1 else plural(name))
    if kind == "recolour":
        tint = rng.choice([t for t in TINTS if t != g.tint and t not in src.background.colours()])
        c = colour_word(rng, tint)
        ins = rng.choice(("make {t} {c}", "colour {t} {c}", "turn {t} {c}", "paint {t} {c}", "change the colour of {t} to {c}")).format(t=the, c=c)
        return EditPair(kind, src, replace(src, groups=gs[:i] + (replace(g, tint=tint),) + gs[i + 1:]), ins, (f"group:{i}",))
    if kind == "replace":
        others = {x.obj for x in gs}
        obj = rng.choice([n for n in pool if n not in others and not (g.count > 1 and n in UNCOUNTABLE)])
        new = object_word(rng, obj, syn)
        new_phrase = article(new) if g.count == 1 else plural(new)
        ins = rng.choice(("replace {t} with {n}", "turn {t} into {n}", "swap {t} for {n}", "change {t} to {n}")).format(t=the, n=new_phrase)
        return EditPair(kind, src, replace(src, groups=gs[:i] + (replace(g, obj=obj),) + gs[i + 1:]), ins, (f"group:{i}",))
    if kind == "move":
        if g.count > 1 or g.size == "large":  # large objects live in the centre only
            return None
        free = [c for c in _free_cells(src, exclude=i) if c != g.cell]
        if not free:
            return None
        cell = rng.choice(free)
        ins = rng.choice(("move {t} {p}", "move {t} {p}", "shift {t} {p}")).format(t=the, p=rng.choice(MOVE_PHRASES[cell]))
        return EditPair(kind, src, replace(src, groups=gs[:i] + (replace(g, cell=cell, jitter=_jitter(rng)),) + gs[i + 1:]), ins, (f"group:{i}",))
    if kind == "remove":
        if len(gs) < 2 and src.sign is None:
            return None
        ins = rng.choice(("remove {t}", "delete {t}", "take away {t}", "erase {t}")).format(t=the)
        return EditPair(kind, src, replace(src, groups=gs[:i] + gs[i + 1:]), ins, (f"group:{i}",))
    raise ValueError(f"unknown edit kind {kind!r}")


def sample_edit(rng: random.Random, names: list[str], split: str = "train", kind: str | None = None,
                synonyms: dict[str, tuple[str, ...]] | None = None) -> EditPair:
    """An edit pair whose source is a scene of `split` (and whose target stays in that split)."""
    pool = object_pool(names, "train")
    words = S.TRAIN_WORDS if split == "train" else S.HELDOUT_WORDS
    for _ in range(1000):
        k = kind or rng.choice(EDIT_KINDS)
        src = sample_scene(rng, names, split)
        pair = _try_edit(rng, k, src, pool, words, synonyms or {})
        if pair is None:
            continue
        if split == "train" and heldout_parts(pair.target):
            continue
        return pair
    raise RuntimeError(f"could not build an edit of kind {kind!r} for split {split!r}")


def _box_mask(boxes) -> np.ndarray:
    m = np.zeros((CANVAS, CANVAS), dtype=bool)
    for x0, y0, x1, y1 in boxes:
        m[y0:y1, x0:x1] = True
    return m


def edit_mask(pair: EditPair, assets: Assets) -> np.ndarray:
    """bool [64, 64]: True where the edit is allowed to change pixels."""
    src, tgt = pair.source, pair.target
    if pair.kind == "keep":
        return np.zeros((CANVAS, CANVAS), dtype=bool)
    if pair.kind == "background":
        _, bg_share = render(src, assets, with_coverage=True)
        return bg_share > 0.0  # any pixel the background shows through
    boxes = []
    for c in pair.changed:
        if c == "sign":
            boxes += [sign_box(src.sign, assets), sign_box(tgt.sign, assets)]
        elif c == "new":
            boxes += group_boxes(tgt.groups[-1])
        elif c.startswith("group:"):
            i = int(c.split(":")[1])
            boxes += group_boxes(src.groups[i])
            if pair.kind != "remove":
                boxes += group_boxes(tgt.groups[i])
    return _box_mask(boxes)

"""What is in a picture (a Scene), how it is sampled from a seed, and how it is drawn.

A Scene is pure data: a background, groups of objects (one object, or a row of copies), and an optional
sign with a word. Pixel placement follows from the scene alone (cell centre + the group's own jitter),
so an edit that changes one group leaves every other pixel exactly as it was.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from . import assets as assets_module
from . import split as S
from .assets import Assets
from .palette import CANVAS, CELLS, COLOURS, COUNT_SIZE, JITTER, ROW_Y, ROWS, SIZES, TINTS, far_apart

# Advance widths (px) of DejaVu Sans Bold capitals at the sign's 12 px: a random sign string is kept only
# if it fits the board (CLOSED, the widest word, is 53 px; the board is at most 62 px with its margin).
_CAPITAL_WIDTH = {"A": 9.3, "B": 9.1, "C": 8.8, "D": 10.0, "E": 8.2, "F": 8.2, "G": 9.8, "H": 10.0, "I": 4.5, "J": 4.5,
                  "K": 9.3, "L": 7.6, "M": 11.9, "N": 10.0, "O": 10.2, "P": 8.8, "Q": 10.2, "R": 9.2, "S": 8.6, "T": 8.2,
                  "U": 9.8, "V": 9.3, "W": 13.2, "X": 9.3, "Y": 8.7, "Z": 8.7}
MAX_SIGN_TEXT_PX = 54.0


def _text_width(word: str) -> float:
    # assets.SIGN_NARROW_PAD is read when called: a training run may set it after import.
    return sum(_CAPITAL_WIDTH[c] + (assets_module.SIGN_NARROW_PAD if c in assets_module.NARROW_CAPITALS else 0.0)
               for c in word)


def random_sign_word(rng: random.Random) -> str:
    """2-6 random capitals that fit a sign and contain no held-out word."""
    letters = sorted(_CAPITAL_WIDTH)
    while True:
        word = "".join(rng.choice(letters) for _ in range(rng.randint(2, 6)))
        if _text_width(word) <= MAX_SIGN_TEXT_PX and S.allowed_random_word(word):
            return word


# Names that are already plural or mass nouns: never counted ("three grapes" reads wrong).
UNCOUNTABLE = frozenset({"grapes", "cherries", "fries", "sunglasses", "popcorn", "milk", "corn"})


@dataclass(frozen=True)
class Background:
    colour: str
    colour2: str | None = None  # gradient end colour
    direction: str = "flat"  # flat | vertical (colour at the top, colour2 at the bottom) | horizontal (left → right)

    def colours(self) -> tuple[str, ...]:
        return (self.colour,) if self.colour2 is None else (self.colour, self.colour2)


@dataclass(frozen=True)
class Group:
    obj: str
    cell: str  # a CELLS name when count == 1, a ROWS name when count > 1
    size: str = "medium"  # SIZES key (counted groups always use COUNT_SIZE)
    count: int = 1
    tint: str | None = None
    jitter: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Sign:
    word: str
    row: str  # top | centre | bottom
    jitter: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Scene:
    background: Background
    groups: tuple[Group, ...] = ()
    sign: Sign | None = None


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)


def _clamp_box(cx: int, cy: int, w: int, h: int) -> Box:
    x0 = min(max(cx - w // 2, 0), CANVAS - w)
    y0 = min(max(cy - h // 2, 0), CANVAS - h)
    return (x0, y0, x0 + w, y0 + h)


def group_boxes(g: Group) -> list[Box]:
    jx, jy = g.jitter
    if g.count == 1:
        cx, cy = CELLS[g.cell]
        s = SIZES[g.size]
        return [_clamp_box(cx + jx, cy + jy, s, s)]
    step = CANVAS / g.count
    return [_clamp_box(int(round((i + 0.5) * step)) + jx, ROW_Y[g.cell] + jy, COUNT_SIZE, COUNT_SIZE) for i in range(g.count)]


def sign_box(sign: Sign, assets: Assets) -> Box:
    rgb, _ = assets.sign(sign.word)
    h, w = rgb.shape[:2]
    return _clamp_box(CANVAS // 2 + sign.jitter[0], ROW_Y[sign.row] + sign.jitter[1], w, h)


def group_size_px(g: Group) -> int:
    return COUNT_SIZE if g.count > 1 else SIZES[g.size]


# ---------------------------------------------------------------- drawing

@lru_cache(maxsize=512)
def _background(bg: Background) -> np.ndarray:
    a = np.asarray(COLOURS[bg.colour], dtype=np.float32)
    if bg.direction == "flat":
        return np.broadcast_to(a, (CANVAS, CANVAS, 3)).copy()
    b = np.asarray(COLOURS[bg.colour2], dtype=np.float32)
    t = np.linspace(0.0, 1.0, CANVAS, dtype=np.float32)
    ramp = a[None, :] * (1 - t[:, None]) + b[None, :] * t[:, None]  # [64, 3]
    if bg.direction == "vertical":
        return np.broadcast_to(ramp[:, None, :], (CANVAS, CANVAS, 3)).copy()
    return np.broadcast_to(ramp[None, :, :], (CANVAS, CANVAS, 3)).copy()


def _paste(canvas: np.ndarray, cover: np.ndarray | None, box: Box, rgb: np.ndarray, alpha: np.ndarray) -> None:
    x0, y0, x1, y1 = box
    region = canvas[y0:y1, x0:x1]
    region *= 1.0 - alpha
    region += rgb
    if cover is not None:
        cover[y0:y1, x0:x1] *= 1.0 - alpha[..., 0]


def render(scene: Scene, assets: Assets, with_coverage: bool = False):
    """uint8 [64, 64, 3]; with_coverage also returns how much of each pixel is background (1 = all)."""
    canvas = _background(scene.background).copy()
    bg_share = np.ones((CANVAS, CANVAS), dtype=np.float32) if with_coverage else None
    for g in scene.groups:
        rgb, alpha = assets.sprite(assets.index[g.obj], group_size_px(g), g.tint)
        for box in group_boxes(g):
            _paste(canvas, bg_share, box, rgb, alpha)
    if scene.sign is not None:
        rgb, alpha = assets.sign(scene.sign.word)
        _paste(canvas, bg_share, sign_box(scene.sign, assets), rgb, alpha)
    img = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    return (img, bg_share) if with_coverage else img


# ---------------------------------------------------------------- sampling

LAYOUTS = (("single", 0.34), ("pair", 0.24), ("count", 0.14), ("sign", 0.12), ("sign_object", 0.16))


def _jitter(rng: random.Random) -> tuple[int, int]:
    return (rng.randint(-JITTER, JITTER), rng.randint(-JITTER, JITTER))


def object_pool(names: list[str], split: str) -> list[str]:
    if split == "novel":
        return sorted(n for n in names if n in S.HELDOUT_OBJECTS)
    return [n for n in names if n not in S.HELDOUT_OBJECTS]


def sample_background(rng: random.Random) -> Background:
    colours = list(COLOURS)
    if rng.random() < 0.7:
        return Background(rng.choice(colours))
    a, b = rng.sample(colours, 2)
    return Background(a, b, rng.choice(("vertical", "horizontal")))


def _tint(rng: random.Random, p: float, bg: Background) -> str | None:
    if rng.random() >= p:
        return None
    return rng.choice([t for t in TINTS if t not in bg.colours()])


def _sample_layout(rng: random.Random, pool: list[str], words: tuple[str, ...], random_words: float = 0.0) -> Scene:
    layout = rng.choices([n for n, _ in LAYOUTS], weights=[w for _, w in LAYOUTS])[0]
    bg = sample_background(rng)
    if layout == "single":
        cell = rng.choice(list(CELLS))
        # Large objects only in the centre: at 64 px a large object at an edge cell is mostly central.
        size = rng.choice(list(SIZES)) if cell == "centre" else rng.choice(("small", "medium"))
        g = Group(rng.choice(pool), cell, size, 1, _tint(rng, 0.15, bg), _jitter(rng))
        return Scene(bg, (g,))
    if layout == "pair":
        a, b = rng.sample(pool, 2)
        ca = rng.choice([c for c in CELLS if c != "centre"])  # the centre has no far-apart partner
        cb = rng.choice([c for c in CELLS if far_apart(ca, c)])
        ga = Group(a, ca, rng.choice(("small", "medium")), 1, _tint(rng, 0.1, bg), _jitter(rng))
        gb = Group(b, cb, rng.choice(("small", "medium")), 1, _tint(rng, 0.1, bg), _jitter(rng))
        return Scene(bg, (ga, gb))
    if layout == "count":
        obj = rng.choice([n for n in pool if n not in UNCOUNTABLE])
        return Scene(bg, (Group(obj, rng.choice(ROWS), "small", rng.randint(2, 4), _tint(rng, 0.1, bg), _jitter(rng)),))
    word = rng.choice(words)
    if random_words and rng.random() < random_words:  # drawn only when asked, so other splits keep their streams
        word = random_sign_word(rng)
    if layout == "sign":
        return Scene(bg, (), Sign(word, rng.choice(ROWS), _jitter(rng)))
    # sign_object: the sign on the top or bottom row, one object in a cell of the opposite row.
    sign_row = rng.choice(("top", "bottom"))
    cells = ["bottom left", "bottom", "bottom right"] if sign_row == "top" else ["top left", "top", "top right"]
    g = Group(rng.choice(pool), rng.choice(cells), rng.choice(("small", "medium")), 1, _tint(rng, 0.1, bg), _jitter(rng))
    return Scene(bg, (g,), Sign(word, sign_row, _jitter(rng)))


def heldout_parts(scene: Scene) -> list[str]:
    """Which held-out combinations or words a scene contains (empty for a clean training scene)."""
    parts = []
    for g in scene.groups:
        for c in scene.background.colours():
            if S.heldout_background(g.obj, c):
                parts.append(f"background:{g.obj}+{c}")
        if S.heldout_cell(g.obj, g.cell):
            parts.append(f"cell:{g.obj}+{g.cell}")
        if g.obj in S.HELDOUT_OBJECTS:
            parts.append(f"object:{g.obj}")
    if scene.sign is not None and scene.sign.word in S.HELDOUT_WORDS:
        parts.append(f"word:{scene.sign.word}")
    return parts


def sample_scene(rng: random.Random, names: list[str], split: str = "train") -> Scene:
    """A scene of the given split. train: nothing held out; heldout: at least one held-out combination or
    word, all objects seen in training; novel: contains an object never seen in training."""
    if split not in S.SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {S.SPLITS}")
    pool = object_pool(names, "train")
    if split == "novel":
        novel = object_pool(names, "novel")
        while True:
            scene = _sample_layout(rng, pool, S.TRAIN_WORDS)
            if scene.groups:
                g0 = scene.groups[0]
                choices = [n for n in novel if not (g0.count > 1 and n in UNCOUNTABLE)]
                return replace(scene, groups=(replace(g0, obj=rng.choice(choices)),) + scene.groups[1:])
    words = S.TRAIN_WORDS if split == "train" else S.HELDOUT_WORDS
    random_words = S.RANDOM_SIGN_SHARE if split == "train" else 0.0
    while True:
        scene = _sample_layout(rng, pool, words, random_words)
        held = heldout_parts(scene)
        if (split == "train") == (not held):
            return scene


def scene_rng(seed: int, split: str, index: int, stream: str = "scene") -> random.Random:
    """The random stream of one item: depends only on (seed, split, index), so any item can be rebuilt."""
    return random.Random(f"{stream}:{seed}:{split}:{index}")

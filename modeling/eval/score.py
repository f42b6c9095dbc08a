"""Scoring a 64x64 image against the scene its prompt was made from, with simple pixel statistics.

Honest and simple on purpose; every judgement is checkable by eye:
- background: the median colour of the outermost 1-px ring (flat) or of the two opposite edge strips
  (gradients), snapped to the nearest named colour, provided at least half of those pixels lie within
  UNIFORM_DIST of it (else "unclear"); correct if it is the prompt's colour(s).
- foreground: pixels farther than FG_DIST (RGB distance) from the prompt's background, as drawn by the
  scene engine. Rows/columns with fewer than 2 such pixels are ignored (specks).
- position (one object): the middle of the foreground's extent, snapped to the nearest of the 9 cells.
- object (one object): the foreground's square crop vs every emoji of the vocabulary drawn over the
  measured background colour (same tint as the prompt), nearest by mean squared error at 20x20; correct
  if the nearest is the prompt's object (top-1 of 182).
- count (a row of copies): runs of foreground columns at least 4 px wide in the row's band.
- text (signs): PaddleOCR's recogniser (PP-OCR rec, modeling/rl/ocr.py) reads the sign bands; `text` = exact
  match (the word is in the best read, case and spaces ignored, i.e. the reference's reward is 1),
  `text_similarity` = that reward, 1 - normalised edit distance. Without an OCR reader (`ocr=None`) the
  old template reader answers `text` instead: the nearest rendered sign among all sign words, +-4 px around
  the prompt's sign position (it can only answer known words). `text_template` is always reported.
- edit (preserve): PSNR of the output against the edit's source outside the region the edit may change.
- edit (done): background -> the new colour measured; keep -> PSNR >= 30 dB to the source; text -> the
  sign reads the new word (OCR exact match when a reader is given); remove -> the old box is <10% foreground; add -> in the new box, the added
  object is nearer than every other object and than nothing;
  move -> the foreground near the old/new boxes centres on the new cell; recolour / replace -> among
  re-renderings of that group with every tint / every object, the target's is nearest to the output.
The scorer is validated on the engine's own renders (scores.json reports it as `truth`): a category that
does not score ~1.0 on ground truth says more about the scorer than about the model.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PIL import Image

from ..data.assets import Assets
from ..data.palette import CELLS, COLOURS, ROW_Y
from ..data.scene import Background, Scene, render

FG_DIST = 48.0
UNIFORM_DIST = 60.0
CROP = 20
_NAMES = list(COLOURS)
_RGB = np.array([COLOURS[n] for n in _NAMES], dtype=np.float32)


def nearest_colour(rgb: np.ndarray) -> str:
    return _NAMES[int(np.argmin(((_RGB - rgb[None]) ** 2).sum(1)))]


def _strip_colour(pixels: np.ndarray) -> str:
    """The named colour of a strip of pixels, or "unclear" when fewer than half of them are near it
    (noise has a median too, and it must not count as a background)."""
    name = nearest_colour(np.median(pixels, axis=0))
    near = np.sqrt(((pixels - np.asarray(COLOURS[name], np.float32)) ** 2).sum(1)) < UNIFORM_DIST
    return name if near.mean() >= 0.5 else "unclear"


def measure_background(img: np.ndarray, bg: Background) -> tuple[str, ...]:
    """The named colour(s) of the image's background, read the way `bg` is laid out."""
    f = img.astype(np.float32)
    if bg.direction == "flat":
        return (_strip_colour(np.concatenate([f[0], f[-1], f[:, 0], f[:, -1]])),)
    if bg.direction == "vertical":
        a, b = f[:2].reshape(-1, 3), f[-2:].reshape(-1, 3)
    else:
        a, b = f[:, :2].reshape(-1, 3), f[:, -2:].reshape(-1, 3)
    return _strip_colour(a), _strip_colour(b)


def foreground(img: np.ndarray, scene: Scene, assets: Assets) -> np.ndarray:
    bg = render(Scene(scene.background), assets).astype(np.float32)
    d = np.sqrt(((img.astype(np.float32) - bg) ** 2).sum(-1))
    return d > FG_DIST


def extent(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    rows = np.nonzero(mask.sum(1) >= 2)[0]
    cols = np.nonzero(mask.sum(0) >= 2)[0]
    if len(rows) == 0 or len(cols) == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def nearest_cell(x: float, y: float) -> str:
    return min(CELLS, key=lambda c: (CELLS[c][0] - x) ** 2 + (CELLS[c][1] - y) ** 2)


def _square_crop(img: np.ndarray, box: tuple[int, int, int, int], fill: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    out = np.broadcast_to(fill.astype(np.uint8), (side, side, 3)).copy()
    sx0, sy0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    for yy in range(side):
        y = sy0 + yy
        if 0 <= y < img.shape[0]:
            xs = np.arange(sx0, sx0 + side)
            ok = (xs >= 0) & (xs < img.shape[1])
            out[yy, ok] = img[y, xs[ok]]
    return np.asarray(Image.fromarray(out).resize((CROP, CROP), Image.BILINEAR), dtype=np.float32)


@lru_cache(maxsize=64)
def _templates(assets_id: int, bg_rgb: tuple[int, int, int], tint: str | None) -> np.ndarray:
    assets = _ASSETS[assets_id]
    out = []
    for i in range(len(assets.objects)):
        rgb, alpha = assets.sprite(i, 64, tint)
        comp = rgb + (1 - alpha) * np.asarray(bg_rgb, dtype=np.float32)
        a = alpha[..., 0] > 0.1
        ys, xs = np.nonzero(a)
        box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        out.append(_square_crop(np.clip(comp + 0.5, 0, 255).astype(np.uint8), box, np.asarray(bg_rgb)))
    return np.stack(out)


_ASSETS: dict[int, Assets] = {}


def identify(img: np.ndarray, box, bg_rgb: np.ndarray, assets: Assets, tint: str | None) -> str:
    _ASSETS[id(assets)] = assets
    crop = _square_crop(img, box, bg_rgb)
    t = _templates(id(assets), tuple(int(v) for v in np.round(bg_rgb)), tint)
    err = ((t - crop[None]) ** 2).mean(axis=(1, 2, 3))
    return assets.objects[int(np.argmin(err))].name


def count_in_row(mask: np.ndarray, row: str) -> int:
    y = ROW_Y[row]
    band = mask[max(0, y - 12):y + 12]
    cols = band.sum(0) >= 1
    runs, n = 0, 0
    for c in list(cols) + [False]:
        if c:
            n += 1
        else:
            runs += n >= 4
            n = 0
    return runs


def read_text_ocr(img: np.ndarray, word: str, ocr) -> tuple[float, float, list[str]]:
    """(exact, similarity, reads) of the sign word in img by the OCR reader `ocr` (modeling.rl.ocr.OcrReward):
    similarity is the reference's reward (1 - normalised edit distance, 1 when the word is in a read) maximised
    over the sign bands; exact is similarity == 1."""
    from ..rl.ocr import text_reward
    reads = ocr.reads(img)
    sim = max((text_reward(r, word.lower()) for r in reads), default=0.0)
    return float(sim == 1.0), float(sim), reads


def score_scene(img: np.ndarray, scene: Scene, assets: Assets, ocr=None) -> dict[str, float]:
    """Per-category scores of one generated image (0/1, text_similarity in [0, 1]); categories that do not
    apply are left out. `ocr` (an OcrReward) reads sign text; without it the template reader does."""
    out: dict[str, float] = {}
    out["background"] = float(measure_background(img, scene.background) == scene.background.colours())
    if scene.sign is not None:
        from ..data import split as S
        template = float(read_sign(img, scene, assets, S.TRAIN_WORDS + S.HELDOUT_WORDS) == scene.sign.word)
        out["text_template"] = template
        if ocr is not None:
            out["text"], out["text_similarity"], _ = read_text_ocr(img, scene.sign.word, ocr)
        else:
            out["text"] = template
    groups = scene.groups
    if len(groups) != 1 or scene.sign is not None:
        return out
    g = groups[0]
    mask = foreground(img, scene, assets)
    if g.count == 1:
        box = extent(mask)
        if box is None:
            out.update(position=0.0, object=0.0)
            return out
        out["position"] = float(nearest_cell((box[0] + box[2]) / 2, (box[1] + box[3]) / 2) == g.cell)
        ring = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]).astype(np.float32)
        out["object"] = float(identify(img, box, np.median(ring, axis=0), assets, g.tint) == g.obj)
    else:
        out["count"] = float(count_in_row(mask, g.cell) == g.count)
    return out


def psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    if not where.any():
        return float("inf")
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2)[where].mean())
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


# ---------------------------------------------------------------- sign text (a template reader, not OCR)

def _sign_patches(assets: Assets, words: tuple[str, ...]):
    return [(w, assets.sign(w)[0]) for w in words]


def read_sign(img: np.ndarray, scene: Scene, assets: Assets, words: tuple[str, ...], search: int = 4) -> str | None:
    """The word whose rendered sign best matches the image near where the prompt's sign should be.

    The signs are drawn in one fixed font, so the nearest template (mean squared error, searched over
    +-`search` px) reads them; it can only answer words from `words`. Not an OCR: it cannot read a
    misspelling, and it is only as good as the sign's placement."""
    from numpy.lib.stride_tricks import sliding_window_view

    from ..data.scene import sign_box
    if scene.sign is None:
        return None
    x0, y0, x1, _ = sign_box(scene.sign, assets)
    cx = (x0 + x1) / 2
    f = img.astype(np.float32)
    best, best_err = None, float("inf")
    for w, patch in _sign_patches(assets, words):
        h, wd = patch.shape[:2]
        px0 = int(round(cx - wd / 2))
        # every placement within +-search px that stays inside the image
        ya, yb = max(0, y0 - search), min(64 - h, y0 + search)
        xa, xb = max(0, px0 - search), min(64 - wd, px0 + search)
        if ya > yb or xa > xb:
            continue
        region = f[ya:yb + h, xa:xb + wd]
        windows = sliding_window_view(region, (h, wd, 3))[..., 0, :, :, :]  # [ny, nx, h, wd, 3]
        err = float(((windows - patch) ** 2).mean(axis=(2, 3, 4)).min())
        if err < best_err:
            best, best_err = w, err
    return best


# ---------------------------------------------------------------- edits: was the instruction done?

def _box_fg(mask: np.ndarray, box) -> float:
    x0, y0, x1, y1 = box
    return float(mask[y0:y1, x0:x1].mean())


def edit_done(img: np.ndarray, pair, assets: Assets, ocr=None) -> float | None:
    """1.0 if the output shows what the instruction asked (judged as described per kind), else 0.0."""
    from ..data import split as S
    from ..data.palette import TINTS
    from ..data.scene import Group, group_boxes, replace
    src, tgt = pair.source, pair.target
    kind = pair.kind
    if kind == "background":
        return float(measure_background(img, tgt.background) == tgt.background.colours())
    if kind == "keep":
        return float(psnr(img, render(src, assets), np.ones(img.shape[:2], bool)) >= 30)
    if kind == "text":
        if ocr is not None:
            return read_text_ocr(img, tgt.sign.word, ocr)[0]
        return float(read_sign(img, tgt, assets, S.TRAIN_WORDS + S.HELDOUT_WORDS) == tgt.sign.word)
    mask = foreground(img, tgt, assets)
    if kind == "remove":
        i = int(pair.changed[0].split(":")[1])
        return float(all(_box_fg(mask, b) < 0.1 for b in group_boxes(src.groups[i])))
    if kind == "add":  # the new box holds the added object: nearest among every object there, or nothing
        i = len(tgt.groups) - 1
        candidates = [replace(tgt.groups[i], obj=o) for o in assets.names()] + [None]
        return float(_nearest_rendering(img, tgt, i, candidates, assets) == tgt.groups[i])
    i = int(pair.changed[0].split(":")[1])
    g_new: Group = tgt.groups[i]
    if kind == "move":
        (bo,), (bn,) = group_boxes(src.groups[i]), group_boxes(g_new)
        union = np.zeros_like(mask)
        for x0, y0, x1, y1 in (bo, bn):
            union[y0:y1, x0:x1] = True
        box = extent(mask & union)
        return float(box is not None and nearest_cell((box[0] + box[2]) / 2, (box[1] + box[3]) / 2) == g_new.cell)
    # recolour / replace: which re-rendering of that group fits the output best (others held fixed)?
    if kind == "recolour":
        candidates = [replace(g_new, tint=t) for t in TINTS if t not in tgt.background.colours()]
    else:  # replace
        candidates = [replace(g_new, obj=o) for o in assets.names()]
    return float(_nearest_rendering(img, tgt, i, candidates, assets) == g_new)


def _nearest_rendering(img: np.ndarray, scene: Scene, i: int, candidates: list, assets: Assets):
    """Which candidate for group i (None = no group) renders closest to img inside group i's boxes."""
    from ..data.scene import group_boxes, replace
    sel = np.zeros(img.shape[:2], bool)
    for x0, y0, x1, y1 in group_boxes(scene.groups[i]):
        sel[y0:y1, x0:x1] = True
    f = img.astype(np.float32)
    errs = []
    for c in candidates:
        groups = scene.groups[:i] + ((c,) if c is not None else ()) + scene.groups[i + 1:]
        r = render(replace(scene, groups=groups), assets).astype(np.float32)
        errs.append(float(((r - f) ** 2)[sel].mean()))
    return candidates[int(np.argmin(errs))]

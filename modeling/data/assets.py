"""Loads the prepared asset folder (see prepare.py) and serves resized, optionally recoloured sprites.

The folder holds objects.json (the vocabulary), emoji.npz (one 64x64 RGBA array per object) and the
DejaVu font. Sprites are cached premultiplied (rgb*alpha, alpha) in float32 so compositing is two
multiply-adds per pixel.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .palette import COLOURS

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / "modeling" / ".cache" / "atelier-data"
FONT_FILE = "DejaVuSans-Bold.ttf"
ASSET_FORMAT = 1


def data_dir() -> Path:
    """Where the prepared folder is: $ATELIER_DATA, else modeling/.cache/atelier-data."""
    return Path(os.environ.get("ATELIER_DATA", DEFAULT_DATA_DIR))


@dataclass(frozen=True)
class ObjectInfo:
    name: str
    label: str
    category: str
    synonyms: tuple[str, ...]
    hexcode: str


class Assets:
    def __init__(self, folder: Path | str | None = None):
        folder = Path(folder) if folder is not None else data_dir()
        manifest = folder / "objects.json"
        if not manifest.exists():
            raise FileNotFoundError(
                f"no prepared scene assets in {folder} (objects.json missing); "
                "build them with: .venv/bin/python -m modeling.data.prepare --out " + str(folder)
            )
        meta = json.loads(manifest.read_text())
        if meta.get("format") != ASSET_FORMAT:
            raise ValueError(f"{manifest}: asset format {meta.get('format')} is not {ASSET_FORMAT}; re-run prepare")
        self.folder = folder
        self.objects = [
            ObjectInfo(o["name"], o["label"], o["category"], tuple(o["synonyms"]), o["hexcode"]) for o in meta["objects"]
        ]
        self.index = {o.name: i for i, o in enumerate(self.objects)}
        with np.load(folder / "emoji.npz") as z:
            self.rgba = z["rgba"]  # [N, 64, 64, 4] uint8
        if len(self.rgba) != len(self.objects):
            raise ValueError(f"{folder}: emoji.npz has {len(self.rgba)} images for {len(self.objects)} objects")
        self.font_path = folder / FONT_FILE
        self._sprites: dict[tuple[int, int, str | None], tuple[np.ndarray, np.ndarray]] = {}

    def names(self) -> list[str]:
        return [o.name for o in self.objects]

    def sprite(self, obj: int, size: int, tint: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(premultiplied rgb [s,s,3] float32 in 0..255, alpha [s,s,1] float32 in 0..1)."""
        key = (obj, size, tint)
        hit = self._sprites.get(key)
        if hit is not None:
            return hit
        img = Image.fromarray(self.rgba[obj], "RGBA")
        # Resize in premultiplied space so transparent pixels do not bleed a dark fringe.
        img = img.convert("RGBa").resize((size, size), Image.LANCZOS).convert("RGBA")
        arr = np.asarray(img, dtype=np.float32)
        alpha = arr[..., 3:4] / 255.0
        rgb = arr[..., :3]
        if tint is not None:
            # Recolour: keep the emoji's shading (luminance), replace its hue by the tint colour.
            lum = (rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None] / 255.0
            rgb = np.asarray(COLOURS[tint], dtype=np.float32) * (0.3 + 0.9 * lum)
            rgb = np.clip(rgb, 0, 255)
        out = (rgb * alpha, alpha)
        self._sprites[key] = out
        return out

    def sign(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """A white board with the word in black, premultiplied like a sprite (fully opaque)."""
        return _render_sign(str(self.font_path), word)


SIGN_HEIGHT = 16
SIGN_FONT_SIZE = 12
# Extra room, in pixels, given to each narrow capital (I, J: 4.5 px wide in DejaVu Sans Bold at 12 px, where
# the others are 7.6-13.2) on a sign. 0 draws the word as one string (the shipped model's signs). Why: a
# narrow letter shares an 8 px image-code cell with its neighbours, and the model loses it (GIFT drawn GPT).
SIGN_NARROW_PAD = float(os.environ.get("ATELIER_SIGN_NARROW_PAD", "0"))
NARROW_CAPITALS = "IJ"


def _sign_runs(font: ImageFont.FreeTypeFont, word: str, pad: float) -> list[tuple[float, str]]:
    """Where each run of the word is drawn: [(x, text)]. Runs of ordinary letters are drawn as one string
    (their kerning kept); a narrow capital is its own run with pad/2 each side."""
    runs, x, cur = [], 0.0, ""
    for ch in word:
        if ch in NARROW_CAPITALS and pad > 0:
            if cur:
                runs.append((x, cur)); x += font.getlength(cur); cur = ""
            runs.append((x + pad / 2, ch)); x += font.getlength(ch) + pad
        else:
            cur += ch
    if cur:
        runs.append((x, cur))
    return runs


@lru_cache(maxsize=4096)
def _render_sign(font_path: str, word: str, narrow_pad: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    font = _font(font_path)
    pad = SIGN_NARROW_PAD if narrow_pad is None else narrow_pad
    left, top, right, bottom = font.getbbox(word)
    if pad <= 0 or not any(c in NARROW_CAPITALS for c in word):
        runs = [(0.0, word)]
    else:
        runs = _sign_runs(font, word, pad)
        x_last, last = runs[-1]
        left, right = runs[0][0] + font.getbbox(runs[0][1])[0], x_last + font.getbbox(last)[2]
    width = min(62, round(right - left) + 6)
    img = Image.new("RGB", (width, SIGN_HEIGHT), (250, 250, 250))
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, width - 1, SIGN_HEIGHT - 1], outline=(40, 40, 40))
    x0, y0 = (width - (right - left)) / 2 - left, (SIGN_HEIGHT - (bottom - top)) / 2 - top
    for x, text in runs:
        draw.text((x0 + x, y0), text, fill=(0, 0, 0), font=font)
    rgb = np.asarray(img, dtype=np.float32)
    return rgb, np.ones((SIGN_HEIGHT, width, 1), dtype=np.float32)


@lru_cache(maxsize=4)
def _font(path: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, SIGN_FONT_SIZE)

"""Named colours, canvas cells and object sizes: the visual words the captions use."""
from __future__ import annotations

CANVAS = 64

# Colour name -> RGB. Chosen to be far apart so "blue" vs "teal" is learnable at 64 px.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "orange": (245, 140, 30),
    "yellow": (245, 215, 40),
    "green": (50, 170, 70),
    "blue": (40, 90, 220),
    "purple": (140, 60, 190),
    "pink": (240, 130, 180),
    "brown": (130, 80, 40),
    "black": (20, 20, 20),
    "white": (245, 245, 245),
    "gray": (128, 128, 128),
    "teal": (30, 160, 160),
}
COLOUR_SYNONYMS: dict[str, tuple[str, ...]] = {"gray": ("gray", "grey"), "purple": ("purple", "violet")}
# Colours an object can be recoloured to (black/white tints read as "dark"/"washed out", not as a colour).
TINTS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "teal")

# A 3x3 grid of named cells; the centre of each cell in pixels.
CELLS: dict[str, tuple[int, int]] = {
    "top left": (16, 16), "top": (32, 16), "top right": (48, 16),
    "left": (16, 32), "centre": (32, 32), "right": (48, 32),
    "bottom left": (16, 48), "bottom": (32, 48), "bottom right": (48, 48),
}
ROWS = ("top", "centre", "bottom")  # rows for counted groups (a row of copies across the image)
ROW_Y = {"top": 16, "centre": 32, "bottom": 48}

SIZES: dict[str, int] = {"small": 16, "medium": 24, "large": 32}
COUNT_SIZE = 14  # every copy of a counted group has this size, so four fit across 64 px
JITTER = 2  # +- pixels of placement noise, so the model does not memorise exact positions


def far_apart(a: str, b: str) -> bool:
    """Two cells are far enough apart for two medium objects not to overlap (centres 32 px apart)."""
    (ax, ay), (bx, by) = CELLS[a], CELLS[b]
    return max(abs(ax - bx), abs(ay - by)) >= 32

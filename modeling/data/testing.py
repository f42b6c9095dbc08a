"""Shared by the data tests: one small prepared asset folder per test process (built from node_modules)."""
from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from .assets import REPO_ROOT, Assets
from .prepare import prepare

NODE_MODULES = REPO_ROOT / "node_modules"


@functools.cache
def prepared_folder() -> Path:
    out = Path(tempfile.mkdtemp(prefix="atelier-data-test-"))
    prepare(out, NODE_MODULES, n_captions=3000, n_edits=1000)
    return out


@functools.cache
def prepared_assets() -> Assets:
    return Assets(prepared_folder())

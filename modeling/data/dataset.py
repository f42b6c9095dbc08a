"""Batches for training: many scenes (or edit pairs) rendered to uint8 arrays, in parallel processes.

Item i of (seed, split) is rebuilt from scene_rng(seed, split, i) alone, so a dataset is reproducible
piece by piece and the processes need no coordination.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .assets import Assets, data_dir
from .captions import caption
from .edits import sample_edit
from .scene import render, sample_scene, scene_rng

_ASSETS: Assets | None = None


def _assets(folder: str | None) -> Assets:
    global _ASSETS
    if _ASSETS is None or (folder is not None and Path(folder) != _ASSETS.folder):
        _ASSETS = Assets(folder)
    return _ASSETS


@dataclass
class SceneBatch:
    images: np.ndarray  # uint8 [n, 64, 64, 3]
    captions: list[str]
    signs: np.ndarray  # bool [n]: the scene shows a sign (training can weight these rows, --sign-share)


@dataclass
class EditBatch:
    sources: np.ndarray  # uint8 [n, 64, 64, 3]
    targets: np.ndarray
    instructions: list[str]
    kinds: list[str]


def _scenes(args) -> SceneBatch:
    folder, seed, split, start, n = args
    assets = _assets(folder)
    names = assets.names()
    syn = {o.name: o.synonyms for o in assets.objects}
    images = np.empty((n, 64, 64, 3), dtype=np.uint8)
    caps = []
    signs = np.zeros(n, dtype=bool)
    for k in range(n):
        rng = scene_rng(seed, split, start + k)
        scene = sample_scene(rng, names, split)
        images[k] = render(scene, assets)
        caps.append(caption(scene, rng, syn))
        signs[k] = scene.sign is not None
    return SceneBatch(images, caps, signs)


def _edits(args) -> EditBatch:
    folder, seed, split, start, n = args
    assets = _assets(folder)
    names = assets.names()
    syn = {o.name: o.synonyms for o in assets.objects}
    src = np.empty((n, 64, 64, 3), dtype=np.uint8)
    tgt = np.empty((n, 64, 64, 3), dtype=np.uint8)
    ins, kinds = [], []
    for k in range(n):
        rng = scene_rng(seed, split, start + k, "edit")
        pair = sample_edit(rng, names, split, synonyms=syn)
        src[k] = render(pair.source, assets)
        tgt[k] = render(pair.target, assets)
        ins.append(pair.instruction)
        kinds.append(pair.kind)
    return EditBatch(src, tgt, ins, kinds)


def _run(fn, n: int, seed: int, split: str, workers: int, folder: Path | None, chunk: int = 2000):
    folder_s = str(folder) if folder is not None else str(data_dir())
    jobs = [(folder_s, seed, split, s, min(chunk, n - s)) for s in range(0, n, chunk)]
    if workers <= 1 or len(jobs) == 1:
        return [fn(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(fn, jobs))


def make_scenes(n: int, seed: int = 0, split: str = "train", workers: int | None = None, folder: Path | None = None) -> SceneBatch:
    parts = _run(_scenes, n, seed, split, workers or os.cpu_count() or 1, folder)
    return SceneBatch(np.concatenate([p.images for p in parts]), [c for p in parts for c in p.captions],
                      np.concatenate([p.signs for p in parts]))


def make_edits(n: int, seed: int = 0, split: str = "train", workers: int | None = None, folder: Path | None = None) -> EditBatch:
    parts = _run(_edits, n, seed, split, workers or os.cpu_count() or 1, folder)
    return EditBatch(np.concatenate([p.sources for p in parts]), np.concatenate([p.targets for p in parts]),
                     [c for p in parts for c in p.instructions], [k for p in parts for k in p.kinds])


if __name__ == "__main__":  # throughput: python -m modeling.data.dataset
    for workers in (1, os.cpu_count() or 1):
        t = time.time()
        b = make_scenes(20000, seed=1, workers=workers)
        dt = time.time() - t
        print(f"scenes: {len(b.captions)} in {dt:.2f}s = {len(b.captions) / dt:.0f}/s with {workers} process(es)")
        t = time.time()
        e = make_edits(10000, seed=1, workers=workers)
        dt = time.time() - t
        print(f"edit pairs: {len(e.kinds)} in {dt:.2f}s = {len(e.kinds) / dt:.0f}/s with {workers} process(es)")

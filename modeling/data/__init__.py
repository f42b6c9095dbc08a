"""The scene engine: procedural 64x64 emoji scenes with captions and edit pairs, deterministic from a seed.

Pipeline: `prepare` (build step: collects the emoji and the font into a compact folder) → `assets`
(loads that folder) → `scene` (what is in a picture, sampled from a seed) → `render` (pixels) →
`captions` / `edits` (text and instruction pairs) → `dataset` (batches for training, many processes).
The held-out split for evaluation is defined in `split`.
"""

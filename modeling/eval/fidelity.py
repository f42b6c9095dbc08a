"""Where an edit loses the parts of the picture it should keep: the AR's copying of reference codes, or the DiT.

For one edit pair (run on the same backend as the evaluation, so on the bundle's ONNX graphs):
- teacher forcing: the AR reads the edit prompt followed by the TRUE target codes; its argmax at each code
  position is compared with the true code, separately for the cells the edit leaves unchanged (target code ==
  reference code: a copy) and for the cells it changes;
- sampling: of the unchanged cells, how many the sampled codes actually copied from the reference;
- the DiT alone: the AR hidden states of the teacher-forced pass condition the usual diffusion (same noise),
  and the PSNR outside the edit is measured as for the sampled output. If this is high and the sampled one is
  not, the AR is what loses the picture; if both are low, the DiT does not copy its reference latents.
The same split for text-to-image: `image_from_true_codes` draws a held-out prompt from its true image's codes,
so the object score of that image is the DiT's share of the object category.
"""

from __future__ import annotations

import numpy as np

from ..generate import Params, decode, diffuse, edit_backend, to_model_image
from ..prompting import build_prompt_ids


def teacher_forced(backend, tok, prompt: str, ref_codes: np.ndarray | None, tgt_codes: np.ndarray) -> dict:
    """One AR pass over prompt + true target codes: argmax codes [n] and hidden states [1, n + 1, D].
    ref_codes None = a text-to-image prompt."""
    cfg = backend.cfg
    n = cfg.code_count
    ids, _ = build_prompt_ids(tok, cfg, prompt, None if ref_codes is None else [int(c) for c in ref_codes])
    seq = np.array([ids + [cfg.image_code_offset + int(c) for c in tgt_codes]], np.int64)
    a = cfg.ar
    past = {}
    for i in range(a.layers):
        past[f"past_key_{i}"] = np.zeros((1, a.kv_heads, 0, a.head_dim), np.float32)
        past[f"past_value_{i}"] = np.zeros((1, a.kv_heads, 0, a.head_dim), np.float32)
    out = backend.run("ar", input_ids=seq, attention_mask=np.ones_like(seq),
                      position_ids=np.arange(seq.shape[1], dtype=np.int64)[None], **past)
    code_logits = out["logits"][0, -(n + 1):-1, cfg.image_code_offset:cfg.image_code_offset + cfg.codebook_size]
    return {"codes": code_logits.argmax(-1), "hidden": out["hidden"][:, -(n + 1):].astype(np.float32)}


def agreement(pred: np.ndarray, truth: np.ndarray, ref: np.ndarray) -> dict[str, float | None]:
    """Share of cells where pred == truth, over unchanged cells (truth == ref) and over changed ones."""
    same = truth == ref
    hit = pred == truth
    return {"unchanged": float(hit[same].mean()) if same.any() else None,
            "changed": float(hit[~same].mean()) if (~same).any() else None}


def _true_codes(backend, image_uint8: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 3] -> its image codes [n]."""
    return backend.run("image_tokenizer_encoder", image=to_model_image(image_uint8.transpose(2, 0, 1)[None].copy()))["codes"][0]


def _draw(backend, hidden: np.ndarray, ref_latents: np.ndarray, noise: np.ndarray, params: Params) -> np.ndarray:
    """Connector, diffusion and VAE from given AR hidden states: uint8 [H, W, 3]."""
    cfg = backend.cfg
    cond = backend.run("connector", hidden=hidden)["cond"]
    x = diffuse(backend, cfg, cond, ref_latents, noise, params)["latents_final"]
    return decode(backend, cfg, x)["image"][0].transpose(1, 2, 0)


def edit_fidelity(backend, tok, instruction: str, src_uint8: np.ndarray, tgt_uint8: np.ndarray, sampled: dict,
                  noise: np.ndarray, params: Params) -> dict:
    """src/tgt uint8 [H, W, 3]; `sampled` is generate.edit's record for this pair (batch 1) made with `noise`.
    Returns the teacher-forced code agreement, the sampled copy rate and the image drawn from the true codes
    (uint8 [H, W, 3]) for the caller to score like the sampled one."""
    backend = edit_backend(backend)  # the generator the edit itself ran on
    ref_codes = sampled["ref_codes"][0]
    tgt_codes = _true_codes(backend, tgt_uint8)
    tf = teacher_forced(backend, tok, instruction, ref_codes, tgt_codes)
    tfa = agreement(tf["codes"], tgt_codes, ref_codes)
    copied = agreement(sampled["codes"][0], tgt_codes, ref_codes)["unchanged"]
    return {"teacher_forced_unchanged": tfa["unchanged"], "teacher_forced_changed": tfa["changed"],
            "sampled_copied_unchanged": copied,
            "image_from_true_codes": _draw(backend, tf["hidden"], sampled["ref_latents"], noise, params)}


def image_from_true_codes(backend, tok, prompt: str, truth_uint8: np.ndarray, noise: np.ndarray, params: Params) -> np.ndarray:
    """Text-to-image with the AR teacher-forced on the true image's codes: what the DiT draws when the AR
    is perfect (uint8 [H, W, 3]). Scoring it apart from the sampled image tells which half misses."""
    tf = teacher_forced(backend, tok, prompt, None, _true_codes(backend, truth_uint8))
    return _draw(backend, tf["hidden"], np.zeros_like(noise), noise, params)

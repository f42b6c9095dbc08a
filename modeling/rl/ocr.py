"""The OCR reward of the RL stage: PaddleOCR's text recogniser (ONNX) reads the sign, scored as the reference.

    target  = the quoted text of the prompt, lower-cased, spaces removed   ('a sign that says "OPEN"' -> "open")
    reward  = 1.0 if target is a substring of what was read, else 1 - min(edit distance, len) / len

The recogniser is PP-OCRv6 small (rec) as shipped inside the `rapidocr` wheel on PyPI (Apache-2.0, weights by
Baidu/PaddleOCR; the character list is stored in the ONNX file's metadata). We run it directly with
onnxruntime + numpy + PIL rather than through the rapidocr package: rapidocr pulls OpenCV, Shapely, pyclipper
and omegaconf, none of which exists on the GPU machine (it has onnxruntime but no pip). So
`python -m modeling.rl.ocr prepare` copies the one model file (21 MB) into the prepared data folder
(`<data>/ocr/`, the folder that travels to the device) and nothing is downloaded at run time.

No text detector (the det model would add 10 MB to a carry capped at 40 MB): at 64 px a sign is one
horizontal line, so the reader tries a few horizontal bands — light boards found by a row profile, and the
three rows a sign can sit on — upscales each (text 12 px tall is too small for a model trained on ~32 px
text) and keeps the best-scoring read. Measured on true signs: see modeling/rl/README.md.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

RAPIDOCR_VERSION = "3.10.0"
REC_MEMBER = "rapidocr/models/PP-OCRv6_rec_small.onnx"
REC_FILE = "rec.onnx"
REC_HEIGHT = 48  # the recogniser's fixed input height
QUOTED = re.compile(r'"([^"]+)"')


# ---------------------------------------------------------------- the reward formula

def ocr_target(prompt: str) -> str | None:
    """The quoted text of a prompt, lower-cased without spaces; None when the prompt quotes nothing."""
    m = QUOTED.search(prompt)
    return None if m is None else m.group(1).lower().replace(" ", "")


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def text_reward(read: str, target: str) -> float:
    """1.0 if the target occurs in the read text (both normalised), else 1 - min(distance, len)/len."""
    if not target:
        raise ValueError("the OCR target is empty")
    read = read.lower().replace(" ", "")
    if target in read:
        return 1.0
    return 1.0 - min(edit_distance(read, target), len(target)) / len(target)


# ---------------------------------------------------------------- model files

def ocr_dir(data_folder: Path | None = None) -> Path:
    from ..data.assets import data_dir
    return (data_folder or data_dir()) / "ocr"


def prepare(out: Path, wheel: Path | None = None) -> dict:
    """Copy the recogniser out of the rapidocr wheel into `out` (downloads the wheel with pip if not given)."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp,
                            f"rapidocr=={RAPIDOCR_VERSION}"], check=True)
            wheel = next(Path(tmp).glob("rapidocr-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            with z.open(REC_MEMBER) as src, open(out / REC_FILE, "wb") as dst:
                shutil.copyfileobj(src, dst)
            lic = [n for n in z.namelist() if n.endswith("MODEL_LICENSES.md")]
            if lic:
                (out / "MODEL_LICENSES.md").write_bytes(z.read(lic[0]))
    digest = hashlib.sha256((out / REC_FILE).read_bytes()).hexdigest()
    info = {"source": f"rapidocr=={RAPIDOCR_VERSION} (PyPI wheel), {REC_MEMBER}", "licence": "Apache-2.0",
            "file": REC_FILE, "sha256": digest, "bytes": (out / REC_FILE).stat().st_size}
    (out / "ocr.json").write_text(json.dumps(info, indent=1))
    return info


# ---------------------------------------------------------------- the reader

class TextReader:
    """PP-OCR recogniser: uint8 crops -> strings (CTC greedy decode, as PaddleOCR's CTCLabelDecode)."""

    def __init__(self, folder: Path | None = None, threads: int = 2):
        import onnxruntime as ort
        folder = folder or ocr_dir()
        path = folder / REC_FILE
        if not path.exists():
            raise FileNotFoundError(f"no OCR model at {path}: run `python -m modeling.rl.ocr prepare` "
                                    f"(or carry the prepared data folder's ocr/)")
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        # index 0 is the CTC blank; PaddleOCR appends a space after the dictionary
        self.chars = ["<blank>"] + meta["character"].splitlines() + [" "]
        self.input = self.session.get_inputs()[0].name

    def read(self, crops: list[np.ndarray]) -> list[str]:
        if not crops:
            return []
        widths = [max(REC_HEIGHT, int(np.ceil(REC_HEIGHT * c.shape[1] / c.shape[0]))) for c in crops]
        batch = np.zeros((len(crops), 3, REC_HEIGHT, max(widths)), np.float32)
        for i, (c, w) in enumerate(zip(crops, widths)):
            im = np.asarray(Image.fromarray(c).resize((w, REC_HEIGHT), Image.BICUBIC), np.float32)
            batch[i, :, :, :w] = (im.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
        probs = self.session.run(None, {self.input: batch})[0]  # [B, T, classes]
        out = []
        for idx in probs.argmax(-1):
            keep = np.ones(len(idx), bool)
            keep[1:] = idx[1:] != idx[:-1]
            keep &= idx != 0
            out.append("".join(self.chars[i] for i in idx[keep] if i < len(self.chars)))
        return out


def sign_bands(img: np.ndarray) -> list[np.ndarray]:
    """Horizontal crops of a 64x64 uint8 image where a one-line sign may be: every run of rows that is mostly
    light (a board), cut to its light columns, and the three rows a sign sits on (full width)."""
    from ..data.palette import ROW_Y
    light = (img.astype(np.int16).min(-1) > 200)
    rows = light.sum(1) >= 12
    crops, y = [], 0
    while y < img.shape[0]:
        if rows[y]:
            y1 = y
            while y1 < img.shape[0] and rows[y1]:
                y1 += 1
            if y1 - y >= 6:
                cols = np.nonzero(light[y:y1].sum(0) >= (y1 - y) // 2)[0]
                x0, x1 = (int(cols[0]), int(cols[-1]) + 1) if len(cols) else (0, img.shape[1])
                crops.append(img[max(0, y - 1):min(64, y1 + 1), max(0, x0 - 1):min(64, x1 + 1)])
            y = y1
        else:
            y += 1
    for cy in ROW_Y.values():
        crops.append(img[max(0, cy - 10):min(64, cy + 10)])
    return crops


class OcrReward:
    """reward(images uint8 [B, 64, 64, 3], prompts) -> [B] float: the best read over sign_bands; prompts
    without quoted text get None (the trainer leaves them to the composition reward)."""

    def __init__(self, folder: Path | None = None, threads: int = 2):
        self.reader = TextReader(folder, threads)

    def reads(self, img: np.ndarray) -> list[str]:
        return self.reader.read(sign_bands(img))

    def __call__(self, images: np.ndarray, prompts: list[str], chunk: int = 128) -> list[float | None]:
        targets = [ocr_target(p) for p in prompts]
        crops, owner = [], []
        for i, (img, t) in enumerate(zip(images, targets)):
            if t is not None:
                bands = sign_bands(img)
                crops += bands
                owner += [i] * len(bands)
        reads = [r for k in range(0, len(crops), chunk) for r in self.reader.read(crops[k:k + chunk])]
        out: list[float | None] = [None] * len(prompts)
        for i, r in zip(owner, reads):
            out[i] = max(out[i] or 0.0, text_reward(r, targets[i]))
        return out


# ---------------------------------------------------------------- CLI: prepare, and accuracy on true signs

def accuracy_on_truth(n: int = 100, seed: int = 0, split: str = "heldout", folder: Path | None = None) -> dict:
    """On the scene engine's own sign renders: exact match (reward 1.0: the word is in the best read), strict
    (a read equals the word), mean reward, and the mean reward for a wrong word (another sign word)."""
    from ..data import split as S
    from ..data.assets import Assets
    from ..data.captions import caption
    from ..data.scene import render, sample_scene, scene_rng
    assets = Assets()
    reward = OcrReward(folder)
    names = assets.names()
    syn = {o.name: o.synonyms for o in assets.objects}
    rows, i = [], 0
    while len(rows) < n and i < 100 * n:
        rng = scene_rng(seed, split, i, "ocr")
        scene = sample_scene(rng, names, split)
        i += 1
        if scene.sign is None:
            continue
        prompt = caption(scene, rng, syn)
        img = render(scene, assets)
        reads = reward.reads(img)
        target = scene.sign.word.lower()
        r = max(text_reward(t, target) for t in reads)
        words = S.TRAIN_WORDS + S.HELDOUT_WORDS
        wrong = words[(words.index(scene.sign.word) + 1 + i) % len(words)].lower()
        if wrong == target:
            wrong = words[(words.index(scene.sign.word) + 1) % len(words)].lower()
        rows.append({"word": scene.sign.word, "reads": reads, "reward": r, "exact": float(r == 1.0),
                     "strict": float(any(t.lower().replace(" ", "") == target for t in reads)),
                     "wrong_word_reward": max(text_reward(t, wrong) for t in reads),
                     "prompt_target_ok": ocr_target(prompt) == target})
    return {"n": len(rows), "split": split, "exact_match": float(np.mean([r["exact"] for r in rows])),
            "strict_exact_match": float(np.mean([r["strict"] for r in rows])),
            "mean_reward": float(np.mean([r["reward"] for r in rows])),
            "mean_reward_for_a_wrong_word": float(np.mean([r["wrong_word_reward"] for r in rows])),
            "prompt_targets_ok": float(np.mean([r["prompt_target_ok"] for r in rows])),
            "misses": [(r["word"], r["reads"]) for r in rows if r["exact"] < 1][:20]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare", help="copy the recogniser into <data>/ocr/")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--wheel", type=Path, default=None, help="a downloaded rapidocr wheel (else pip downloads it)")
    a = sub.add_parser("accuracy", help="exact-match rate on true sign renders")
    a.add_argument("--n", type=int, default=100)
    a.add_argument("--split", default="heldout")
    args = ap.parse_args(argv)
    if args.cmd == "prepare":
        print(json.dumps(prepare(args.out or ocr_dir(), args.wheel), indent=1))
    else:
        print(json.dumps(accuracy_on_truth(args.n, split=args.split), indent=1))


if __name__ == "__main__":
    main()

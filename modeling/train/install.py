"""Install a trained bundle as the app's default model, with its evaluation in provenance and a model card.

    .venv/bin/python -m modeling.train.install --results DIR [--dest resources/models/atelier-nano]

DIR holds what modeling/train/device_run.sh brought back (results.tar.part-* and report.json), or
--bundle points at an exported bundle folder directly. Steps: join and unpack the parts; verify the
bundle (hashes, graph I/O); evaluate it through onnxruntime on the held-out prompts
(modeling.eval.run); write the scores into bundle.json's provenance.eval (bundle.json is not itself
hashed); copy it to --dest with grid.png and MODEL_CARD.md. Refuses a bundle over 40 MB.
"""
from __future__ import annotations

import argparse
import json
import shutil
import tarfile
import tempfile
from pathlib import Path

from ..bundle import load_bundle
from ..data.assets import REPO_ROOT
from ..eval.run import evaluate
from ..lora.export import add_lora_graphs

MAX_BUNDLE_BYTES = 40 * 1000 * 1000


def unpack(results: Path, into: Path) -> Path:
    parts = sorted(results.glob("results.tar.part-*"))
    if not parts:
        raise SystemExit(f"no results.tar.part-* in {results}")
    tar_path = into / "results.tar"
    with open(tar_path, "wb") as out:
        for p in parts:
            out.write(p.read_bytes())
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    if not (into / "bundle" / "bundle.json").exists():
        raise SystemExit(f"{results}: the results hold no bundle (see report.json packing_note; re-export from run/model-fp16.safetensors)")
    return into / "bundle"


def _fmt(v) -> str:
    return "–" if v is None else f"{v:.2f}"


def pm(se) -> str:
    """' ± se' when the scores have a standard error (older ones do not)."""
    return "" if se is None else f" ± {se:.2f}"


def _versions_table(compare: list[tuple[str, dict]], scores: dict) -> str:
    """Earlier evaluations (same command, same prompts) next to this one."""
    cats = list(scores["categories"])
    head = "| version | " + " | ".join(cats) + " | overall | text similarity | edits done | PSNR outside edit (dB) |"
    lines = [head, "|" + "---|" * (len(cats) + 5)]
    for label, r in compare + [("this bundle", scores)]:
        sim = (r.get("text_detail") or {}).get("text_similarity")
        lines.append(f"| {label} | " + " | ".join(_fmt(r["categories"].get(k)) for k in cats)
                     + f" | {_fmt(r['overall'])} | {_fmt(sim)} | {_fmt(r['edits']['done'])} | {_fmt(r['edits']['psnr_outside_edit_mean_db'])} |")
    return "\n".join(lines)


def model_card(meta: dict, scores: dict, compare: list[tuple[str, dict]] | None = None, notes: str = "") -> str:
    prov = meta["provenance"]
    c, e, n, t = scores["categories"], scores["edits"], scores["novel_objects"], scores["truth"]
    cn, cse = scores.get("categories_n") or {}, scores.get("categories_se") or {}
    rows = "\n".join(f"| {k} | {_fmt(c[k])} | {_fmt(cse.get(k))} | {cn.get(k, '–')} | {_fmt(t[k])} |" for k in c)
    td, ttd = scores.get("text_detail") or {}, scores.get("truth_text_detail") or {}
    ocr = any("PaddleOCR" in x for x in scores.get("notes", []))
    text_line = (f"Text is read by PaddleOCR's recogniser (PP-OCR rec through onnxruntime): `text` is the exact match; "
                 f"1 − normalised edit distance {_fmt(td.get('text_similarity'))} (truth {_fmt(ttd.get('text_similarity'))}); "
                 f"the old template reader {_fmt(td.get('text_template'))}." if ocr else
                 "Text is read by matching rendered sign templates of known words (no OCR model was available).")
    versions = f"\n### Versions (same command and prompts)\n\n{_versions_table(compare, scores)}\n" if compare else ""
    kinds = ", ".join(f"{k} {_fmt(v)}" for k, v in e["done_by_kind"].items())
    weak = [k for k, v in e["done_by_kind"].items() if v is not None and v < 0.5]
    weak_edits = (f"- Edits done in under half the tries: {', '.join(weak)} (instruction done by kind, above).\n"
                  if weak else "")
    # and the kinds that keep the rest of the picture (≥ 30 dB outside the edited region) in under half the tries
    by_kind: dict[str, list[float]] = {}
    for it in scores.get("edit_items") or []:
        if it.get("psnr_outside_edit") is not None:
            by_kind.setdefault(it["kind"], []).append(float(it["psnr_outside_edit"] >= 30))
    unkept = {k: sum(v) / len(v) for k, v in by_kind.items() if sum(v) / len(v) < 0.5}
    weak_edits += (f"- Edits that keep the rest of the picture at ≥ 30 dB in under half the tries: "
                   f"{', '.join(f'{k} {_fmt(v)}' for k, v in unkept.items())} (PSNR outside the edited region, by kind).\n"
                   if unkept else "")
    kept = f" (cells kept from the reference: {_fmt(e['cells_kept'])} on average)" if e.get("cells_kept") is not None else ""
    d = e.get("diagnostics")
    fidelity = (f"Where edits lose what they should keep (modeling/eval/fidelity.py): fed the true target codes, the AR "
                f"predicts an unchanged cell's code (a copy of the reference) {_fmt(d['ar_teacher_forced_unchanged_code_acc'])} "
                f"of the time; the sampled codes copy {_fmt(d['sampled_codes_copied_where_unchanged'])} of the unchanged cells; "
                f"the DiT conditioned on the true codes keeps {_fmt(d['psnr_outside_edit_true_codes_db'])} dB outside the edit.\n"
                if d else "")
    dt = (scores.get("diagnostics") or {}).get("object_from_true_codes")
    if dt is not None:
        fidelity += (f"Drawn from the true image's codes (a perfect AR), the single-object prompts show the asked object "
                     f"{_fmt(dt)} of the time (sampled: {_fmt(c['object'])}): the DiT's share of the object score.\n")
    tt = (scores.get("diagnostics") or {}).get("text_from_true_codes")
    if tt is not None and c.get("text") is not None:
        fidelity += (f"Drawn from the true image's codes, the sign prompts' word is read exactly {_fmt(tt)} of the time "
                     f"(sampled: {_fmt(c['text'])}): the rest of the text score is lost by the AR's choice of codes.\n")
    p = scores.get("params") or {}
    edit_t = p.get("edit_temperature")
    sampling = (f"Sampling (the bundle's defaults): AR temperature {p['temperature']}"
                + (f" (edits {edit_t})" if edit_t is not None else "") + f", top-k {p['top_k']}, top-p {p['top_p']}, "
                f"AR guidance {p.get('ar_cfg_scale', 1.0)} (edits {p.get('edit_ar_cfg_scale', 1.0)}; 1 = off); DiT {p['steps']} "
                f"Euler steps, shift {p['shift']}, guidance {p['cfg_scale']}"
                + ("; edits keep the cells whose code the AR kept (`sampling.edit_keep_unchanged`)" if p.get("edit_keep_unchanged") else "")
                + ".\n" if p else "")
    eg = prov.get("edit_generator")
    editor = (f"- Edits run on a second generator in the bundle (docs/bundle-spec.md, \"Edit generator\"): the AR, connector "
              f"and DiT of {eg.get('checkpoint')}{' — ' + eg['notes'] if eg.get('notes') else ''} (variations too: they use "
              "the edit template); text-to-image and inpaint on the weights above. The edit scores below are that generator's.\n" if eg else "")
    lora_edits = (" An edit with a LoRA runs on the text-to-image generator, the DiT the LoRA was trained against."
                  if eg else "")
    return f"""# {meta['name']} ({meta['variant']})

A BLIP3o-NEXT-like text-to-image and edit model at nano scale (64 × 64 px): an AR transformer samples
8 × 8 FSQ image codes, its hidden states condition a flow-matching DiT over 16 × 16 × 4 VAE latents.
Trained from scratch by this project on procedural emoji scenes (modeling/data).

- Trained on: {prov.get('trained_on')}
- Recipe: {prov.get('recipe')}
- Commit: {prov.get('commit')}
- Data and licences: {'; '.join(f"{d['name']} ({d['license']})" for d in prov.get('data', []))}
- Weights licence: {meta['license']}
{editor}
## Evaluation (held-out prompts, onnxruntime, `python -m modeling.eval.run`)

{scores['n_prompts']} text-to-image prompts and {e['n']} edits from the held-out split (combinations of
object/colour and object/cell and sign words never seen in training), seed {scores['seed']}, the bundle's
default sampling. `truth` is the same scorer on the true images (how far to trust the scorer).
{sampling}
| category | model | ± (1 standard error) | prompts | truth |
|---|---|---|---|---|
{rows}

One seed's scores move by chance about as much as their standard error: differences between versions
smaller than about twice it are not measured differences.

Overall {_fmt(scores['overall'])} (without text {_fmt(scores['overall_without_text'])}). {text_line}
Edits: instruction done {_fmt(e['done'])}{pm(e.get('done_se'))} ({kinds}); PSNR outside the edited region
{_fmt(e['psnr_outside_edit_mean_db'])} dB on average, ≥ 30 dB in {_fmt(e['psnr_outside_edit_ge_30db'])}{pm(e.get('psnr_outside_edit_ge_30db_se'))} of edits{kept}.
{fidelity}Never-seen objects (reported apart): object {_fmt(n['object'])}, position {_fmt(n['position'])}.
{versions}
![samples](grid.png)
{notes}
## LoRA
The bundle carries the optional LoRA graphs (`dit_lora`, `dit_train_lora`; docs/lora.md), sharing the
DiT weights file, so the in-app wizard and `--lora` work on it. LoRAs adapt the DiT only.{lora_edits}

## What it cannot do
- 64 × 64 pixels only; a vocabulary of 172 training emoji on flat or gradient backgrounds, short sign
  words. Objects outside the vocabulary are not drawn (see "never-seen objects").
- Sign text: the OCR reads a held-out word exactly in {_fmt(c.get('text'))} of the signs (see `text`). It writes capitals
  only, and reads them best in double quotes as in its captions (`a sign that says "OPEN"`{'; the engine quotes a bare capital word itself and writes a quoted lower-case word (`"open"`) in capitals' if (meta.get('tokenizer') or {}).get('quote_sign_words') else ''});
  a bare lower-case word is not read as sign text. {'The GRPO/OCR stage is in this bundle: see above.' if prov.get('rl') else 'The OCR/GRPO reinforcement stage of the reference is not in this bundle.'}
{weak_edits}- Scores other than text come from simple pixel statistics (modeling/eval/score.py), text from an OCR model;
  they measure this synthetic domain only.
"""


def read_versions(path: Path) -> list[tuple[str, dict]]:
    """The versions file: 'label<TAB>scores.json' lines, paths relative to the repository root."""
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, rel = line.partition("\t")
        if not sep or not label.strip() or not rel.strip():
            raise SystemExit(f"{path}:{n}: want 'label<TAB>scores.json', got {line!r}")
        f = REPO_ROOT / rel.strip()
        if not f.is_file():
            raise SystemExit(f"{path}:{n}: no file {rel.strip()}")
        out.append((label.strip(), json.loads(f.read_text())))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--results", type=Path, help="folder with results.tar.part-* from device_run.sh")
    src.add_argument("--bundle", type=Path, help="an exported bundle folder")
    ap.add_argument("--dest", type=Path, default=REPO_ROOT / "resources" / "models" / "atelier-nano")
    ap.add_argument("--eval-out", type=Path, help="where the evaluation writes scores.json/grid.png")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--compare", action="append", default=[], metavar="LABEL=SCORES_JSON",
                    help="an earlier evaluation (scores.json of the same command) for the model card's versions table")
    ap.add_argument("--versions", type=Path, metavar="TSV",
                    help="earlier evaluations for the versions table, one 'label<TAB>scores.json' per line (paths from "
                         "the repository root; # comments), before any --compare (modeling/checkpoints/versions.tsv)")
    ap.add_argument("--notes", type=Path, help="a markdown file appended to the model card after the samples")
    ap.add_argument("--trained-on", help="replace provenance.trained_on (e.g. for a continued run)")
    args = ap.parse_args(argv)
    compare = read_versions(args.versions) if args.versions else []
    for item in args.compare:
        label, sep, path = item.partition("=")
        if not sep:
            raise SystemExit(f"--compare wants LABEL=SCORES_JSON, got {item!r}")
        compare.append((label, json.loads(Path(path).read_text())))
    notes = args.notes.read_text() if args.notes else ""
    with tempfile.TemporaryDirectory() as tmp:
        bundle = args.bundle or unpack(args.results, Path(tmp))
        meta = load_bundle(bundle).meta
        size = sum(f["bytes"] for f in meta["files"])
        if size > MAX_BUNDLE_BYTES:
            raise SystemExit(f"{bundle}: {size / 1e6:.1f} MB, over the {MAX_BUNDLE_BYTES / 1e6:.0f} MB limit for resources/models")
        eval_out = args.eval_out or Path(tmp) / "eval"
        scores = evaluate(bundle, eval_out, threads=args.threads)
        if args.trained_on:
            meta["provenance"]["trained_on"] = args.trained_on
        meta["provenance"]["eval"] = {
            "command": "python -m modeling.eval.run --bundle <dir> --out <dir> (defaults)",
            "split": scores["split"], "seed": scores["seed"], "n_prompts": scores["n_prompts"],
            "categories": scores["categories"], "overall": scores["overall"],
            "overall_without_text": scores["overall_without_text"], "edits": scores["edits"],
            "novel_objects": scores["novel_objects"], "scorer_on_truth": scores["truth"], "notes": scores["notes"],
            "text_detail": scores.get("text_detail"), "diagnostics": scores.get("diagnostics")}
        if args.dest.exists():
            shutil.rmtree(args.dest)
        shutil.copytree(bundle, args.dest)
        (args.dest / "bundle.json").write_text(json.dumps(meta, indent=2) + "\n")
        shutil.copyfile(eval_out / "grid.png", args.dest / "grid.png")
        (args.dest / "MODEL_CARD.md").write_text(model_card(meta, scores, compare, notes))
        # The LoRA wizard and --lora need the LoRA graphs; they share the DiT weights file, so the
        # bundle grows by well under a megabyte.
        add_lora_graphs(args.dest)
        size = sum(f["bytes"] for f in load_bundle(args.dest).meta["files"])  # verifies again
        if size > MAX_BUNDLE_BYTES:
            raise SystemExit(f"{args.dest}: {size / 1e6:.1f} MB with LoRA graphs, over the {MAX_BUNDLE_BYTES / 1e6:.0f} MB limit")
    print(f"installed {args.dest}: overall {scores['overall']}, edits done {scores['edits']['done']}")


if __name__ == "__main__":
    main()

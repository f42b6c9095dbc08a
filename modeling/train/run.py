"""Train the nano model: `python -m modeling.train.run --preset cpu|gpu --out DIR [--seconds S]`.

Writes into DIR: state.pt (everything needed to resume: weights, optimizer, stage progress, history),
model.safetensors (H3's checkpoint format: weights + config + tokenizer, what modeling.export reads),
history.json, loss.png, grid.png (held-out prompts: truth | AR codes through the image tokenizer's decoder |
final image) and summary.json. With --rl-seconds S > 0, stage 4 (GRPO on the AR, modeling/rl/grpo.py) runs after
edit post-training and adds rl_history.json, rl_eval.json and rl_grid.png (it needs the OCR model in
<data>/ocr/, from `python -m modeling.rl.ocr prepare`). Running the same command again resumes where the last checkpoint left off
(--fresh starts over). ATELIER_DEVICE=cpu forces the CPU (a smoke test of the gpu preset on any machine).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from ..checkpoint import load_checkpoint, save_checkpoint
from ..config import ModelConfig
from ..data import assets as assets_module
from ..data.assets import data_dir
from ..data.dataset import make_edits, make_scenes
from ..model import AtelierModel, count_parameters
from ..text_tokenizer import spell_capitals, spells_capitals
from . import stages as S
from .grow import grow_ar_depth
from .pool import build_pool, to_float, weight_signs
from .presets import PRESETS, TrainPreset
from .preview import codes_preview, generate, grid_png, loss_png
from .sequences import PromptBuilder


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


class Run:
    def __init__(self, preset: TrainPreset, out: Path, data_folder: Path, fresh: bool, grid_steps: int | None = None,
                 rl_seconds: float = 0.0, rl_max_steps: int | None = None, init: Path | None = None,
                 spell: bool = False, upgrade: bool = False, probe_batches: list[int] | None = None,
                 auto_batch: bool = False, grow_ar_layers: int | None = None):
        self.preset, self.out, self.data_folder = preset, out, data_folder
        self.probe_batches, self.auto_batch, self.batch_probe = probe_batches or [], auto_batch, None
        self.grid_steps = grid_steps
        self.rl_seconds, self.rl_max_steps = rl_seconds, rl_max_steps
        out.mkdir(parents=True, exist_ok=True)
        self.state_path = out / "state.pt"
        self.device = preset.device
        torch.manual_seed(preset.seed)
        np.random.seed(preset.seed)  # batch indices of stages 2-3 are drawn on the host
        state = None
        if self.state_path.exists() and not fresh:
            state = torch.load(self.state_path, map_location="cpu", weights_only=False)
            log(f"resuming from {self.state_path}: " + ", ".join(f"{p['stage']} step {p['step']}{' (done)' if p['done'] else ''}" for p in state["progress"]))
        init_model = None
        new_keys: set[str] = set()  # parameters an --upgrade adds to the checkpoint's model
        if state is not None:
            cfg = ModelConfig.from_dict(json.loads(state["config"]))
            self.tokenizer = Tokenizer.from_str(state["tokenizer"])
        elif init is not None:
            # Continue from a trained checkpoint: its tokenizer, config (incl. the fitted latent scale) and weights;
            # the autoencoders are taken as trained, so their latents and codes stay what the DiT and AR learned.
            init_model, self.tokenizer = load_checkpoint(init)
            if grow_ar_layers:  # deeper AR, same function: new blocks start as identities (modeling/train/grow.py)
                before = init_model.cfg.ar.layers
                init_model = grow_ar_depth(init_model, grow_ar_layers)
                log(f"AR grown from {before} to {grow_ar_layers} layers (new blocks start as identities)")
            if spell and not spells_capitals(self.tokenizer):
                self.tokenizer = spell_capitals(self.tokenizer)  # same ids; sign words now come letter by letter
                log("tokenizer converted to spell capitals letter by letter")
            cfg = init_model.cfg
            if upgrade:  # adopt what the preset has and the checkpoint predates; the model starts unchanged
                t = preset.model.text
                if (cfg.text.template_generate, cfg.text.template_edit) != (t.template_generate, t.template_edit):
                    cfg.text.template_generate, cfg.text.template_edit = t.template_generate, t.template_edit
                    log(f"prompt templates from preset {preset.name}: generate {t.template_generate!r}, edit {t.template_edit!r}")
                if preset.model.dit.spatial_cond and not cfg.dit.spatial_cond:
                    cfg.dit.spatial_cond = True
                    cfg.validate()
                    new_keys = {"dit.spatial_cond.weight", "dit.spatial_cond.bias"}
                    log("DiT spatial condition added (zero-initialised)")
            log(f"initialised from {init}: autoencoders kept, latent shift {cfg.vae.shift_factor:.4f} scale {cfg.vae.scaling_factor:.4f}")
        else:
            cfg = preset.model
            t = time.time()
            self.tokenizer = S.train_text_tokenizer(data_folder, cfg.text.vocab_size)
            log(f"[tokenizer] BPE trained on {data_folder / 'captions.txt'} in {time.time() - t:.1f}s: {self.tokenizer.get_vocab_size()} ids")
        # Render the pool before CUDA starts: the renderer forks worker processes.
        self.pool = build_pool(preset.scenes, preset.edits, preset.seed, "cpu", log)
        if preset.sign_share is not None:
            weight_signs(self.pool, preset.sign_share)
            log(f"text-to-image rows drawn {preset.sign_share:.2f} from sign scenes "
                f"(the pool has {self.pool.signs.mean():.2f})")
        self.model = AtelierModel(cfg).to(self.device)
        if state is not None:
            self.model.load_state_dict(state["model"])
        elif init_model is not None:
            missing, unexpected = self.model.load_state_dict(init_model.state_dict(), strict=False)
            if set(missing) != new_keys or unexpected:
                raise RuntimeError(f"{init} does not fit the model: missing {missing}, unexpected {unexpected}")
        self.builder = PromptBuilder(cfg, self.tokenizer)
        self.progress = {p["stage"]: S.StageProgress(**p) for p in state["progress"]} if state else {s: S.StageProgress(s) for s in S.STAGES}
        if init_model is not None:
            self.progress["autoencoders"].done = True
        # an initialised run keeps the checkpoint's latent scale (state.pt records it in the config on resume)
        self.refit_latent_scale = init_model is None and not (state and state.get("init"))
        self.init = str(init) if init is not None else (state.get("init") if state else None)
        self.opt_state = state.get("optimizer") if state else None
        self.rl_report = state.get("rl") if state else None  # stage 4 is not resumed mid-way: done or not
        self.ctx = S.Context(preset, history=state["history"] if state else [], log=log,
                             on_checkpoint=self.checkpoint, on_grid=self.grid)
        self.opt = None
        log(f"model {cfg.name}: " + ", ".join(f"{n} {count_parameters(getattr(self.model, n)) / 1e6:.2f}M"
                                             for n in ("ar", "connector", "dit", "vae", "image_tokenizer")))
        self.pool.images, self.pool.edit_src, self.pool.edit_tgt = (
            t.to(self.device) for t in (self.pool.images, self.pool.edit_src, self.pool.edit_tgt))
        eval_scenes = make_scenes(8, seed=4242, split="heldout", workers=1, folder=data_folder)
        eval_edits = make_edits(4, seed=4242, split="heldout", workers=1, folder=data_folder)
        self.grid_prompts = eval_scenes.captions
        self.grid_truth = eval_scenes.images
        self.grid_edits = eval_edits

    # ------------------------------------------------------------ outputs
    def checkpoint(self) -> None:
        t = time.time()
        state = {"config": self.model.cfg.to_json(), "tokenizer": self.tokenizer.to_str(),
                 "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
                 "progress": [vars(p) for p in self.progress.values()], "history": self.ctx.history,
                 "optimizer": self.opt.state_dict() if self.opt is not None else None, "preset": self.preset.name,
                 "rl": self.rl_report, "init": self.init}
        tmp = self.state_path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.state_path)
        save_checkpoint(self.out / "model.safetensors", self.model, self.tokenizer)
        (self.out / "history.json").write_text(json.dumps(self.ctx.history))
        if self.ctx.history:
            loss_png(self.ctx.history, self.out / "loss.png")
        log(f"checkpoint written in {time.time() - t:.1f}s")

    def grid(self, stage: str) -> None:
        if not self.progress["autoencoders"].done and stage != "autoencoders":
            return
        t = time.time()
        m = self.model
        rows, labels = [], []
        with torch.no_grad():
            truth = torch.from_numpy(self.grid_truth)
            recon_codes = m.image_tokenizer.encode(to_float(truth.to(self.device)))
            vae_recon = m.vae.decode(m.vae.encode(to_float(truth.to(self.device)))[0])
            vae_recon = ((vae_recon.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu()
            tok_recon = codes_preview(m, recon_codes)
            if self.progress["generator"].step > 0 or self.init:  # a continued run starts from a trained generator
                imgs, codes = generate(m, self.builder, self.grid_prompts, seed=1, steps=self.grid_steps)
                ar_view = codes_preview(m, codes)
            else:
                imgs = ar_view = None
            for i, prompt in enumerate(self.grid_prompts):
                row = [self.grid_truth[i], vae_recon[i].numpy(), tok_recon[i].numpy()]
                if imgs is not None:
                    row += [ar_view[i].numpy(), imgs[i].numpy()]
                rows.append(row)
                labels.append(prompt)
            if self.progress["edit"].step > 0:
                e = self.grid_edits
                imgs, _ = generate(m, self.builder, e.instructions, refs_u8=torch.from_numpy(e.sources), seed=2,
                                   steps=self.grid_steps)
                for i, ins in enumerate(e.instructions):
                    rows.append([e.sources[i], e.targets[i], imgs[i].numpy()])
                    labels.append(f"EDIT ({e.kinds[i]}): {ins}   [source | target | output]")
        m.train()
        header = ("held-out prompts. columns: truth | VAE recon | tokenizer recon | AR codes (tokenizer decoder) | "
                  f"final image - at {stage}")
        grid_png(rows, labels, self.out / "grid.png", header)
        log(f"grid written in {time.time() - t:.1f}s")

    def probe(self) -> None:
        """Time the generator step at each --probe-batches size; with --auto-batch take the fastest in rows/s for
        stages 2-3 (edit batch scaled alike, peak lr by the square root of the factor, as for Adam)."""
        gen = self.preset.stages["generator"]
        sizes = sorted(set(self.probe_batches) | {gen.batch})
        rates = S.probe_batch_sizes(self.model, self.pool, self.ctx, sizes)
        chosen = S.choose_batch(rates, gen.batch) if self.auto_batch else gen.batch
        self.batch_probe = {"rows_per_s": {str(b): round(r, 1) for b, r in rates.items()}, "base": gen.batch,
                            "chosen": chosen, "auto": self.auto_batch}
        log("batch probe (rows/s of the generator step): " + ", ".join(f"{b}: {r:.0f}" for b, r in rates.items())
            + (f"; batch {gen.batch} -> {chosen}" if chosen != gen.batch else f"; batch stays {gen.batch}"))
        if chosen != gen.batch:
            k = chosen / gen.batch
            for n in ("generator", "edit"):
                b = self.preset.stages[n]
                b.batch, b.lr = max(1, round(b.batch * k)), b.lr * k ** 0.5
                log(f"[{n}] batch {b.batch}, lr {b.lr:.2e}")

    # ------------------------------------------------------------ the recipe
    def train(self) -> dict:
        t0 = time.time()
        gen_ready = False
        for name in S.STAGES:
            prog = self.progress[name]
            budget = self.preset.stages[name]
            if name != "autoencoders" and not gen_ready:
                S.prepare_generator_data(self.model, self.pool, self.builder, self.ctx, refit=self.refit_latent_scale)
                gen_ready = True
                if self.probe_batches and not prog.done:
                    self.probe()
            if prog.done:
                continue
            params = S.stage_parameters(self.model, name, self.preset.frozen)
            self.model.train()
            self.opt = S.make_optimizer(params, budget.lr, self.device)
            if self.opt_state is not None and prog.step > 0:
                self.opt.load_state_dict(self.opt_state)
            self.opt_state = None
            step_fn = {"autoencoders": S.autoencoder_step, "generator": S.generator_step, "edit": S.edit_step}[name](
                self.model, self.pool, self.ctx, budget)
            S.run_stage(self.ctx, prog, budget, self.opt, params, step_fn)
            self.opt = None
            self.checkpoint()
            self.grid(name)
        if self.rl_seconds > 0 and self.rl_report is None:
            self.reinforce()
        summary = {"preset": self.preset.name, "seed": self.preset.seed, "device": self.device, "init": self.init,
                   "sign_share": self.preset.sign_share, "sign_narrow_pad": assets_module.SIGN_NARROW_PAD,
                   "frozen": list(self.preset.frozen),
                   "device_name": torch.cuda.get_device_name() if self.device == "cuda" else "cpu",
                   "train_seconds_budget": self.preset.seconds, "wall_seconds": round(time.time() - t0, 1),
                   "stages": {n: {"steps": p.step, "seconds": round(p.elapsed, 1),
                                  "steps_per_s": round(p.step / max(p.elapsed, 1e-9), 2),
                                  "batch": self.preset.stages[n].batch} for n, p in self.progress.items()},
                   "last_losses": {n: next((h for h in reversed(self.ctx.history) if h["stage"] == n), None) for n in S.STAGES},
                   "latent": {"shift_factor": self.model.cfg.vae.shift_factor, "scaling_factor": self.model.cfg.vae.scaling_factor}}
        if self.batch_probe is not None:
            summary["batch_probe"] = self.batch_probe
        if self.rl_report is not None:
            from ..rl.grpo import RL_SUMMARY_KEYS
            summary["rl"] = {k: self.rl_report.get(k) for k in RL_SUMMARY_KEYS}
        (self.out / "summary.json").write_text(json.dumps(summary, indent=1))
        return summary


    def reinforce(self) -> None:
        """Stage 4: GRPO on the AR (OCR + composition rewards), the DiT frozen; then a checkpoint."""
        from ..rl.grpo import preset as rl_preset, train_rl
        # the CPU (also a CPU smoke test of the gpu preset) gets the small RL batch
        cfg = rl_preset("gpu" if self.device == "cuda" else "cpu", self.rl_seconds)
        cfg.device = self.device
        cfg.bf16 = self.preset.autocast_bf16 and self.device == "cuda"
        cfg.seed = self.preset.seed
        if self.rl_max_steps:
            cfg.max_steps, cfg.eval_sign, cfg.eval_other = self.rl_max_steps, 4, 4
        self.rl_report = train_rl(self.model, self.tokenizer, cfg, self.out, log, eval_steps=self.grid_steps)
        self.checkpoint()


def set_stage_shares(preset: TrainPreset, wanted: set[str], edit_share: float | None = None) -> None:
    """Share the run's seconds among the wanted stages only (the others get 0), in the preset's proportions, or with
    `edit_share` of them for the edit stage and the preset's proportions for the rest."""
    total = sum(preset.stages[n].share for n in wanted)
    for n, b in preset.stages.items():
        b.share = b.share / total if n in wanted else 0.0
    if edit_share is None:
        return
    if not 0.0 < edit_share <= 1.0:
        raise ValueError(f"--edit-share must be in (0, 1], got {edit_share}")
    if "edit" not in wanted:
        raise ValueError("--edit-share: the edit stage is not among the stages this run trains")
    rest = sum(b.share for n, b in preset.stages.items() if n != "edit")
    for n, b in preset.stages.items():
        b.share = edit_share if n == "edit" else (b.share / rest * (1.0 - edit_share) if rest else 0.0)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seconds", type=float, help="total training wall time over stages 1-3 (default: the preset's)")
    ap.add_argument("--data", type=Path, default=None, help="prepared data folder (default $ATELIER_DATA or modeling/.cache/atelier-data)")
    ap.add_argument("--max-steps", type=int, help="cap every stage at this many steps (tests)")
    ap.add_argument("--batch", type=int, help="override every stage's batch size (tests, CPU continuation)")
    ap.add_argument("--lr", type=float, help="override every stage's peak learning rate (a continued run starts lower)")
    ap.add_argument("--scenes", type=int, help="override the pool size (tests)")
    ap.add_argument("--edits", type=int, help="override the edit pool size (tests)")
    ap.add_argument("--seed", type=int, help="override the preset's seed (pool scenes, batch order): a continued run "
                    "given a new seed trains on scenes the checkpoint has not seen")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing state.pt")
    ap.add_argument("--init", type=Path, help="start from this trained checkpoint (model.safetensors format): its "
                    "tokenizer, config and weights; stage 1 is skipped and the latent scale kept")
    ap.add_argument("--upgrade", action="store_true", help="with --init: adopt what the preset has and the checkpoint "
                    "predates: its prompt templates (nano: instruction before the reference codes) and the DiT's "
                    "spatial condition (zero-initialised, so the continued model starts as the checkpoint)")
    ap.add_argument("--spell-capitals", action="store_true", help="with --init: convert the checkpoint's tokenizer to "
                    "spell capitals letter by letter (fresh runs always do)")
    ap.add_argument("--grow-ar-layers", type=int, metavar="N", help="with --init: make the checkpoint's AR N layers "
                    "deep; each new block copies the one before it with its output projections zeroed, so training "
                    "starts from exactly the checkpoint's outputs (modeling/train/grow.py)")
    ap.add_argument("--stages", help="comma-separated stages to run (default all); the others count as done")
    ap.add_argument("--edit-share", type=float, help="fraction of the run's seconds for the edit stage (the other "
                    "wanted stages share the rest in the preset's proportions); the edit stage alternates edit and "
                    "text-to-image steps, so edits see half of it")
    ap.add_argument("--sign-share", type=float, help="draw this share of text-to-image rows from scenes with a sign "
                    "(default: as rendered, about 0.3)")
    ap.add_argument("--sign-narrow-pad", type=float, help="draw each I and J on a sign with this many extra pixels "
                    "(default: $ATELIER_SIGN_NARROW_PAD, else 0: the shipped model's signs; see modeling/data/assets.py)")
    ap.add_argument("--freeze", help="comma-separated generator parts (ar, connector, dit) that stages 2-3 leave as "
                    "they are, e.g. --freeze dit: the AR and connector learn while the DiT draws as the --init did")
    ap.add_argument("--grid-steps", type=int, help="diffusion steps of the sample grid (default: the config's)")
    ap.add_argument("--rl-seconds", type=float, default=0.0,
                    help="stage 4, GRPO on the AR after edit post-training, for this many seconds (default 0: skipped)")
    ap.add_argument("--probe-batches", help="comma-separated batch sizes: before stage 2, time the generator step at "
                    "each (and the stage's own) and log the rows per second")
    ap.add_argument("--auto-batch", action="store_true", help="with --probe-batches: train stages 2-3 at the fastest "
                    "batch in rows/s when it beats the stage's own by 30 %% (lr scaled by the square root)")
    args = ap.parse_args(argv)
    if args.auto_batch and not args.probe_batches:
        sys.exit("--auto-batch needs --probe-batches")
    if args.grow_ar_layers is not None and args.init is None:
        sys.exit("--grow-ar-layers needs --init (the trained checkpoint to grow)")
    probe = [int(b) for b in args.probe_batches.split(",")] if args.probe_batches else None
    preset = PRESETS[args.preset]() if args.seconds is None else PRESETS[args.preset](args.seconds)
    forced = os.environ.get("ATELIER_DEVICE")
    if forced:
        preset.device = forced
    if preset.device == "cuda" and not torch.cuda.is_available():
        sys.exit("the gpu preset needs CUDA; set ATELIER_DEVICE=cpu to run it on the CPU anyway")
    for b in preset.stages.values():
        if args.max_steps:
            b.max_steps = args.max_steps
        if args.batch:
            b.batch = args.batch
        if args.lr:
            b.lr = args.lr
    if args.scenes:
        preset.scenes = args.scenes
    if args.edits:
        preset.edits = args.edits
    if args.seed is not None:
        preset.seed = args.seed
    if args.sign_share is not None:
        if not 0.0 < args.sign_share < 1.0:
            sys.exit(f"--sign-share must be between 0 and 1 (exclusive), got {args.sign_share}")
        preset.sign_share = args.sign_share
    if args.sign_narrow_pad is not None:
        if not 0.0 <= args.sign_narrow_pad <= 8.0:
            sys.exit(f"--sign-narrow-pad must be between 0 and 8 pixels, got {args.sign_narrow_pad}")
        # Through the environment too: the pool's worker processes render the signs.
        os.environ["ATELIER_SIGN_NARROW_PAD"] = str(args.sign_narrow_pad)
        assets_module.SIGN_NARROW_PAD = args.sign_narrow_pad
    if args.freeze:
        frozen = tuple(sorted(set(args.freeze.split(","))))
        try:
            S.check_frozen(frozen)
        except ValueError as e:
            sys.exit(str(e))
        preset.frozen = frozen
    if preset.device == "cuda":
        torch.set_float32_matmul_precision("high")  # TF32 for the fp32 parts (preview, encoding)
    folder = args.data or data_dir()
    os.environ["ATELIER_DATA"] = str(folder)  # the pool's worker processes read the same folder
    if args.stages:
        wanted = set(args.stages.split(","))
        if not wanted <= set(S.STAGES):
            sys.exit(f"--stages: unknown {sorted(wanted - set(S.STAGES))}; stages are {', '.join(S.STAGES)}")
        if "autoencoders" not in wanted and args.init is None:
            sys.exit("--stages without autoencoders needs --init (trained autoencoders)")
    else:
        wanted = set(S.STAGES)
    try:
        set_stage_shares(preset, wanted, args.edit_share)
    except ValueError as e:
        sys.exit(str(e))
    run = Run(preset, args.out, folder, args.fresh, args.grid_steps, args.rl_seconds, args.max_steps, init=args.init,
              spell=args.spell_capitals, upgrade=args.upgrade, probe_batches=probe, auto_batch=args.auto_batch,
              grow_ar_layers=args.grow_ar_layers)
    summary = run.train()
    log("summary: " + json.dumps(summary["stages"]))


if __name__ == "__main__":
    main()

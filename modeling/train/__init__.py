"""Training recipe for the nano model (BLIP3o-NEXT's stages at nano scale). Entry: `python -m modeling.train.run`.

Stages (modeling/train/stages.py):
  0. text tokenizer: byte-level BPE on the caption corpus written by modeling.data.prepare
  1. VAE + FSQ image tokenizer: reconstruction on rendered scenes
  2. AR (cross-entropy on image codes) + connector + DiT (flow matching on VAE latents, conditioned on the AR's
     hidden states at <|img_start|> + codes, teacher forcing with the true codes, 10% condition dropout)
  3. edit post-training: edit pairs and keep-unchanged pairs, mixed with text-to-image batches
(GRPO with an OCR reward on the AR is a later step; see the project's issue 5.)
"""

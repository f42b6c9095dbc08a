"""Evaluation of an exported bundle (run through onnxruntime, not PyTorch) on held-out prompts.

score.py: what a generated image is judged on, with simple pixel statistics (documented there).
run.py:   `python -m modeling.eval.run --bundle DIR --out DIR` -> scores.json + grid.png.
"""

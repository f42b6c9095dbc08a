"""Stage 4: GRPO on the AR with OCR + composition rewards (see README.md)."""

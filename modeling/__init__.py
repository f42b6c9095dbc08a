"""Atelier modeling: a BLIP3o-NEXT-like AR + diffusion model family and its export to the bundle format.

See modeling/README.md for the architecture and docs/bundle-spec.md for the bundle format.
"""

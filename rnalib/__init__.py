"""rnalib: a reproducible study of RNA language-model embeddings (RNA–RNA interactions, mRNA localization)."""
__version__ = "0.1.0"

"""Advice for one actor: its best own moves, whom to persuade, what to trade, which of its
levers help it; every figure against the baseline on common random numbers (docs/advise.md)."""

from parley.analysis.advice.core import DEFAULT_DRAWS, DEFAULT_MODELS, Advice, advise

__all__ = ["DEFAULT_DRAWS", "DEFAULT_MODELS", "Advice", "advise"]

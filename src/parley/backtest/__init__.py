"""Backtests: score every model on negotiations with known outcomes (DEU, classic cases).

Submodules each do one job: `data` loads and checks the tidy files, `capability` turns a
capability convention into numbers, `runner` runs models issue by issue, `metrics` scores them
with bootstrap intervals resampled by proposal, `cv` fits what is fitted with cross-validation
grouped by proposal, `intervals` calibrates forecast intervals, `cases` scores the classic cases.
"""

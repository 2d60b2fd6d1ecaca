"""Cross-validation grouped by proposal: every issue of a proposal falls in the same fold.

Issues of one proposal share actors, dates and often outcomes; splitting them across training and
test folds would leak the answer. Folds are fixed by a seed so results reproduce exactly.
"""

from __future__ import annotations

import numpy as np

DEFAULT_FOLDS = 10


def grouped_folds(groups: np.ndarray, n_folds: int = DEFAULT_FOLDS, seed: int = 0) -> np.ndarray:
    """Fold number of every issue; proposals are shuffled with the seed and dealt round-robin."""
    labels, index = np.unique(np.asarray(groups), return_inverse=True)
    n_folds = max(2, min(n_folds, labels.size))
    order = np.random.default_rng(seed).permutation(labels.size)
    fold_of_group = np.empty(labels.size, dtype=int)
    fold_of_group[order] = np.arange(labels.size) % n_folds
    return fold_of_group[index]

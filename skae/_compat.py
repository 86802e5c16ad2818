"""The only module that imports scikit-learn's private names.

A scikit-learn release that moves one of them breaks this module alone. The
rest of the package imports them from here, never from another module.
"""

from sklearn.base import _fit_context
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "Interval",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "_openmp_effective_n_threads",
]

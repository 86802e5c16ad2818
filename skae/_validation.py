"""Checks of the input and the helpers that make errors and warnings plain.

- :func:`check_numeric`: a scikit-learn check whose error names non-numeric input;
- :func:`check_layer_sizes`: ``hidden_layer_sizes`` as a list of positive ints;
- :func:`user_stacklevel`: the ``stacklevel`` that points a warning at the
  user's line, past this package's and scikit-learn's frames;
- :class:`available_unless`: a method that is missing, with its reason, while
  a condition on the estimator holds.
"""

import functools
import os
import sys
import types
from numbers import Integral

import sklearn

__all__ = ["available_unless", "check_layer_sizes", "check_numeric", "user_stacklevel"]


def check_numeric(check, *args, **kwargs):
    """Run a scikit-learn check, naming non-numeric input plainly."""
    try:
        return check(*args, **kwargs)
    except (ValueError, TypeError) as error:
        if "could not convert" in str(error) or "Unable to convert" in str(error):
            raise ValueError(
                f"X must hold numbers only; {error}. Encode text or categorical "
                "columns first (e.g. OneHotEncoder in a ColumnTransformer)."
            ) from None
        raise


def check_layer_sizes(hidden_layer_sizes):
    """``hidden_layer_sizes`` as a list of positive ints, or a clear error."""
    if isinstance(hidden_layer_sizes, Integral):
        hidden_layer_sizes = (hidden_layer_sizes,)
    sizes = list(hidden_layer_sizes)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) for s in sizes):
        raise TypeError(f"hidden_layer_sizes must hold integers, got {hidden_layer_sizes!r}.")
    if any(s <= 0 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be > 0 (or empty), got {hidden_layer_sizes!r}.")
    return [int(s) for s in sizes]


# A warning raised during a fit passes over the frames of these packages.
_LIBRARY_DIRS = tuple(
    os.path.dirname(os.path.abspath(module.__file__)) + os.sep
    for module in (sys.modules[__package__], sklearn)
)


def user_stacklevel():
    """The ``stacklevel`` of a warning that points at the code that called the package.

    Frames of this package and of scikit-learn (the ``_fit_context`` wrapper,
    ``fit_transform``, a ``Pipeline``) are passed over, so a warning raised
    deep in a fit names the user's line.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_LIBRARY_DIRS):
        frame, level = frame.f_back, level + 1
    return level


class available_unless:
    """A method that exists unless ``why_not(estimator)`` gives a reason, which its error names.

    Like scikit-learn's :func:`~sklearn.utils.metaestimators.available_if`,
    ``hasattr(estimator, name)`` is False while the reason holds (dask-ml's
    ``Incremental`` relies on that), but the ``AttributeError`` says why
    instead of only that the attribute is missing.
    """

    def __init__(self, why_not):
        self.why_not = why_not

    def __call__(self, method):
        self.method = method
        functools.update_wrapper(self, method)
        return self

    def _check(self, estimator):
        reason = self.why_not(estimator)
        if reason:
            raise AttributeError(
                f"This {type(estimator).__name__!r} has no attribute "
                f"{self.method.__name__!r}: {reason}"
            )

    def __get__(self, estimator, owner=None):
        if estimator is not None:
            self._check(estimator)
            return types.MethodType(self.method, estimator)

        @functools.wraps(self.method)
        def unbound(estimator, *args, **kwargs):  # e.g. Class.partial_fit(estimator, X)
            self._check(estimator)
            return self.method(estimator, *args, **kwargs)

        return unbound

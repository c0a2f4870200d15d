"""Input scaling for tabular X: what lets the estimators take raw columns."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._params import NONE, Interval, Options, validate_params

#: methods of :class:`TabularScaler`
SCALING_METHODS = ("robust", "standard")
FLOATS = (np.float64, np.float32)
#: elements of X that :class:`TabularScaler` converts to float64 at a time: columns in
#: ``fit`` (whose statistics need whole columns), rows in ``transform``
BLOCK_ELEMENTS = 2**22
#: ``transform`` works on a quarter of that: each row is scaled on its own, and its block's
#: float64 copy and temporaries add to the output's size at the peak
ROW_BLOCK_ELEMENTS = BLOCK_ELEMENTS // 4


def smooth_clip(z, bound, out=None):
    """``z / sqrt(1 + (z / bound)^2)``: the identity near 0, bounded by ``bound``.

    A value far in a column's tail (a lab result 50 interquartile ranges
    above the median) then cannot saturate the network, but still ranks
    above the others. ``out`` (``z`` itself, say) receives the result, as
    in numpy's ufuncs.
    """
    # an array even for a scalar z, so that the steps below can work in place
    denominator = np.asarray(np.divide(z, bound))
    np.square(denominator, out=denominator)
    denominator += 1.0
    np.sqrt(denominator, out=denominator)
    return np.divide(z, denominator, out=out)


class TabularScaler(TransformerMixin, BaseEstimator):
    """Center, scale and softly clip each column; fill missing values, flag them.

    The skda estimators apply it to tabular X by default (their
    ``input_scaling`` parameter), fitted on the training rows, so that raw
    columns of any scale (counts, lab values in different units, one-hot
    indicators) train as well as standardized ones. It follows RealMLP's
    preprocessing (Holzmüller et al., NeurIPS 2024): centering and scaling,
    then a smooth clip; RealMLP's robust statistics are the ``"robust"``
    option (on skda's development problems the two tied).

    Parameters
    ----------
    method : {"standard", "robust"}, default="standard"
        ``"standard"``: subtract the mean and divide by the standard
        deviation (a constant column becomes 0). ``"robust"``: subtract the
        median and divide by the interquartile range; a column whose
        quartiles coincide (a rare indicator) is divided by half its range
        instead, and a constant column becomes 0.
    clip : float or None, default=3.0
        Bound of the smooth clip ``z / sqrt(1 + (z / clip)^2)`` applied
        after scaling; ``None`` leaves scaled values as they are.

    Attributes
    ----------
    center_ : ndarray of shape (n_features,)
        Value subtracted from each column (mean or median, NaN ignored).
    scale_ : ndarray of shape (n_features,)
        Factor each centered column is multiplied by (0 for a constant
        column).
    missing_columns_ : ndarray of int
        Columns that held NaN during fit. Each gets an indicator column
        (1 where the value is missing), appended after the scaled columns.
    n_features_in_ : int
        Columns seen during fit.
    feature_names_in_ : ndarray of str
        Column names seen during fit, when X had string column names.

    Notes
    -----
    A missing value becomes the column's center (0 after scaling) and sets
    its indicator, so that the network can still tell it apart, as gradient
    boosting does with its missing-value branch. A column without NaN in
    fit gets no indicator; NaN in it at transform time is filled with the
    center alone.

    Examples
    --------
    >>> import numpy as np
    >>> from skda.preprocessing import TabularScaler
    >>> X = np.array([[1.0, 200.0], [2.0, np.nan], [3.0, 400.0], [4.0, 300.0]])
    >>> TabularScaler().fit_transform(X).round(2)
    array([[-1.22, -1.13,  0.  ],
           [-0.44,  0.  ,  1.  ],
           [ 0.44,  1.13,  0.  ],
           [ 1.22,  0.  ,  0.  ]])
    """

    _parameter_constraints = {
        "method": [Options(*SCALING_METHODS)],
        "clip": [NONE, Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(self, method="standard", clip=3.0):
        self.method = method
        self.clip = clip

    def fit(self, X, y=None):
        """Learn each column's center, scale and whether it has missing values.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows; NaN marks a missing value.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted scaler.
        """
        validate_params(self)
        X = validate_data(self, X, dtype=FLOATS, ensure_all_finite="allow-nan")
        n_features = X.shape[1]
        center, spread = np.zeros(n_features), np.zeros(n_features)
        missing_any = np.zeros(n_features, dtype=bool)
        # a few columns at a time in float64: a float64 copy of a large X would take
        # twice its memory, and nanstd/nanpercentile copy their input again
        step = max(1, BLOCK_ELEMENTS // max(1, len(X)))
        for start in range(0, n_features, step):
            cols = slice(start, start + step)
            block = X[:, cols].astype(np.float64)
            missing = np.isnan(block)
            missing_any[cols] = missing.any(axis=0)
            center[cols], spread[cols] = self._column_statistics(block, missing)
        with np.errstate(divide="ignore"):
            self.scale_ = np.where(spread > 0, 1.0 / np.where(spread > 0, spread, 1.0), 0.0)
        self.center_ = center
        self.missing_columns_ = np.flatnonzero(missing_any)
        return self

    def _column_statistics(self, X, missing):
        """Center and spread of each column of float64 ``X`` (0 for a column all NaN)."""
        center, spread = np.zeros(X.shape[1]), np.zeros(X.shape[1])
        observed = ~missing.all(axis=0)
        if not observed.any():
            return center, spread
        Xo = X[:, observed]
        if self.method == "robust":
            low, center[observed], high = np.nanpercentile(Xo, [25, 50, 75], axis=0)
            spread[observed] = high - low
            # quartiles that coincide: a mostly-constant column (a rare indicator)
            flat = observed.copy()
            flat[observed] = spread[observed] == 0
            spread[flat] = 0.5 * (np.nanmax(X[:, flat], axis=0) - np.nanmin(X[:, flat], axis=0))
        else:
            center[observed] = np.nanmean(Xo, axis=0)
            spread[observed] = np.nanstd(Xo, axis=0)
        return center, spread

    def transform(self, X):
        """Scaled columns, then one missing-value indicator per ``missing_columns_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to scale; NaN marks a missing value.

        Returns
        -------
        X_scaled : ndarray of shape (n_samples, n_features + n_missing_columns)
            float32 for float32 X, float64 otherwise.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=FLOATS, ensure_all_finite="allow-nan", reset=False)
        out = np.empty((len(X), X.shape[1] + len(self.missing_columns_)), dtype=X.dtype)
        # rows in blocks, each in float64 and worked on in place: the same figures as all
        # at once, without a float64 copy of the whole of X and its temporaries
        step = max(1, ROW_BLOCK_ELEMENTS // max(1, X.shape[1]))
        for start in range(0, len(X), step):
            rows = slice(start, start + step)
            Z = X[rows].astype(np.float64)
            missing = np.isnan(Z)
            Z -= self.center_
            Z *= self.scale_
            if self.clip is not None:
                smooth_clip(Z, self.clip, out=Z)
            Z[missing] = 0.0
            out[rows, :X.shape[1]] = Z
            out[rows, X.shape[1]:] = missing[:, self.missing_columns_]
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

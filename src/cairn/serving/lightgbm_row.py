"""One row scored by LightGBM's single-row C API, for the request path.

``Booster.predict`` spends most of its ~25 µs on one row in Python: copying its parameters,
building a predictor object, converting the matrix. LightGBM's C library has a prepared
variant for exactly this case (``LGBM_BoosterPredictForMatSingleRowFastInit`` once, then
``LGBM_BoosterPredictForMatSingleRowFast`` per row: ~7 µs) that gives the same numbers, since
it runs the same trees. :class:`SingleRow` wraps it; when the C library lacks it (another
LightGBM build) or a call fails, :meth:`SingleRow.predict` answers None and the caller falls
back to ``Booster.predict``.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from typing import Any

import numpy as np

from cairn.explain.contributions import FloatMatrix

logger = logging.getLogger("cairn.serving")

_PREDICT_NORMAL = 0
"""``C_API_PREDICT_NORMAL``: the transformed score (a probability for binary objectives)."""
_FLOAT64 = 1
"""``C_API_DTYPE_FLOAT64``."""


class SingleRow:
    """Probabilities of one-row matrices from a booster through the prepared C call.

    One prepared configuration per booster and column count, used under a lock (the C
    library does not allow two calls on one configuration at once); freed with the object.

    Example
    -------
    >>> import lightgbm as lgb
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
    >>> b = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, y), 5)
    >>> fast = SingleRow(b).predict(X[:1])
    >>> bool(fast is not None and fast[0] == b.predict(X[:1], num_threads=1)[0])
    True
    """

    def __init__(self, booster: Any) -> None:
        self._booster = booster
        self._lock = threading.Lock()
        self._config: ctypes.c_void_p | None = None
        self._columns = -1
        self._lib: Any = None
        try:  # one output per row; a multiclass model has one per class: Booster.predict
            outputs = int(booster.num_model_per_iteration())
        except Exception:
            outputs = 0
        self._broken = outputs != 1
        self._out = np.empty(max(outputs, 1), dtype=np.float64)  # the C call writes `outputs`
        self._out_ptr = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self._out_len = ctypes.c_int64(0)

    def predict(self, X: FloatMatrix) -> FloatMatrix | None:
        """``booster.predict(X)`` for a one-row ``X``; None when this path cannot answer."""
        if self._broken or X.shape[0] != 1:
            return None
        row = np.ascontiguousarray(X, dtype=np.float64)
        with self._lock:
            try:
                config = self._prepared(row.shape[1])
                ret = self._lib.LGBM_BoosterPredictForMatSingleRowFast(
                    config,
                    row.ctypes.data_as(ctypes.c_void_p),
                    ctypes.byref(self._out_len),
                    self._out_ptr,
                )
            except Exception as exc:  # not in this LightGBM build: Booster.predict from now on
                logger.warning("LightGBM's single-row call is unavailable (%s)", exc)
                self._broken = True
                return None
            if ret != 0 or self._out_len.value != 1:
                self._broken = True
                return None
            return self._out[:1].copy()

    def _prepared(self, columns: int) -> ctypes.c_void_p:
        if self._config is not None and self._columns == columns:
            return self._config
        from lightgbm import basic

        _LIB = getattr(basic, "_LIB")  # noqa: B009 (private: hence the fallback)
        self._free()
        config = ctypes.c_void_p()
        ret = _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
            self._booster._handle,
            ctypes.c_int(_PREDICT_NORMAL),
            ctypes.c_int(0),  # start iteration
            ctypes.c_int(int(getattr(self._booster, "best_iteration", 0) or 0)),  # as predict()
            ctypes.c_int(_FLOAT64),
            ctypes.c_int32(columns),
            ctypes.c_char_p(b"num_threads=1"),
            ctypes.byref(config),
        )
        if ret != 0:
            raise RuntimeError(_LIB.LGBM_GetLastError().decode(errors="replace"))
        self._lib, self._config, self._columns = _LIB, config, columns
        return config

    def _free(self) -> None:
        if self._config is not None and self._lib is not None:
            self._lib.LGBM_FastConfigFree(self._config)
        self._config = None

    def __del__(self) -> None:
        try:
            self._free()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass

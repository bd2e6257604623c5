"""The answer of an online read: columns of values plus a per-row ``found`` flag."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class OnlineResponse:
    """Online feature values, one row per requested entity, in request order.

    ``columns`` holds the join keys, then every requested feature; ``found[i]`` says whether
    any requested view had a stored value for entity ``i`` (False: an unknown entity, all
    features null).
    """

    columns: dict[str, list[Any]]
    found: list[bool]

    def to_dict(self) -> dict[str, list[Any]]:
        """Column name -> values, plus ``"found"``.

        Example
        -------
        >>> OnlineResponse({"customer_id": [1], "income": [9.5]}, [True]).to_dict()
        {'customer_id': [1], 'income': [9.5], 'found': [True]}
        """
        return {**self.columns, "found": list(self.found)}

    def to_df(self) -> pd.DataFrame:
        """The same as a DataFrame (a ``found`` column last)."""
        return pd.DataFrame(self.to_dict())

"""Deterministic assignment of units to arms: GrowthBook's hashing and bucketing.

A unit (customer, account) is hashed with a per-experiment seed into ``[0, 1)``; bucket
ranges cut that interval into arms by weight and coverage. Everything here matches the
GrowthBook SDKs case for case (``shared/vectors/growthbook/cases.json``), so an assignment made
by Cairn equals the one a GrowthBook SDK in any language makes for the same seed and unit:

- hash v2: FNV-1a 32 over the UTF-16 code units of ``seed + value``, hashed again over the
  decimal text of the first hash, ``% 10000 / 10000``;
- hash v1 (namespaces and legacy experiments): FNV-1a 32 of ``value + seed``, ``% 1000 / 1000``.

Python's built-in ``hash()`` is salted per process and is never used.

Example
-------
>>> hash_v2("seed", "a")
0.0505
>>> ranges = bucket_ranges(2, 1.0, [0.4, 0.6])
>>> choose_variation(hash_v2("exp-1", "customer-42"), ranges)
0
"""

from __future__ import annotations

from collections.abc import Sequence

_OFFSET = 0x811C9DC5
_PRIME = 0x01000193
_MASK = 0xFFFFFFFF

Range = tuple[float, float]
"""``[start, end)`` of one arm within ``[0, 1)``."""


def fnv1a32(text: str, state: int = _OFFSET) -> int:
    """FNV-1a (32 bit) over the UTF-16 code units of ``text``, continuing from ``state``.

    Each code unit (not each byte) is XORed in whole, as JavaScript's ``charCodeAt`` gives
    them: characters outside the Basic Multilingual Plane count as their two surrogates.

    Example
    -------
    >>> fnv1a32("a")
    3826002220
    >>> fnv1a32("b", fnv1a32("a")) == fnv1a32("ab")
    True
    """
    h = state
    if text.isascii():
        for unit in text.encode("ascii"):
            h = ((h ^ unit) * _PRIME) & _MASK
        return h
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        h = ((h ^ (data[i] | data[i + 1] << 8)) * _PRIME) & _MASK
    return h


def bucket_v2(seed: str, value: str) -> int:
    """The hash-v2 bucket of ``value`` under ``seed``: an integer in ``[0, 10000)``.

    Example
    -------
    >>> bucket_v2("seed", "a")
    505
    """
    return fnv1a32(str(fnv1a32(seed + value))) % 10_000


def hash_v2(seed: str, value: str) -> float:
    """GrowthBook hash v2: the unit ``value`` under ``seed`` as a number in ``[0, 1)``.

    Example
    -------
    >>> hash_v2("foo", "ab")
    0.2575
    """
    return bucket_v2(seed, value) / 10_000


def hash_v1(seed: str, value: str) -> float:
    """GrowthBook hash v1 (used for namespaces): ``fnv1a32(value + seed) % 1000 / 1000``.

    Example
    -------
    >>> hash_v1("", "a")
    0.22
    """
    return (fnv1a32(value + seed) % 1_000) / 1_000


def hash_value(seed: str, value: str, version: int) -> float | None:
    """GrowthBook's ``hash(seed, value, version)``: v1 or v2, None for any other version.

    Example
    -------
    >>> hash_value("abc", "def", 99) is None
    True
    """
    if version == 2:
        return hash_v2(seed, value)
    if version == 1:
        return hash_v1(seed, value)
    return None


def equal_weights(n: int) -> list[float]:
    """``n`` equal weights summing to 1 (none for ``n <= 0``).

    Example
    -------
    >>> equal_weights(4)
    [0.25, 0.25, 0.25, 0.25]
    """
    return [] if n <= 0 else [1.0 / n] * n


def bucket_ranges(
    n: int, coverage: float = 1.0, weights: Sequence[float] | None = None
) -> list[Range]:
    """Cut ``[0, 1)`` into ``n`` arms, each keeping the first ``coverage`` share of its slice.

    As GrowthBook does: coverage is clamped to ``[0, 1]``; weights of the wrong length, or
    summing outside ``[0.99, 1.01]``, are replaced by equal weights. A unit whose hash falls
    in no range is not in the experiment.

    Example
    -------
    >>> bucket_ranges(2, 0.5)
    [(0.0, 0.25), (0.5, 0.75)]
    """
    coverage = min(max(coverage, 0.0), 1.0)
    chosen = list(weights) if weights is not None else equal_weights(n)
    if len(chosen) != n or not 0.99 <= sum(chosen) <= 1.01:
        chosen = equal_weights(n)
    out: list[Range] = []
    start = 0.0
    for w in chosen:
        out.append((start, start + coverage * w))
        start += w
    return out


def choose_variation(n: float, ranges: Sequence[Sequence[float]]) -> int:
    """The index of the range holding ``n`` (start inclusive, end exclusive), or -1.

    Example
    -------
    >>> choose_variation(0.4, [(0, 0.25), (0.5, 0.75)])
    -1
    """
    for i, (start, end) in enumerate(ranges):
        if start <= n < end:
            return i
    return -1


def in_namespace(unit: str, namespace: tuple[str, float, float]) -> bool:
    """Whether ``unit`` falls in ``namespace = (id, start, end)`` (hash v1 of ``"__" + id``).

    Mutually exclusive experiments take disjoint ``[start, end)`` slices of one namespace.

    Example
    -------
    >>> in_namespace("1", ("namespace1", 0.4, 1.0))
    True
    """
    name, start, end = namespace
    n = hash_v1("__" + name, unit)
    return start <= n < end

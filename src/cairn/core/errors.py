"""The error tree shared by every Cairn capability.

::

    CairnError
     ├── ConfigError            (ValueError)  cairn.yaml or an environment override is wrong
     ├── DefinitionError        (ValueError)  a feature definition is wrong
     ├── DataError              (ValueError)  the data is wrong, not the definition
     │    ├── EntityDataFrameError            the entity rows of a training-set query
     │    └── SourceError                     a source file: missing, unreadable, bad columns
     ├── UnknownFeatureError    (KeyError)    a feature reference that names nothing applied
     ├── OnlineStoreError       (ConnectionError) the online store is unreachable or failing
     └── DependencyMissingError (ImportError) an optional extra is not installed

Messages name the input, what was expected and what was received.
"""

from __future__ import annotations

from collections.abc import Iterable


class CairnError(Exception):
    """Base of every error Cairn raises on purpose."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain message
        return str(self.args[0]) if self.args else ""


class ConfigError(CairnError, ValueError):
    """The project configuration (cairn.yaml, another project file or a CAIRN_* variable) is
    invalid. ``ConfigError(message, problems)``: the message says every problem on one line,
    :attr:`problems` lists them one each.

    Example
    -------
    >>> ConfigError("a must be 1; got 2. b must be 3; got 4.", ("a must be 1; got 2.",
    ...             "b must be 3; got 4.")).problems
    ('a must be 1; got 2.', 'b must be 3; got 4.')
    """

    @property
    def problems(self) -> tuple[str, ...]:
        """Each problem as one sentence (the message itself when it names one)."""
        if len(self.args) > 1 and isinstance(self.args[1], tuple | list):
            return tuple(str(p) for p in self.args[1])
        return (str(self),)


class DefinitionError(CairnError, ValueError):
    """A definition (entity, source, feature view, aggregation) is invalid."""


class DataError(CairnError, ValueError):
    """Data does not satisfy what its definition promises."""


class EntityDataFrameError(DataError):
    """The entity rows given to a training-set query are invalid."""


class SourceError(DataError):
    """A source cannot be read, or its columns do not match its definition."""


class UnknownFeatureError(CairnError, KeyError):
    """A feature reference names a view or a feature that was never applied."""


class OnlineStoreError(CairnError, ConnectionError):
    """The online store cannot be reached or answered with an error; the message names its URL."""


class StreamFencedError(OnlineStoreError):
    """A stream commit was refused: another processor claimed the partitions since this one
    did (its lock was lost), so the commit changed nothing."""


class DependencyMissingError(CairnError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class ArtifactTamperedError(CairnError):
    """A model version's artifact does not hash to the SHA-256 the audit chain recorded at its
    registration (:mod:`cairn.registry.artifact_trust`); it is refused, never loaded."""


def require(module: str, extra: str) -> object:
    """Import an optional module or fail naming the extra that provides it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DependencyMissingError(
            f"The optional dependency {module!r} is not installed; "
            f"install it with: pip install 'cairn[{extra}]'"
        ) from exc


def check_fields(owner: object, prefix: str, checks: Iterable[tuple[str, bool, str]]) -> None:
    """Raise a :class:`ConfigError` for the first ``(field, ok, expected)`` check that failed,
    naming ``prefix.field``, what was expected and the field's value on ``owner``.

    Example
    -------
    >>> from types import SimpleNamespace
    >>> check_fields(SimpleNamespace(bins=1), "monitoring", [("bins", False, "at least 2")])
    Traceback (most recent call last):
    ...
    cairn.core.errors.ConfigError: monitoring.bins must be at least 2; got 1.
    """
    for name, ok, expected in checks:
        if not ok:
            raise ConfigError(f"{prefix}.{name} must be {expected}; got {getattr(owner, name)!r}.")

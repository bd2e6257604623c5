"""Errors of data quality suites: a wrong suite, and data stopped by a gate.

::

    DefinitionError
     └── SuiteError          the suite itself is wrong: unknown expectation, bad argument,
                             unknown column; names the check and its place in the file
    DataError
     └── QualityGateError    the data failed checks whose action is ``halt``; carries the
                             validation result and names the failing checks
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cairn.core.errors import DataError, DefinitionError

if TYPE_CHECKING:
    from cairn.quality.results import ValidationResult


class SuiteError(DefinitionError):
    """A suite is invalid (the definition is wrong, not the data)."""


class QualityGateError(DataError):
    """Data was halted by a quality gate.

    Attributes
    ----------
    result:
        The full :class:`~cairn.quality.results.ValidationResult`; ``result.halting`` lists the
        checks that caused the halt, with their failing rows.
    """

    def __init__(self, message: str, result: ValidationResult) -> None:
        super().__init__(message)
        self.result = result

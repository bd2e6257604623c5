"""What tracking raises.

::

    CairnError
     ├── UnknownRunError       (KeyError)          no run with that id
     ├── UnknownModelError     (KeyError)          no registered model, version or alias
     ├── MissingArtifactError  (FileNotFoundError) a run lacks an artifact Cairn logs
     └── TrackingError         (RuntimeError)      the tracking store or server failed a call
"""

from __future__ import annotations

from cairn.core.errors import CairnError


class UnknownRunError(CairnError, KeyError):
    """A run id names no run in the tracking store."""


class UnknownModelError(CairnError, KeyError):
    """A registered model, version or alias does not exist; the message lists what does."""


class MissingArtifactError(CairnError, FileNotFoundError):
    """A run has no artifact at the path Cairn expected (not a Cairn run, or deleted)."""


class TrackingError(CairnError, RuntimeError):
    """The tracking store or server refused or failed a call; the message says which."""

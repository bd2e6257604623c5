"""The training-set manifest: the hand-off from feature retrieval to training and lineage.

It names exactly what a training set was built from (feature refs, definition hashes, source
content hashes or Delta versions, the entity rows' time range and count), so a model version
can point back to its data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TrainingSetManifest:
    """What a training set was built from.

    ``digest`` is the SHA-256 of everything but ``created_at``: two training sets with the same
    digest were built from the same definitions, data and entity rows.
    """

    project: str
    feature_refs: list[str]
    feature_views: dict[str, dict[str, Any]]
    """View name -> {"version", "definition_hash", "features"}."""
    sources: dict[str, dict[str, Any]]
    """Source name -> {"path", "format", "sha256" | "delta_version", "files"}."""
    entity: dict[str, Any]
    """{"rows", "columns", "start", "end", "sha256"} of the entity rows."""
    row_count: int
    created_at: datetime
    full_feature_names: bool = False
    cairn_version: str = ""
    digest: str = field(default="")

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", self.compute_digest())

    def compute_digest(self) -> str:
        """SHA-256 of the canonical JSON of every field but ``created_at`` and ``digest``."""
        body = {k: v for k, v in self.to_dict().items() if k not in ("created_at", "digest")}
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (timestamps as ISO 8601)."""
        out = asdict(self)
        out["created_at"] = self.created_at.isoformat()
        return out

    def to_json(self) -> str:
        """The manifest as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str)

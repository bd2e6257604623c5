"""The sections of ``cairn.yaml``: one frozen model each, with their defaults and bounds.

Example
-------
>>> OfflineSettings(threads="4").threads
4
>>> ServingSettings(admin_token="s3cret").admin_token
SecretStr('**********')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from cairn.core.settings.fields import (
    STATE_DIR,
    BlankIsNone,
    Int,
    NotBool,
    Section,
    invalid,
    setting,
)
from cairn.core.urls import redact_url
from cairn.core.webhooks import URL_TEXT, is_webhook_url

Durability = Literal["write", "fsync"]
"""How the prediction log writes: ``write`` (survives SIGKILL) or ``fsync`` (power loss too)."""

_Fraction = Annotated[float, Field(gt=0, lt=1), NotBool]
_Secret = Annotated[SecretStr | None, BlankIsNone]


class MetadataSettings(Section):
    """Where definitions, results and audit records live (any SQLAlchemy URL)."""

    section = "metadata"

    url: str = setting(
        f"sqlite:///{STATE_DIR}/metadata.db",
        "SQLAlchemy URL of the metadata store (definitions, results, audit records).",
    )


OfflineEngineName = Literal["duckdb", "spark"]
"""Which engine builds training sets: DuckDB in process (default) or Spark SQL."""

_SPARK_MASTER = re.compile(r"local(\[(\*|[1-9][0-9]*)\])?|(spark|k8s|mesos)://\S+|yarn")
SPARK_MASTER_TEXT = (
    "a Spark master URL: local, local[N], local[*], spark://HOST:PORT, k8s://URL or yarn"
)


class OfflineSettings(Section):
    """The offline engine: DuckDB in process, or Spark SQL for training sets, materialization
    input and quality suites over sources (``engine: spark``, ``spark_master``; needs
    ``pip install 'cairn[spark]'``).

    Example
    -------
    >>> OfflineSettings(engine="spark", spark_master="local[2]").spark_master
    'local[2]'
    """

    section = "offline"

    engine: OfflineEngineName = setting(
        "duckdb",
        "Engine of training sets, materialization input and quality suites over sources: "
        "duckdb (in process) or spark (Spark SQL at spark_master).",
    )
    spark_master: str = setting(
        "local[*]",
        "Spark master URL when engine is spark: local[N], spark://HOST:PORT, k8s://..., yarn.",
        expected=SPARK_MASTER_TEXT,
    )
    spark_driver_memory: str = setting(
        "1g", "Spark driver memory when engine is spark (e.g. 1g, 4g); read at session start."
    )

    memory_limit: str = setting("2GB", "DuckDB memory limit (e.g. 2GB, 512MB).")
    threads: Annotated[Int | None, BlankIsNone] = setting(
        None, "DuckDB worker threads; unset or 0: all cores."
    )
    temp_directory: str = setting(
        f"{STATE_DIR}/tmp", "Where DuckDB spills, relative to the project folder."
    )

    @model_validator(mode="after")
    def _master(self) -> Self:
        if not _SPARK_MASTER.fullmatch(self.spark_master):
            raise invalid("spark_master", SPARK_MASTER_TEXT, self.spark_master)
        return self


class OnlineSettings(Section):
    """The online store: ``sqlite:///path`` (embedded default) or ``redis://host:port/db``."""

    section = "online"

    url: str = setting(
        f"sqlite:///{STATE_DIR}/online.db",
        "Online store: sqlite:///PATH (embedded) or redis://HOST:PORT/DB.",
    )
    timeout_ms: Annotated[int, Field(ge=1), NotBool] = setting(
        1000, "How long a networked online store (Redis) may take to answer, in milliseconds."
    )


class TrackingSettings(Section):
    """MLflow tracking and model registry: ``sqlite:///.cairn/mlflow.db`` (embedded default) or
    any MLflow URI (``http://mlflow:5000``, ``postgresql+psycopg://...``).

    ``experiment`` defaults to the project name; ``registry_uri`` to the tracking URI.
    """

    section = "tracking"

    uri: str = setting(f"sqlite:///{STATE_DIR}/mlflow.db", "MLflow tracking URI.")
    experiment: str = setting("", "MLflow experiment name; empty: the project name.")
    registry_uri: Annotated[str | None, BlankIsNone] = setting(
        None, "MLflow model registry URI; unset: the tracking URI."
    )


class MonitoringSettings(Section):
    """Drift and performance monitoring (``cairn monitor``).

    PSI below ``psi_monitor`` is stable, up to ``psi_drift`` monitor, above it drift;
    ``bands`` gives chosen features (or ``score``) their own ``[monitor, drift]`` edges.
    ``alpha`` (unset by default) also flags a feature whose KS/χ² p-value, corrected across
    features (Benjamini-Hochberg), is below it; ``null_share`` flags a significant move of the
    missing share by at least that much. A window's performance is judged once
    ``completeness`` of its predictions have a label; a realized AUC or KS more than
    ``performance_drop`` (absolute) below the training baseline is a signal. Band changes are
    POSTed as JSON to ``webhook_url`` when set (``webhook_timeout_s`` bounds each call).
    Per-segment drift compares the ``max_segments`` largest segments (the rest are
    ``(other)``) with the same segment in the preceding window, profiled with ``bins``
    quantile bins; segments with fewer than ``min_segment_rows`` rows are not compared. (Drift
    of all traffic uses the bins of the model's reference profile, fixed at training time.)

    Example
    -------
    >>> MonitoringSettings(bands={"income": [0.05, 0.2]}).bands
    {'income': (0.05, 0.2)}
    """

    section = "monitoring"

    psi_monitor: Annotated[float, Field(gt=0), NotBool] = setting(
        0.1, "PSI from which a feature is watched (monitor band); below psi_drift."
    )
    psi_drift: Annotated[float, Field(gt=0), NotBool] = setting(
        0.25, "PSI from which a feature has drifted; above psi_monitor."
    )
    bands: dict[str, tuple[float, float]] = setting(
        description="Per-feature (or score) [monitor, drift] PSI edges; JSON in the environment.",
        expected="a mapping of feature to [monitor, drift] PSI edges",
        default_factory=dict,
    )
    alpha: Annotated[_Fraction | None, BlankIsNone] = setting(
        None, "Also flag a feature whose BH-corrected KS/chi-squared p-value is below it."
    )
    null_share: Annotated[_Fraction | None, BlankIsNone] = setting(
        0.05, "Flag a significant move of a feature's missing share by at least this much."
    )
    completeness: Annotated[float, Field(gt=0, le=1), NotBool] = setting(
        0.8, "Share of a window's predictions with a label before its performance is judged."
    )
    performance_drop: Annotated[float, Field(ge=0, lt=1), NotBool] = setting(
        0.05, "Absolute drop of realized AUC or KS below the training baseline that signals."
    )
    webhook_url: Annotated[str | None, BlankIsNone] = setting(
        None, "Where band changes are POSTed as JSON."
    )
    webhook_timeout_s: Annotated[float, Field(gt=0), NotBool] = setting(
        5.0, "Time limit of one webhook call, in seconds."
    )
    max_segments: Annotated[int, Field(ge=1), NotBool] = setting(
        20, "Largest segments compared per window; the rest are '(other)'."
    )
    min_segment_rows: Annotated[int, Field(ge=1), NotBool] = setting(
        100, "Segments with fewer rows are not compared."
    )
    bins: Annotated[int, Field(ge=2), NotBool] = setting(
        10, "Quantile bins of per-segment drift profiles."
    )

    @field_validator("bands", mode="before")
    @classmethod
    def _edges(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value  # the mapping check names the key
        bands: dict[str, tuple[float, float]] = {}
        for name, pair in value.items():
            try:
                low, high = (float(v) for v in pair)
                ok = 0 <= low <= high
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise invalid(
                    str(name),
                    "[monitor, drift] PSI edges with 0 <= monitor <= drift (e.g. [0.05, 0.2])",
                    pair,
                )
            bands[str(name)] = (low, high)
        return bands

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.psi_monitor < self.psi_drift:
            return self
        if "psi_monitor" not in self.model_fields_set:  # blame the edge that was written
            raise invalid("psi_drift", f"above psi_monitor ({self.psi_monitor})", self.psi_drift)
        raise invalid(
            "psi_monitor", f"above 0, below psi_drift ({self.psi_drift})", self.psi_monitor
        )


class ServingSettings(Section):
    """``cairn serve``: the prediction log, admin tokens, polling, queues and request limits.

    The older variable names (``CAIRN_SHADOW_QUEUE``, ``CAIRN_LOG_DURABILITY``, ...) are read
    too; ``CAIRN_SERVING__<KEY>`` wins when both are set. Tokens are secrets: printing the
    settings shows ``**********``; read them with ``.get_secret_value()``.
    """

    section = "serving"

    durability: Durability = setting(
        "write",
        "Prediction log: write (an acknowledged prediction survives SIGKILL) or fsync "
        "(survives power loss, slower).",
        aliases=["CAIRN_LOG_DURABILITY"],
    )
    admin_token: _Secret = setting(
        None,
        "Bearer token of the admin endpoints, with every role (unset: they refuse). Secret.",
        aliases=["CAIRN_ADMIN_TOKEN"],
    )
    admin_tokens: _Secret = setting(
        None,
        "More admin tokens with roles: ROLE:TOKEN or ROLE:NAME:TOKEN, comma separated. Secret.",
        aliases=["CAIRN_ADMIN_TOKENS"],
    )
    model_poll_seconds: Annotated[float, Field(gt=0), NotBool] = setting(
        10.0,
        "How often deployments re-resolve their model aliases, in seconds.",
        aliases=["CAIRN_MODEL_POLL_SECONDS"],
    )
    rollout_poll_seconds: Annotated[float, Field(gt=0), NotBool] = setting(
        1.0,
        "How often the server checks the rollout store for changed rollouts, in seconds.",
        aliases=["CAIRN_ROLLOUT_POLL_SECONDS"],
    )
    shadow_queue: Annotated[int, Field(ge=1), NotBool] = setting(
        10_000,
        "Rows the shadow queue holds before it drops new ones.",
        aliases=["CAIRN_SHADOW_QUEUE"],
    )
    max_entities: Annotated[int, Field(ge=1), NotBool] = setting(
        10_000, "Entity rows per request (more: 422)."
    )
    max_features: Annotated[int, Field(ge=1), NotBool] = setting(
        1_000, "Feature references per request (more: 422)."
    )
    max_body_bytes: Annotated[int, Field(ge=1), NotBool] = setting(
        8 * 1024 * 1024, "Size of a request body in bytes (more: 413, refused before it is read)."
    )


FutureEvents = Literal["hold", "reject"]
"""What the stream processor does with an event whose event time has not come yet."""


class StreamingSettings(Section):
    """``cairn stream run``: micro-batches, early events, and how far behind a processor may
    fall before ``cairn serve`` reports not ready.

    ``future_events: hold`` keeps an event whose event time is still ahead until it is due
    (``reject``: dead-letter it); an event more than ``max_future_seconds`` ahead is
    dead-lettered either way. ``/readyz`` answers 503 while a stream source has events waiting
    and its processor last committed more than ``max_lag_seconds`` ago (0: never). A changed
    view is backfilled beside the live one and served once at most ``switch_lag_events`` events
    separate it from the stream.

    Example
    -------
    >>> StreamingSettings().future_events, StreamingSettings().max_batch
    ('hold', 10000)
    """

    section = "streaming"

    max_batch: Annotated[int, Field(ge=1), NotBool] = setting(
        10_000, "Most events one micro-batch reads (over all partitions)."
    )
    poll_seconds: Annotated[float, Field(gt=0), NotBool] = setting(
        0.2, "How long an idle processor waits before reading the log again, in seconds."
    )
    future_events: FutureEvents = setting(
        "hold", "Events whose event time is ahead: hold (until due) or reject (dead letter)."
    )
    max_future_seconds: Annotated[float, Field(ge=0), NotBool] = setting(
        3600.0, "Events further ahead than this (seconds) are dead-lettered even when holding."
    )
    max_lag_seconds: Annotated[float, Field(ge=0), NotBool] = setting(
        60.0,
        "Readiness: how long events may wait behind the last commit before /readyz says 503 "
        "(0: streams never make the server unready).",
    )
    processors: Annotated[int, Field(ge=1), NotBool] = setting(
        1,
        "Processors sharing each stream source's partitions (partition p belongs to "
        "processor p mod N; at most the source's partitions); `cairn stream run --instances` "
        "says how many of them one process runs, the others wait as standbys.",
    )
    refresh_seconds: Annotated[float, Field(gt=0), NotBool] = setting(
        10.0,
        "How often a running processor re-reads the applied definitions (a changed view "
        "starts its backfill at the next re-read).",
    )
    switch_lag_events: Annotated[int, Field(ge=0), NotBool] = setting(
        10_000,
        "A changed stream view is backfilled beside the live one; reads switch to it once "
        "at most this many events separate it from the stream.",
    )


class RetrainingSettings(Section):
    """``cairn retrain watch``: how often the retraining policies are evaluated, and where
    their decisions are announced.

    Every retraining decision and every step of a run (decided, training, trained, gated or
    refused, challenger, shadow, canary proposed, approved or rejected, failed, skipped) is
    POSTed as JSON to ``webhook_url`` when set; ``webhook_timeout_s`` bounds each call, and a
    webhook that fails is logged, never retried, and never stops the run.

    Example
    -------
    >>> RetrainingSettings().interval_seconds, RetrainingSettings().webhook_url is None
    (60.0, True)
    >>> RetrainingSettings(webhook_url="hooks.example.com/x")
    Traceback (most recent call last):
    ...
    cairn.core.errors.ConfigError: retraining.webhook_url must be an http:// or https:// URL; got 'hooks.example.com/x'.
    """  # noqa: E501

    section = "retraining"

    interval_seconds: Annotated[float, Field(gt=0), NotBool] = setting(
        60.0, "How often `cairn retrain watch` evaluates the policies, in seconds."
    )
    webhook_url: Annotated[str | None, BlankIsNone] = setting(
        None,
        "Where every retraining decision and every step of a run is POSTed as JSON.",
        expected=URL_TEXT,
    )
    webhook_timeout_s: Annotated[float, Field(gt=0), NotBool] = setting(
        5.0, "Time limit of one webhook call, in seconds."
    )

    @model_validator(mode="after")
    def _http_url(self) -> Self:
        url = self.webhook_url
        if url is not None and not is_webhook_url(url):
            raise invalid("webhook_url", URL_TEXT, redact_url(url))
        return self


class OidcSettings(Section):
    """OIDC/JWT bearer tokens (``auth.oidc``): off until ``issuer`` is set; then ``audience``
    and one of ``jwks_url`` / ``jwks_file`` are required.

    Example
    -------
    >>> OidcSettings(issuer="https://idp.example", audience="cairn",
    ...              jwks_file="jwks.json").role_claim
    'cairn_role'
    """

    section = "auth.oidc"

    issuer: Annotated[str | None, BlankIsNone] = setting(
        None, "Required iss of OIDC/JWT bearer tokens; unset: JWTs are not accepted."
    )
    audience: Annotated[str | None, BlankIsNone] = setting(
        None, "Required aud of OIDC/JWT bearer tokens."
    )
    jwks_url: Annotated[str | None, BlankIsNone] = setting(
        None, "The issuer's JWKS endpoint (keys fetched and cached)."
    )
    jwks_file: Annotated[str | None, BlankIsNone] = setting(
        None, "A JWKS JSON file with the issuer's public keys (offline), relative to the project."
    )
    algorithms: list[str] = setting(
        description="Accepted JWT signature algorithms (asymmetric only).",
        expected="a list of algorithms such as [RS256, ES256, EdDSA]",
        default_factory=lambda: ["RS256", "ES256", "EdDSA"],
    )
    name_claim: str = setting("sub", "JWT claim holding the principal's name.")
    role_claim: str = setting("cairn_role", "JWT claim holding the role (viewer .. admin).")
    leeway_s: Annotated[float, Field(ge=0), NotBool] = setting(
        30.0, "Clock skew allowed on exp and nbf, in seconds."
    )

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.issuer is None:
            return self
        if self.audience is None:
            raise invalid("audience", "set when issuer is set (the aud tokens carry)", None)
        if (self.jwks_url is None) == (self.jwks_file is None):
            raise invalid(
                "jwks_url",
                "set, or jwks_file instead (exactly one of them, when issuer is set)",
                self.jwks_url,
            )
        return self


class AuthSettings(Section):
    """Authentication besides the project's API tokens (``cairn auth token ...``, always on):
    OIDC/JWT bearer tokens of the organisation's identity provider (``auth.oidc``)."""

    section = "auth"

    oidc: OidcSettings = setting(
        description="OIDC/JWT bearer tokens.",
        expected="a mapping with issuer, audience and jwks_url or jwks_file",
        default_factory=OidcSettings,
    )

    @field_validator("oidc", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return {} if value is None else value


AuditSigning = Literal["none", "hmac", "ed25519"]
"""How the audit chain's head is signed: not at all, HMAC-SHA256, or Ed25519."""


class AuditSettings(Section):
    """Anchoring of the audit chain (``cairn audit verify``): the chain head is signed with a
    key the database does not hold, so someone who can only write the database cannot rewrite
    the chain and move its head unnoticed.

    ``hmac``: a shared secret of at least 32 bytes from ``key_file`` or the environment
    variable named by ``key_env``; every process that appends or verifies needs it.
    ``ed25519``: a private key (PEM, ``key_file``) signs; verifying needs only the public key
    (``public_key_file``), so an auditor can check without being able to sign.

    Example
    -------
    >>> AuditSettings(signing="ed25519", key_file="keys/audit.pem").key_env
    'CAIRN_AUDIT_KEY'
    """

    section = "audit"

    signing: AuditSigning = setting(
        "none",
        "Sign the audit chain head: none, hmac (HMAC-SHA256, shared secret) or ed25519.",
    )
    key_file: Annotated[str | None, BlankIsNone] = setting(
        None,
        "hmac: file holding the secret key; ed25519: private key (PEM). Relative to the "
        "project folder; keep it outside the database (and out of version control).",
    )
    key_env: str = setting(
        "CAIRN_AUDIT_KEY",
        "hmac: environment variable holding the secret key (used when key_file is unset).",
    )
    public_key_file: Annotated[str | None, BlankIsNone] = setting(
        None,
        "ed25519: public key (PEM) to verify with, when the private key is not at hand.",
    )


SECTIONS: dict[str, type[Section]] = {
    s.section: s
    for s in (
        MetadataSettings,
        OfflineSettings,
        OnlineSettings,
        TrackingSettings,
        MonitoringSettings,
        ServingSettings,
        StreamingSettings,
        RetrainingSettings,
        AuthSettings,
        AuditSettings,
    )
}
"""Every section by its key in ``cairn.yaml``."""

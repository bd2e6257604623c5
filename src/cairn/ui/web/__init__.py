"""The dashboard: server-rendered pages over a project, read with or without JavaScript.

``cairn serve`` mounts it at ``/ui`` and ``cairn ui`` serves it alone. Each page gathers its
data as plain dataclasses from the project's own services — the registry, the audit log, the
rollout service, the prediction log, the monitoring history, the experiment analysis, the
feature store and the quality result store — in one module per page
(:mod:`~cairn.ui.web.overview`, :mod:`~cairn.ui.web.deployment` with its
:mod:`~cairn.ui.web.actions`, :mod:`~cairn.ui.web.models`, :mod:`~cairn.ui.web.lineage`,
:mod:`~cairn.ui.web.features` with :mod:`~cairn.ui.web.freshness` and
:mod:`~cairn.ui.web.consistency`, :mod:`~cairn.ui.web.quality`, :mod:`~cairn.ui.web.monitoring`,
:mod:`~cairn.ui.web.experiments` with its power plans in :mod:`~cairn.ui.web.plans`,
:mod:`~cairn.ui.web.audit`), and renders it with the Jinja2 templates the HTML reports use
(:mod:`cairn.core.render`). Charts are inline SVG computed in Python
(:mod:`~cairn.ui.web.charts`), each with its numbers in a table; lists are paged
(:mod:`~cairn.ui.web.paging`). htmx is vendored under ``static/`` with its licence and only
boosts links; no asset comes from the internet.
"""

from __future__ import annotations

from cairn.ui.web.app import (
    COOKIE,
    AccessRefused,
    Authorize,
    SignIn,
    dashboard_app,
    standalone_app,
)
from cairn.ui.web.paging import PAGE_SIZE, BadPageInput, Page, PageNotFound

__all__ = [
    "COOKIE",
    "PAGE_SIZE",
    "AccessRefused",
    "Authorize",
    "BadPageInput",
    "Page",
    "PageNotFound",
    "SignIn",
    "dashboard_app",
    "standalone_app",
]

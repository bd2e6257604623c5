"""The render kit: every HTML page Cairn writes comes from Jinja2 templates through :func:`render`.

A capability keeps its page templates in its own ``templates/`` folder (``cairn/monitoring/
templates/``, ``cairn/experiments/templates/``, the dashboard's later). A template is looked up
there first (in each of several packages, in the order given, for a page that shows the
sections of several capabilities), then in ``cairn/core/templates/``, which holds what every
page shares:

* ``base.html``: the layout (``{% extends "base.html" %}``, blocks ``title``, ``head``, empty
  unless a page adds to ``<head>``, and ``body``); it inlines the one stylesheet,
  ``cairn.css``, so a written page is a single self-contained file;
* ``_macros.html``: tables, badges and the inline-SVG charts (bars, lines, intervals), drawn
  from the geometry :mod:`cairn.core.charts` computes (``{% import "_macros.html" as ui %}``).

A capability names its page ``report.html`` and its section macros after itself
(``_monitoring.html``, ``_experiments.html``), so a page that looks in several packages at
once (the dashboard) finds every section by a name no other package uses.

The environment is built once per capability and cached: autoescaping on for ``.html``,
``.svg`` and ``.xml`` templates (data such as feature names, segment values and model names is
always escaped), :class:`~jinja2.StrictUndefined` (a misspelt name fails instead of printing
nothing), ``trim_blocks`` and ``lstrip_blocks``. Two filters format values: ``num`` (a format
spec, with a marker for None and NaN) and ``minute`` (a UTC datetime or µs since the epoch as
``YYYY-MM-DD HH:MM``). Jinja2 is imported on first use only, so importing a module that
renders costs the CLI nothing.

Example
-------
>>> page = render("base.html", package="cairn.core", title="<Demo>")
>>> page.startswith("<!DOCTYPE html>") and "<title>&lt;Demo&gt;</title>" in page
True
>>> number(0.1234), number(None), number(float("nan"), ".2g", missing="-"), number(1234, ",")
('0.123', '–', '-', '1,234')
>>> render_macro("_macros.html", "badge", "drift", package="cairn.core")
'<span class="badge drift">drift</span>'
"""

from __future__ import annotations

import functools
import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cairn.core.timeutil import from_micros

if TYPE_CHECKING:
    import jinja2

__all__ = ["environment", "minute", "number", "render", "render_macro"]

CORE = "cairn.core"
"""The package whose ``templates/`` folder holds the shared layout, macros and stylesheet."""


def render(template: str, /, *, package: str | tuple[str, ...], **context: Any) -> str:
    """``template`` rendered with ``context``, looked up in ``package``'s ``templates/``
    folder, then in ``cairn/core/templates/``.

    Parameters
    ----------
    template:
        A template name such as ``report.html``.
    package:
        The capability whose templates come first, e.g. ``cairn.monitoring`` (or several,
        searched in order).
    context:
        The template's variables; a name the template uses but ``context`` lacks is an error.
    """
    return environment(package).get_template(template).render(**context)


def render_macro(
    template: str, macro: str, /, *args: Any, package: str | tuple[str, ...], **kwargs: Any
) -> str:
    """One macro of ``template`` called with ``args`` and ``kwargs``: a page fragment (an SVG
    chart, a table, one section) for a caller that needs only that piece.

    Example
    -------
    >>> render_macro("_macros.html", "badge", "<b>", package="cairn.core")
    '<span class="badge &lt;b&gt;">&lt;b&gt;</span>'
    """
    module = environment(package).get_template(template).module
    return str(getattr(module, macro)(*args, **kwargs))


@functools.cache
def environment(package: str | tuple[str, ...]) -> jinja2.Environment:
    """The cached Jinja2 environment of ``package`` (its templates, then core's)."""
    import jinja2

    packages = [package] if isinstance(package, str) else list(package)
    loaders: list[jinja2.BaseLoader] = [
        jinja2.PackageLoader(name, "templates") for name in packages if name != CORE
    ]
    loaders.append(jinja2.PackageLoader(CORE, "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(("html", "svg", "xml")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = number
    env.filters["minute"] = minute
    return env


def number(value: float | None, spec: str = ".3f", *, missing: str = "–") -> str:
    """``value`` formatted with the format ``spec``, or ``missing`` when it is None or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return format(value, spec)


def minute(value: datetime | int) -> str:
    """A UTC datetime, or µs since the epoch, as ``YYYY-MM-DD HH:MM``.

    Example
    -------
    >>> minute(86_400_000_000)
    '1970-01-02 00:00'
    """
    at = from_micros(value) if isinstance(value, int) else value
    return at.strftime("%Y-%m-%d %H:%M")

"""How Cairn shows results to people: :mod:`cairn.ui.terminal` draws them for a terminal (the
CLI and the quickstart print through it). HTML reports render from the shared Jinja2 templates
of :mod:`cairn.core.render`.
"""

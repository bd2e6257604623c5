"""How Cairn shows results: :mod:`cairn.ui.terminal` draws them for people at a terminal (the
CLI and the quickstart print through it); :mod:`cairn.ui.output` writes them for machines as
JSON, CSV or Parquet, and :mod:`cairn.ui.rows` gives nested results their rows. HTML reports
render from the shared Jinja2 templates of :mod:`cairn.core.render`.
"""

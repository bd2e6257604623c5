"""Cairn's results for a terminal: Rich tables and trees, one module per capability.

The CLI's commands and the quickstart print through these functions, so one result always
looks the same wherever it is shown. Each module imports Rich and the result types it draws;
nothing here computes a result.
"""

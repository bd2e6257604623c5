"""The blank project that ``cairn init DIR`` scaffolds: a project of your own.

``cairn.yaml``, a commented ``features.py`` for a CSV file you add (``data/customers.csv``: an
entity ``customer``, a file source, a snapshot feature view), and commented ``train.yaml``,
``deployments.yaml`` (an outreach model deciding ``contact`` or ``skip``), ``reason_codes.yaml``,
``experiments.yaml`` and ``quality/customers.yaml``. Every file is valid as written
(``cairn config check`` passes) and explains each of its keys.
"""

from __future__ import annotations

from cairn.quickstart.blank._templates import DATA_COLUMNS, DATA_FILE
from cairn.quickstart.blank.project import BlankProject, create_blank_project, project_name

__all__ = ["DATA_COLUMNS", "DATA_FILE", "BlankProject", "create_blank_project", "project_name"]

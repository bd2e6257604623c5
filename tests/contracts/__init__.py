"""Contract tests: every implementation of a core protocol runs its kit from ``cairn.testing``."""

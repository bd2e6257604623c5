"""Fixtures of the auth tests: signing keys (made once per session: RSA generation is slow)."""

from __future__ import annotations

import pytest

from tests.auth._keys import Keys


@pytest.fixture(scope="session")
def keys() -> Keys:
    """The test identity provider's keys."""
    return Keys()

"""Principals for registry tests: who acts, with which role (as a token would prove it)."""

from __future__ import annotations

from cairn.auth import Principal


def approver(name: str) -> Principal:
    """A reviewer (approver role), proven by a test token."""
    return Principal(name, "approver", via=f"token:tk_{name.strip().lower() or 'x'}")


def deployer(name: str) -> Principal:
    """Someone who moves aliases and promotes (deployer role)."""
    return Principal(name, "deployer", via=f"token:tk_{name.strip().lower() or 'x'}")


def admin(name: str) -> Principal:
    """Someone who may change promotion policies (admin role)."""
    return Principal(name, "admin", via=f"token:tk_{name.strip().lower() or 'x'}")


def viewer(name: str) -> Principal:
    """Someone who may only read."""
    return Principal(name, "viewer", via=f"token:tk_{name.strip().lower() or 'x'}")

"""Paging of the dashboard's lists: ``?page=N`` (from 1), :data:`PAGE_SIZE` rows a page.

A page number that is not a whole number of at least 1 is bad input (:class:`BadPageInput`,
shown as a 422 page); one past the last page is not found (:class:`PageNotFound`, a 404 page),
except page 1 of an empty list, which is an empty page.

Example
-------
>>> page = paginate(list(range(120)), parse_page("3"))
>>> page.items[:2], page.number, page.pages, page.total
([100, 101], 3, 3, 120)
>>> paginate([], 1).pages
1
>>> parse_page("x")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
cairn.ui.web.paging.BadPageInput: The query parameter 'page' must be a whole number ...; got 'x'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from cairn.core.errors import CairnError, DataError

__all__ = [
    "PAGE_SIZE",
    "BadPageInput",
    "Page",
    "PageNotFound",
    "page_bounds",
    "paginate",
    "parse_page",
]

PAGE_SIZE = 50
"""Rows on one page of a list."""

T = TypeVar("T")


class BadPageInput(DataError):
    """A query parameter of a dashboard page is malformed (answered with a 422 page)."""


class PageNotFound(CairnError, KeyError):
    """What a dashboard URL names does not exist (answered with a 404 page)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its ``items``, its ``number`` (from 1), ``pages`` and ``total``."""

    items: list[T]
    number: int
    pages: int
    total: int

    @property
    def first(self) -> int:
        """The 1-based position of the page's first item in the whole list (0 when empty)."""
        return (self.number - 1) * PAGE_SIZE + 1 if self.items else 0


def parse_page(text: str | None) -> int:
    """The page number of ``?page=`` (1 when absent)."""
    if text is None or text == "":
        return 1
    if not text.isdigit() or int(text) < 1:
        raise BadPageInput(
            f"The query parameter 'page' must be a whole number of at least 1; got {text!r}."
        )
    return int(text)


def paginate(items: Sequence[T], number: int, size: int = PAGE_SIZE) -> Page[T]:
    """Page ``number`` of ``items`` (:class:`PageNotFound` past the last page)."""
    pages, start = page_bounds(len(items), number, size)
    return Page(list(items[start : start + size]), number, pages, len(items))


def page_bounds(total: int, number: int, size: int = PAGE_SIZE) -> tuple[int, int]:
    """The number of pages of a list of ``total`` items and the 0-based position of page
    ``number``'s first item (:class:`PageNotFound` past the last page): for a list read one
    page at a time from a database."""
    pages = max(1, -(-total // size))
    if number > pages:
        raise PageNotFound(f"Page {number} does not exist: the list has {pages} page(s).")
    return pages, (number - 1) * size

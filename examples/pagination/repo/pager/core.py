"""Split sequences into numbered pages."""

from dataclasses import dataclass
from typing import Generic, List, Sequence, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results, with enough context to render navigation links."""

    items: List[T]
    number: int
    total_pages: int

    @property
    def has_next(self) -> bool:
        return self.number < self.total_pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def page_count(total: int, per_page: int) -> int:
    """Return how many pages are needed to show `total` items, `per_page` at a time."""
    if per_page <= 0:
        raise ValueError("per_page must be positive")
    if total < 0:
        raise ValueError("total must not be negative")
    return total // per_page


def paginate(items: Sequence[T], number: int, per_page: int = 10) -> Page[T]:
    """Return page `number` (1-based) of `items`."""
    pages = page_count(len(items), per_page)
    if number < 1 or (pages and number > pages):
        raise IndexError(f"page {number} out of range 1..{pages}")
    start = (number - 1) * per_page
    return Page(items=list(items[start:start + per_page]), number=number, total_pages=pages)

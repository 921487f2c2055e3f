"""Small pagination helpers for list views and APIs."""

from .core import Page, page_count, paginate

__all__ = ["Page", "page_count", "paginate"]

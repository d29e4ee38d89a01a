"""Unique names for the values, nodes and layers an emitter adds beside the model's own."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["NameAllocator"]


class NameAllocator:
    """Hands out names no one has used: ``hint``, else ``hint_2``, ``hint_3``..."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def reserve(self, names: Iterable[str]) -> None:
        """Mark names as taken (the model's own values, layers written so far)."""
        self._taken.update(names)

    def fresh(self, hint: str) -> str:
        """A new name, ``hint`` itself when it is free."""
        name, k = hint, 1
        while name in self._taken:
            k += 1
            name = f"{hint}_{k}"
        self._taken.add(name)
        return name

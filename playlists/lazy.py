"""`LazySequence`: a sequence whose items are made when first read.

A stage may rank thousands of tracks (a Last.fm-1K listener's history holds ~20,000 listens
of ~4,000 tracks) and a playlist reads a few dozen of them: the items nobody reads, and the
reasons and names they would carry, are never made. Reading an item always gives the same
object; the items, in order, are exactly those an eager tuple would hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar, overload

T = TypeVar("T")


class LazySequence(Sequence[T]):
    """`length` items; item i is `make(i)`, made on first read and kept."""

    def __init__(self, length: int, make: Callable[[int], T]) -> None:
        self._length = length
        self._make = make
        self._made: dict[int, T] = {}

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self._length)))
        i = range(self._length)[index]  # IndexError past the end, as a tuple's
        if i not in self._made:
            self._made[i] = self._make(i)
        return self._made[i]

    def __iter__(self) -> Iterator[T]:
        return (self[i] for i in range(self._length))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]  # it caches what it made: unhashable, as a list

    def __repr__(self) -> str:
        return f"LazySequence({len(self)} items, {len(self._made)} made)"

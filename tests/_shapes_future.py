"""Callables of every shape, annotated under `from __future__ import annotations`.

`Item` exists only here: resolving an annotation anywhere else fails, so a resolution
that succeeds proves it used this module's globals.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated


@dataclass
class Item:
    shelf: str


async def read(shelf: str, limit: Annotated[int, "per page"]) -> Item:
    return Item(shelf * limit)


async def provide(shelf: str, limit: Annotated[int, "per page"]) -> AsyncIterator[Item]:
    yield Item(shelf * limit)


class Shelf:
    async def read(self, shelf: str, limit: Annotated[int, "per page"]) -> Item:
        return Item(shelf * limit)

    async def provide(self, shelf: str, limit: Annotated[int, "per page"]) -> AsyncIterator[Item]:
        yield Item(shelf * limit)


class Reader:
    async def __call__(self, shelf: str, limit: Annotated[int, "per page"]) -> Item:
        return Item(shelf * limit)


class Provider:
    async def __call__(self, shelf: str, limit: Annotated[int, "per page"]) -> AsyncIterator[Item]:
        yield Item(shelf * limit)

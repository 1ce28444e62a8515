"""Per-request DataLoaders, kept in ``context.loaders`` so each batch is one query for the request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

if TYPE_CHECKING:
    from schema.context import Context


def get_loader(
    context: Context, name: str, load_fn: Callable[[list[Any]], Awaitable[Sequence[Any]]]
) -> DataLoader[Any, Any]:
    loader = context.loaders.get(name)
    if loader is None:
        loader = context.loaders[name] = DataLoader(load_fn=load_fn)
    return loader

"""Per-request DataLoaders, kept in ``context.loaders`` so each batch is one query for the request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

if TYPE_CHECKING:
    from schema.context import Context


LoadFn = Callable[[list[Any]], Awaitable[Sequence[Any]]]


def get_loader(context: Context, name: str, make_load_fn: Callable[[Context], LoadFn]) -> DataLoader[Any, Any]:
    """The request's loader called ``name``; ``make_load_fn(context)`` builds its batch function on first use."""
    loader = context.loaders.get(name)
    if loader is None:
        loader = context.loaders[name] = DataLoader(load_fn=make_load_fn(context))
    return loader


def forget_loaders(context: Context) -> None:
    """After a write, so the rest of the request reads fresh rows."""
    context.loaders.clear()

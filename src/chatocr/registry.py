"""A tiny plugin registry: built-ins register exactly like third-party plugins.

Third-party packages add entries through the entry-point groups
``chatocr.engines`` and ``chatocr.backends``; each entry point names a callable
that receives the registry and registers its factories.  Modules named in the
environment variable ``CHATOCR_PLUGINS`` (comma-separated import paths) are
imported too, so a plugin can be used without packaging it (worker processes and
subprocess tests rely on this).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from chatocr.errors import OptionsError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, entry_point_group: str) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._factories: dict[str, Callable[..., T]] = {}
        self._descriptions: dict[str, str] = {}
        self._plugins_loaded = False

    def register(self, name: str, description: str = "") -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            self._descriptions[name] = description or (factory.__doc__ or "").strip().split("\n")[0]
            return factory

        return decorator

    def unregister(self, name: str) -> None:
        self._factories.pop(name, None)
        self._descriptions.pop(name, None)

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=self.entry_point_group):
            ep.load()(self)
        for module in filter(None, (m.strip() for m in os.environ.get("CHATOCR_PLUGINS", "").split(","))):
            importlib.import_module(module)

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._factories)

    def describe(self) -> dict[str, str]:
        self._load_plugins()
        return {name: self._descriptions[name] for name in sorted(self._factories)}

    def factory(self, name: str) -> Callable[..., T]:
        self._load_plugins()
        try:
            return self._factories[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise OptionsError(f"unknown {self.kind} {name!r}", hint=f"known: {known}") from None

    def create(self, name: str, *args: object, **kwargs: object) -> T:
        return self.factory(name)(*args, **kwargs)

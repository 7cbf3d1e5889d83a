"""Packages whose public names are imported on first use (a module `__getattr__`, PEP 562).

`import s3kit` is what every command starts with, and a package's `__init__` is run by any
import of one of its modules: names imported there eagerly would be paid for by every caller.
Nothing here imports more than importlib (loaded with the interpreter already).
"""

import importlib
import sys

TYPE_CHECKING = False  # typing's constant, without importing typing (see s3kit/__init__)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


def lazy_names(package: str, homes: "Mapping[str, tuple[str, ...]]") -> "Callable[[str], Any]":
    """The module `__getattr__` of `package`, importing each name of `homes` (module → names)
    from its module the first time it is asked for and keeping it in the package."""
    home_of = {name: module for module, names in homes.items() for name in names}
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> "Any":
        module = home_of.get(name)
        if module is None:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # found once; later lookups do not come here
        return value

    return __getattr__

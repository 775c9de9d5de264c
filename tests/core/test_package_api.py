"""Each core sub-package's ``__init__`` is its declared API: every name it lists resolves,
from the module that defines it, and importing the package imports none of its modules."""

from __future__ import annotations

import importlib
import inspect

import pytest

from tests.probe import fresh_modules

PACKAGES = [
    "core.access",
    "core.blocks",
    "core.disks",
    "core.fabric",
    "core.keystore",
    "core.protection",
    "core.restorepoints",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_name_of_the_api_resolves_to_where_it_is_defined(package: str) -> None:
    pkg = importlib.import_module(package)
    assert sorted(pkg.__all__) == sorted(pkg._WHERE)
    for name in pkg.__all__:
        module = importlib.import_module(pkg._WHERE[name])
        assert getattr(pkg, name) is getattr(module, name)
        defined = getattr(module, name)
        if inspect.isclass(defined) or inspect.isfunction(defined):
            assert defined.__module__ == module.__name__, f"{package}.{name}"


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_a_package_imports_none_of_its_modules(package: str) -> None:
    _, modules = fresh_modules(f"import {package}")
    assert [m for m in modules if m.startswith(f"{package}.")] == []


def test_an_unknown_name_is_an_attribute_error() -> None:
    pkg = importlib.import_module("core.restorepoints")
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        pkg.Nope  # noqa: B018

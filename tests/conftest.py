"""Fixtures every test folder may use: Azurite (``tests/azurite.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.azurite import Azurite


def _running(service: Azurite) -> Iterator[Azurite]:
    """``service`` started (a failed start fails the test, with the reason), then stopped."""
    try:
        service.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield service
    service.stop()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """One Azurite for the session (fails, never skips, when it cannot start)."""
    yield from _running(Azurite(tmp_path_factory.mktemp("azurite")))


@pytest.fixture
def azurite_own(tmp_path) -> Iterator[Azurite]:
    """An Azurite of this test's own, which the test may stop and start again."""
    yield from _running(Azurite(tmp_path / "azurite"))


@pytest.fixture
def container_name() -> str:
    """A container name no other test uses (one Azurite serves the whole session)."""
    return f"t{uuid.uuid4().hex[:20]}"

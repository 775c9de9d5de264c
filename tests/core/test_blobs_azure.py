"""The Azure Blob service passes the blob conformance suite against a real Azurite, and its
errors name the fabric's account, container and blob."""

from __future__ import annotations

import time
import uuid

import pytest

from azblob import Credential, credential_from_env
from core.blobs import AzureBlobService, StorageUnreachable
from core.errors import CoreError
from tests.azurite import ACCOUNT, KEY
from tests.core.blob_conformance import BlobConformance


class TestAzureBlobs(BlobConformance):
    @pytest.fixture
    def service(self, azurite) -> AzureBlobService:
        return AzureBlobService(azurite.endpoint, Credential(ACCOUNT, KEY))

    @pytest.fixture
    def account(self, service) -> str:
        name = f"a{uuid.uuid4().hex[:20]}"
        service.create_account(name)
        return name

    @pytest.fixture
    def advance(self):
        return time.sleep


def test_the_account_is_a_real_container_and_a_container_a_prefix(azurite) -> None:
    service = AzureBlobService(azurite.endpoint, Credential(ACCOUNT, KEY))
    name = f"a{uuid.uuid4().hex[:20]}"
    service.create_account(name)
    box = service.container(name, "box")
    box.create()
    box.put("x/y", b"1")
    real = service.real(name)
    assert sorted(i.name for i in real.list()) == [".containers/box", "box/x/y"]
    assert service.endpoint_of(name) == f"{azurite.endpoint}/{name}/"


def test_an_unreachable_endpoint_is_a_clear_error(azurite_own) -> None:
    service = AzureBlobService(azurite_own.endpoint, Credential(ACCOUNT, KEY))
    azurite_own.stop()
    with pytest.raises(StorageUnreachable, match="storage account 'abc123'"):
        service.create_account("abc123")


def test_the_credential_comes_from_the_environment(azurite, monkeypatch) -> None:
    for var in ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY", "ARM_ACCESS_KEY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(CoreError, match="AZURE_STORAGE_CONNECTION_STRING"):
        AzureBlobService(azurite.endpoint)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    service = AzureBlobService(azurite.endpoint)
    assert service.credential == credential_from_env(azurite.endpoint)
    assert KEY not in repr(service)

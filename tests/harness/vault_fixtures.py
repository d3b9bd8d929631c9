# -*- coding: utf-8 -*-
"""Fixtures of the Vault integration tests (a pytest plugin: ``pytest_plugins = ["tests.harness.vault_fixtures"]``):
the OpenBao server from the harness, a root hvac client, and a unique path prefix per test."""
import uuid

import hvac
import pytest


@pytest.fixture(scope="session")
def vault(harness):
    return harness.start("vault")


@pytest.fixture(scope="session")
def root(vault):
    return hvac.Client(url=vault["url"], token=vault["token"])


@pytest.fixture
def prefix():
    return "agentarea-%s" % uuid.uuid4().hex[:10]

# -*- coding: utf-8 -*-
import os

import pytest

from tests.harness.ansible_runner import AnsibleRunner, install_collection


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory):
    dest = tmp_path_factory.mktemp("collections")
    return install_collection(dest, link=os.environ.get("AGENTAREA_TEST_LINK") == "1")


@pytest.fixture
def ansible(collections_path, tmp_path):
    """Runs playbooks against the installed collection; each test gets its own working area and HOME."""
    return AnsibleRunner(collections_path, tmp_path)

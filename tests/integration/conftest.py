# -*- coding: utf-8 -*-
import os

import pytest

from tests.harness.ansible_runner import AnsibleRunner, install_collection


# The fault suite (`make faults`, issue 14): stores, hosts and the controller failing mid-run. The main suite
# (`make test`) runs everything else.
FAULT_SUITE = ("test_faults_", "test_rotation_faults.py")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
            if os.path.basename(str(item.fspath)).startswith(FAULT_SUITE):
                item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory):
    dest = tmp_path_factory.mktemp("collections")
    return install_collection(dest, link=os.environ.get("AGENTAREA_TEST_LINK") == "1")


@pytest.fixture
def ansible(collections_path, tmp_path):
    """Runs playbooks against the installed collection; each test gets its own working area and HOME."""
    return AnsibleRunner(collections_path, tmp_path)

# -*- coding: utf-8 -*-
import os

import pytest

from tests.harness import ansible_runner
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


@pytest.fixture(scope="session", autouse=True)
def compile_cache(tmp_path_factory):
    """One cache for every xdist worker of the session (tests/harness/compile_cache): the ansible-playbook runs the
    tests start (AnsibleRunner, the AWX jobs, molecule) reuse Ansible's module packaging and the modules' compiled
    code. AGENTAREA_TEST_COMPILE_CACHE=0 turns it off."""
    if os.environ.get("AGENTAREA_TEST_COMPILE_CACHE") == "0":
        return None
    base = tmp_path_factory.getbasetemp()
    path = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "compile-cache"
    path.mkdir(mode=0o700, exist_ok=True)
    ansible_runner.COMPILE_CACHE = path
    return path


@pytest.fixture
def ansible(collections_path, compile_cache, tmp_path):
    """Runs playbooks against the installed collection; each test gets its own working area and HOME."""
    return AnsibleRunner(collections_path, tmp_path, compile_cache=compile_cache)

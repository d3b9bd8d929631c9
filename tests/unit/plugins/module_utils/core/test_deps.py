import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import MissingDependency


def test_requires_returns_one_module_or_a_tuple():
    import json
    import os.path
    assert requires('json') is json
    assert requires('json', 'os.path') == (json, os.path)


def test_requires_names_package_backend_and_cause():
    with pytest.raises(MissingDependency) as err:
        requires('json', 'agentarea_no_such_sdk.sub', package='no-such-sdk', backend='vault')
    text = str(err.value)
    assert "'no-such-sdk' is required" in text
    assert 'vault' in text
    assert 'agentarea_no_such_sdk' in text


def test_requires_rejects_unknown_keywords():
    with pytest.raises(TypeError):
        requires('json', backend_name='x')

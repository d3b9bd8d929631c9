# -*- coding: utf-8 -*-
"""rotate: the settings of api_key hooks that carry provider tokens are no_log (issue 12 item 3)."""
from ansible_collections.agentarea.secrets.plugins.modules import rotate


def test_hook_settings_that_carry_tokens_are_no_log():
    for hook in ("register", "test", "revoke"):
        options = rotate.TARGET_SPEC[hook]["options"]
        for name in ("env", "url", "headers", "body"):
            assert options[name].get("no_log") is True, (hook, name)
    assert rotate.TARGET_SPEC["admin_password"]["no_log"] is True

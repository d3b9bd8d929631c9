# -*- coding: utf-8 -*-
"""protect_catalog: what catalog_info and distribute mask of the catalog they are given (issue 12 item 3: the URL
and body of api_key hooks carry provider tokens, and a URL was never masked)."""
from types import SimpleNamespace

from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import protect_catalog


def test_hook_urls_bodies_env_and_headers_are_masked_references_are_not():
    module = SimpleNamespace(no_log_values=set())
    hook = {"url": "https://api.example.com/keys?token=url-canary", "method": "POST",
            "headers": {"Authorization": "Bearer header-canary"}, "body": {"admin": "body-canary", "ttl": 30},
            "env": {"TOKEN": "env-canary"}, "status_codes": [200]}
    protect_catalog(module, [{"name": "k", "store": "vault://secret/k", "kind": "api_key",
                              "target": {"register": hook, "test": {"url": "https://api.example.com/me"},
                                         "admin": "vault://secret/admin", "admin_password": "inline-canary"}}])
    assert {"https://api.example.com/keys?token=url-canary", "Bearer header-canary",
            "body-canary", "env-canary", "inline-canary", "https://api.example.com/me"} <= module.no_log_values
    assert not {"POST", "vault://secret/admin", "vault://secret/k", "k"} & module.no_log_values


def test_vault_proxies_are_no_log():
    """Issue 12 item 12: a proxy URL may carry user:password (http://user:pw@proxy:3128); modules that take a Vault
    reference echoed it in their invocation."""
    from ansible_collections.agentarea.secrets.plugins.module_utils.core import _registry
    from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._backend import VaultBackend
    assert VaultBackend.ARGSPEC["proxies"]["no_log"] is True
    assert _registry.union_argspec()["proxies"]["no_log"] is True

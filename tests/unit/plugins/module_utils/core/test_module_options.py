# -*- coding: utf-8 -*-
"""Options that several stores share a name for (ca_cert, validate_certs, access_token, force_delete) never cross
from one store to another in a module that talks to several (issue 16: a Vault validate_certs=false turned off TLS
verification toward Kubernetes in distribute)."""
import yaml

from ansible_collections.agentarea.secrets.plugins.doc_fragments.store_options import ModuleDocFragment
from ansible_collections.agentarea.secrets.plugins.module_utils.core import _registry
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import backend_options
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s._backend import K8sBackend
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._backend import VaultBackend


def params(**given):
    spec = _registry.union_argspec()
    out = dict((name, opt.get('default')) for name, opt in spec.items())
    out.update(given)
    return out


def test_vault_tls_settings_never_reach_a_kubernetes_consumer():
    p = params(validate_certs=False, ca_cert='/etc/vault-ca.pem')
    vault = backend_options(p, VaultBackend, 'vault')
    k8s = backend_options(p, K8sBackend, 'vault')
    assert (vault['validate_certs'], vault['ca_cert']) == (False, '/etc/vault-ca.pem')
    assert k8s['validate_certs'] is None, 'unset: the kubeconfig decides, which verifies by default'
    assert k8s['ca_cert'] is None


def test_per_store_forms_win_and_stay_with_their_store():
    p = params(validate_certs=False, k8s_validate_certs=True, k8s_ca_cert='/k8s-ca.pem', vault_validate_certs=True)
    assert backend_options(p, VaultBackend, 'vault')['validate_certs'] is True
    k8s = backend_options(p, K8sBackend, 'vault')
    assert (k8s['validate_certs'], k8s['ca_cert']) == (True, '/k8s-ca.pem')


def test_plain_form_reaches_other_stores_when_the_own_store_does_not_take_it():
    # a .env store with Kubernetes consumers: validate_certs can only be meant for Kubernetes
    p = params(validate_certs=False)
    assert backend_options(p, K8sBackend, 'dotenv')['validate_certs'] is False
    # and a module whose own store is Kubernetes takes it too
    assert backend_options(p, K8sBackend, 'k8s')['validate_certs'] is False


def test_common_options_keep_one_name():
    assert 'timeout' not in _registry.shared_options()
    assert backend_options(params(timeout=7), K8sBackend, 'vault')['timeout'] == 7


def test_doc_fragment_documents_exactly_the_per_store_forms():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    spec = _registry.union_argspec()
    wanted = set(_registry.store_option(owner, name) for name, owners in _registry.shared_options().items()
                 for owner in owners)
    assert set(documented) == wanted
    for name in wanted:
        assert documented[name]['type'] == spec[name]['type'], name
        assert 'default' not in spec[name], name

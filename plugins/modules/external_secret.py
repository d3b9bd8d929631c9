#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: external_secret
short_description: Manage External Secrets Operator stores and ExternalSecrets from a short description, and force a re-sync
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Renders and applies a C(SecretStore) or C(ClusterSecretStore) for the Vault, AWS Secrets Manager / Parameter
    Store, Azure Key Vault or Google Secret Manager provider from O(store), and an C(ExternalSecret) from O(name),
    O(data) and O(data_from), in one task or separately.
  - Existing objects are compared with what is rendered (fields the operator or the API server added are fine) and
    patched only where they differ, with their C(resourceVersion); a 409 Conflict is read again and retried.
  - O(force_sync=true) sets the C(force-sync) annotation so that the operator fetches the values again now (after
    a rotation) instead of at the next O(refresh_interval); with O(wait=true) the module waits for that sync.
  - These objects hold references to secrets (store paths, names of Kubernetes Secrets with credentials), never
    values, so the rendered objects are returned.
options:
  namespace:
    description:
      - Namespace of the C(ExternalSecret) and of a C(SecretStore). For a C(ClusterSecretStore), the namespace of
        the credential Secrets it names when they do not say one.
    type: str
  api_version:
    description: Version of the C(external-secrets.io) API to use (C(v1) since ESO 0.16; C(v1beta1) before).
    type: str
    choices: [v1, v1beta1]
    default: v1
  store:
    description:
      - The store to ensure. Provider settings apply to their provider only.
    type: dict
    suboptions:
      name:
        description: Name of the store.
        type: str
        required: true
      kind:
        description: C(SecretStore) (namespaced) or C(ClusterSecretStore).
        type: str
        choices: [SecretStore, ClusterSecretStore]
        default: SecretStore
      provider:
        description: The secret manager behind the store.
        type: str
        required: true
        choices: [vault, aws, azure, gcp]
      server:
        description: Vault URL.
        type: str
      path:
        description: Vault KV mount (default C(secret)).
        type: str
      version:
        description: Vault KV version, C(v2) (default) or C(v1).
        type: str
      vault_namespace:
        description: Vault Enterprise / OpenBao namespace.
        type: str
      ca_bundle:
        description: PEM CA certificate(s) that signed the Vault server certificate.
        type: str
      service:
        description: AWS service, C(SecretsManager) (default) or C(ParameterStore).
        type: str
      region:
        description: AWS region.
        type: str
      role:
        description: AWS IAM role ARN to assume.
        type: str
      vault_url:
        description: Azure Key Vault URL, such as C(https://agentarea.vault.azure.net).
        type: str
      tenant_id:
        description: Azure tenant ID.
        type: str
      auth_type:
        description: Azure authentication, C(WorkloadIdentity) (default), C(ServicePrincipal) or C(ManagedIdentity).
        type: str
        choices: [WorkloadIdentity, ServicePrincipal, ManagedIdentity]
      identity_id:
        description: Azure managed identity client ID (C(ManagedIdentity)).
        type: str
      project_id:
        description: Google Cloud project.
        type: str
      auth:
        description:
          - "How the operator authenticates; credentials are Kubernetes Secrets given as C(name#key) (or
            C(namespace/name#key), or a dict with C(name), C(key), C(namespace))."
          - "Vault: C({token: vault-token#token}), C({kubernetes: {role: agentarea, mount_path: kubernetes,
            service_account: eso}}) or C({approle: {role_id: ..., secret: approle#secret-id, path: approle}})."
          - "AWS: C({access_key_id: aws-creds#access-key-id, secret_access_key: aws-creds#secret-access-key}) or
            C({service_account: eso}) (IRSA); none uses the operator's own credentials."
          - "Azure: C({client_id: azure-creds#client-id, client_secret: azure-creds#client-secret}) for
            C(ServicePrincipal), C({service_account: eso}) for C(WorkloadIdentity)."
          - "GCP: C({credentials: gcp-creds#key.json}) or C({workload_identity: {cluster_location: ...,
            cluster_name: ..., service_account: eso}})."
          - Its values are hidden from output (C(no_log)), in case a credential is given here instead of a
            reference; an error names the field, never what it holds.
        type: dict
      provider_spec:
        description: Fields merged over the rendered provider block, for settings not covered above.
        type: dict
  name:
    description: Name of the C(ExternalSecret) to ensure (none when only O(store) is managed).
    type: str
  secret_store:
    description: The store the C(ExternalSecret) reads from. Defaults to O(store.name).
    type: str
  secret_store_kind:
    description: Kind of O(secret_store). Defaults to O(store.kind), else C(SecretStore).
    type: str
    choices: [SecretStore, ClusterSecretStore]
  target:
    description: Name of the Kubernetes Secret the operator writes. Defaults to O(name).
    type: str
  data:
    description:
      - Keys of the target Secret and where each comes from, as C(remote-key#property) (C(?version=...) optional)
        or a dict with C(key), C(property), C(version), C(decoding_strategy), C(conversion_strategy).
      - "Vault KV v2: the key is the path inside the mount, such as C(agentarea/database#url)."
    type: dict
  data_from:
    description:
      - "Remote secrets whose every field becomes a key (C(extract)), as a remote key, or raw C(dataFrom) entries
        (dicts, such as C({find: {name: {regexp: ^agentarea-}}}))."
    type: list
    elements: raw
  refresh_interval:
    description: How often the operator fetches the values again.
    type: str
    default: 1h
  creation_policy:
    description: Whether the operator owns the target Secret (C(Owner)), merges into an existing one, and so on.
    type: str
    choices: [Owner, Orphan, Merge, None]
    default: Owner
  deletion_policy:
    description: What happens to the target Secret when the provider has no data.
    type: str
    choices: [Retain, Delete, Merge]
  template:
    description: The target Secret's C(template) (type, labels, annotations, templated data), as ESO defines it.
    type: dict
  labels:
    description: Labels for the objects (merged with labels they have).
    type: dict
  annotations:
    description: Annotations for the objects (merged with annotations they have).
    type: dict
  force_sync:
    description:
      - Set the C(force-sync) annotation of the C(ExternalSecret) to the current time, so that the operator syncs it
        now. Reports C(changed).
    type: bool
    default: false
  wait:
    description:
      - Wait until the store is C(Ready), and the C(ExternalSecret) is C(Ready) (and, after O(force_sync), synced
        again).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 120
  state:
    description:
      - V(present) applies; V(absent) deletes the C(ExternalSecret) named by O(name) and the store described by
        O(store), whichever are given.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - agentarea.secrets.k8s
attributes:
  check_mode:
    support: full
    description: Renders, compares and reports what would change.
  diff_mode:
    support: full
    description: The objects' specs before and after.
notes:
  - Needs the External Secrets Operator CRDs in the cluster; the module says so when they are missing.
  - Not in the C(agentarea.secrets.secrets) action group, whose C(module_defaults) carry the options of every
    backend.
seealso:
  - module: agentarea.secrets.k8s_secret
  - module: agentarea.secrets.rollout
"""

EXAMPLES = r"""
- name: A Vault store (Kubernetes auth) and the app's Secret from it
  agentarea.secrets.external_secret:
    namespace: agentarea
    store:
      name: vault-backend
      provider: vault
      server: https://vault.internal:8200
      auth: {kubernetes: {role: agentarea, service_account: external-secrets}}
    name: agentarea-secrets
    data:
      database-url: agentarea/database#url
      jwt-secret: agentarea/jwt#secret
    wait: true

- name: An AWS ClusterSecretStore with IRSA
  agentarea.secrets.external_secret:
    namespace: external-secrets
    store:
      name: aws-secrets-manager
      kind: ClusterSecretStore
      provider: aws
      region: eu-west-1
      auth: {service_account: external-secrets}

- name: After rotating the database password in Vault, sync now and wait
  agentarea.secrets.external_secret:
    namespace: agentarea
    name: agentarea-secrets
    secret_store: vault-backend
    data:
      database-url: agentarea/database#url
      jwt-secret: agentarea/jwt#secret
    force_sync: true
    wait: true
"""

RETURN = r"""
store:
  description: The store's C(action) (C(created), C(updated), C(none), C(deleted)), C(kind), C(name) and rendered
    C(object).
  returned: when O(store) is given
  type: dict
external_secret:
  description: The ExternalSecret's C(action), C(name) and rendered C(object).
  returned: when O(name) is given
  type: dict
force_synced:
  description: The C(force-sync) annotation value set (epoch seconds).
  returned: when O(force_sync=true)
  type: str
waited:
  description: Per object waited for, C(converged), C(duration) (seconds) and C(status).
  returned: when O(wait=true)
  type: list
  elements: dict
"""

import time

from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _external_secret as eso
from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _rollout
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule, backend_of
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s._backend import K8sBackend

STORE_OPTIONS = dict(
    name=dict(type='str', required=True),
    kind=dict(type='str', default='SecretStore', choices=['SecretStore', 'ClusterSecretStore']),
    provider=dict(type='str', required=True, choices=['vault', 'aws', 'azure', 'gcp']),
    server=dict(type='str'), path=dict(type='str'), version=dict(type='str'), vault_namespace=dict(type='str'),
    ca_bundle=dict(type='str'), service=dict(type='str'), region=dict(type='str'), role=dict(type='str'),
    vault_url=dict(type='str'), tenant_id=dict(type='str'),
    auth_type=dict(type='str', choices=['WorkloadIdentity', 'ServicePrincipal', 'ManagedIdentity']),
    # references to Kubernetes Secrets, but a credential given inline by mistake must not be shown
    identity_id=dict(type='str'), project_id=dict(type='str'), auth=dict(type='dict', no_log=True),
    provider_spec=dict(type='dict'),
)


class ExternalSecret(SecretModule):
    NAME = 'external_secret'
    OPTIONS = dict(
        namespace=dict(type='str'),
        api_version=dict(type='str', default='v1', choices=['v1', 'v1beta1']),
        store=dict(type='dict', options=STORE_OPTIONS),
        name=dict(type='str'),
        secret_store=dict(type='str', no_log=False),
        secret_store_kind=dict(type='str', choices=['SecretStore', 'ClusterSecretStore'], no_log=False),
        target=dict(type='str'),
        data=dict(type='dict', no_log=False),  # remote references, not values
        data_from=dict(type='list', elements='raw'),
        refresh_interval=dict(type='str', default='1h'),
        creation_policy=dict(type='str', default='Owner', choices=['Owner', 'Orphan', 'Merge', 'None']),
        deletion_policy=dict(type='str', choices=['Retain', 'Delete', 'Merge']),
        template=dict(type='dict'),
        labels=dict(type='dict'),
        annotations=dict(type='dict'),
        force_sync=dict(type='bool', default=False),
        wait=dict(type='bool', default=False),
        wait_timeout=dict(type='int', default=120),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )
    STORES = ('k8s',)

    def __init__(self):
        super(ExternalSecret, self).__init__(required_one_of=[('store', 'name')])

    def run(self):
        p = dict(self.params)
        result = self.result = {'changed': False}
        check = self.check_mode
        backend = backend_of(K8sBackend, p)
        version = p['api_version']
        store = p['store']
        if store:
            p['secret_store'] = p['secret_store'] or store['name']
            p['secret_store_kind'] = p['secret_store_kind'] or store['kind']
        if p['name'] and not p['namespace']:
            raise InvalidOption('namespace is required for an ExternalSecret', backend='external-secrets')
        stores = eso.CustomObjects(backend, eso.STORE_KINDS[store['kind']], version,
                                   namespaced=store['kind'] == 'SecretStore') if store else None
        externals = eso.CustomObjects(backend, 'externalsecrets', version)
        diff = {'before': {}, 'after': {}}

        if p['state'] == 'absent':
            if p['name']:
                gone = externals.delete(p['name'], p['namespace'], check_mode=check)
                result['external_secret'] = {'name': p['name'], 'action': 'deleted' if gone else 'none'}
                result['changed'] |= gone
            if store:
                ns = p['namespace'] if store['kind'] == 'SecretStore' else None
                gone = stores.delete(store['name'], ns, check_mode=check)
                result['store'] = {'name': store['name'], 'kind': store['kind'],
                                   'action': 'deleted' if gone else 'none'}
                result['changed'] |= gone
            return result

        waiters = []
        if store:
            obj = eso.render_store(store, p['namespace'])
            action, before, after = stores.ensure(obj, p['labels'], p['annotations'], check_mode=check)
            result['store'] = {'name': store['name'], 'kind': store['kind'], 'action': action,
                               'object': eso.describe(after)}
            result['changed'] |= action != 'none'
            diff['before']['store'], diff['after']['store'] = eso.describe(before), eso.describe(after)
            ns = obj['metadata'].get('namespace')

            def store_ready(name=store['name'], namespace=ns):
                ok, reason, message = eso.ready(stores.get(name, namespace))
                return ok, message or reason or '', None
            waiters.append(_rollout.Workload(store['kind'], store['name'], ns, store_ready))
        if p['name']:
            obj = eso.render_external_secret(p)
            touched_at = time.time()
            action, before, after = externals.ensure(obj, p['labels'], p['annotations'], check_mode=check)
            result['external_secret'] = {'name': p['name'], 'namespace': p['namespace'], 'action': action,
                                         'target': obj['spec']['target']['name'], 'object': eso.describe(after)}
            result['changed'] |= action != 'none'
            diff['before']['external_secret'] = eso.describe(before)
            diff['after']['external_secret'] = eso.describe(after)
            # after a change or a force-sync, wait for a sync that happened since, not for the old Ready
            before_version = ((before or {}).get('status') or {}).get('syncedResourceVersion')
            touched = action != 'none'
            if p['force_sync']:
                forced = eso.force_sync_value()
                result.update(force_synced=forced, changed=True)
                touched = True
                if not check:
                    externals.annotate(p['name'], p['namespace'], {eso.FORCE_SYNC: forced})

            def es_synced(name=p['name'], namespace=p['namespace']):
                current = externals.get(name, namespace)
                ok, reason, message = eso.ready(current)
                if touched:
                    ok = eso.synced_since(current, before_version, touched_at)
                return ok, message or reason or '', None
            waiters.append(_rollout.Workload('ExternalSecret', p['name'], p['namespace'], es_synced))
        result['diff'] = diff
        if p['wait'] and not check:
            try:
                _rollout.wait_all(waiters, p['wait_timeout'])
            finally:
                result['waited'] = [w.report() for w in waiters]
        return result


#: the whole argument spec (the docs tests compare it with DOCUMENTATION)
argument_spec = ExternalSecret.argument_spec


def main():
    ExternalSecret().main()


if __name__ == '__main__':
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_secret
short_description: Create, update or delete a Kubernetes Secret from literals, files, env files, TLS or registry credentials
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Ensures the Secret O(namespace)/O(name) holds exactly the keys built from O(data), O(from_files),
    O(from_env_file), O(tls_cert)/O(tls_key) or O(registry) - the cases of
    C(kubectl create secret generic --from-literal/--from-file/--from-env-file), C(kubectl create secret tls) and
    C(kubectl create secret docker-registry), producing the same bytes.
  - Reads the existing Secret and changes only what differs (a strategic merge patch of the changed keys, labels
    and annotations); labels and annotations not named here are kept. A second run with the same input changes
    nothing.
  - Writes carry the C(resourceVersion) that was read; when someone else changed the Secret in between, the API
    answers 409 Conflict and the module reads again and retries.
  - Results and diffs show key names and keyed HMAC fingerprints of the values, never the values.
options:
  namespace:
    description: Namespace of the Secret.
    type: str
    required: true
  name:
    description:
      - Name of the Secret. With O(append_hash), the prefix of the name (see there).
    type: str
    required: true
  data:
    description:
      - Keys and their literal values (C(--from-literal)). Numbers and booleans are stored as their text, maps and
        lists as compact JSON.
    type: dict
  from_files:
    description:
      - Files whose content becomes a key (C(--from-file)), on the host that runs the module.
      - Each entry is a path (the key is the file name), C(key=path), or a dict with C(path) and C(key). A directory
        adds every regular file in it (not recursive; as with kubectl, a file name that is not a valid key is an
        error).
    type: list
    elements: raw
  from_env_file:
    description:
      - Files of C(KEY=value) lines whose variables become keys (C(--from-env-file)), on the host that runs the
        module.
    type: list
    elements: path
  env_file_format:
    description:
      - "V(kubectl) reads env files as kubectl does: values are literal (quotes are kept), C(#) starts a comment
        only at the beginning of a line, and a line with a name alone takes that variable from the environment of
        the module (empty when unset)."
      - V(dotenv) reads them as Docker Compose and python-dotenv do (quotes, C(export), inline comments; no
        interpolation).
    type: str
    choices: [kubectl, dotenv]
    default: kubectl
  type:
    description:
      - The Secret's type. Defaults to C(kubernetes.io/tls) with O(tls_cert), C(kubernetes.io/dockerconfigjson)
        with O(registry), else C(Opaque). Other types (C(kubernetes.io/basic-auth), C(kubernetes.io/ssh-auth))
        take their keys from O(data) or O(from_files).
    type: str
  tls_cert:
    description:
      - PEM certificate (chain) stored as C(tls.crt); the Secret becomes C(kubernetes.io/tls). Give the content,
        for example with C(lookup('file', 'tls.crt')).
    type: str
  tls_key:
    description:
      - PEM private key stored as C(tls.key); it must belong to O(tls_cert) (checked when C(cryptography) is
        installed).
    type: str
  registry:
    description:
      - Registry server for a C(kubernetes.io/dockerconfigjson) Secret (C(.dockerconfigjson)), such as
        C(ghcr.io).
    type: str
  registry_username:
    description: User name for O(registry).
    type: str
  registry_password:
    description: Password or token for O(registry).
    type: str
  registry_email:
    description: E-mail for O(registry) (kept for old registries; optional).
    type: str
  labels:
    description:
      - Labels to set. Labels of the Secret that are not named here are kept.
    type: dict
  annotations:
    description:
      - Annotations to set. Annotations of the Secret that are not named here are kept.
    type: dict
  immutable:
    description:
      - V(true) makes the Secret immutable (kubelets then stop watching it). Its data can no longer change; see
        O(append_hash) and O(force).
    type: bool
  append_hash:
    description:
      - Name the Secret C(<name>-<hash>), the hash being a keyed HMAC of type and data (10 characters, as
        kustomize's secretGenerator names look), so that new content gets a new Secret and workloads move to it
        by a changed reference - the usual pattern with O(immutable=true).
      - The fingerprint key decides the hash; hosts that share it compute the same name.
      - Old hashed Secrets are kept (pods that are still rolling may mount them); O(state=absent) removes every
        Secret hashed from O(name) (they carry the label C(agentarea.secrets/name)).
    type: bool
    default: false
  purge_keys:
    description:
      - Remove keys of the existing Secret that are not given. V(false) only adds and updates the given keys and
        keeps the others (for Secrets filled by several tasks).
    type: bool
    default: true
  force:
    description:
      - Delete and recreate the Secret when a change cannot be made in place (a different O(type), new data for
        an immutable Secret). Without it the module fails and says why.
    type: bool
    default: false
  state:
    description: V(present) creates or updates; V(absent) deletes.
    type: str
    choices: [present, absent]
    default: present
  fingerprint_key:
    description:
      - Key of the HMAC-SHA256 fingerprints in the result and diff (and of the O(append_hash) suffix). Defaults to
        E(AGENTAREA_SECRETS_FINGERPRINT_KEY), then the key file C(~/.config/agentarea-secrets/fingerprint.key) on
        the host that runs the module.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.k8s
attributes:
  check_mode:
    support: full
    description: Reports what would change (keys added, updated, removed) without writing.
  diff_mode:
    support: full
    description: Key names with fingerprints, labels and annotations before and after; never values.
notes:
  - Not in the C(agentarea.secrets.secrets) action group, whose C(module_defaults) carry the options of every
    backend (this module takes only the Kubernetes ones). Set the connection once with E(K8S_AUTH_KUBECONFIG)
    or E(KUBECONFIG) instead.
  - "Run it where the cluster is reachable, usually with C(delegate_to: localhost)."
seealso:
  - module: agentarea.secrets.rollout
  - module: agentarea.secrets.external_secret
  - plugin: agentarea.secrets.k8s
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Opaque Secret from literals (kubectl create secret generic --from-literal)
  agentarea.secrets.k8s_secret:
    namespace: agentarea
    name: agentarea-secrets
    data:
      database-url: "{{ lookup('agentarea.secrets.secret', 'vault://secret/agentarea/database#url') }}"
      jwt-secret: "{{ lookup('agentarea.secrets.secret', 'vault://secret/agentarea/jwt#secret') }}"
    labels:
      app.kubernetes.io/part-of: agentarea
  delegate_to: localhost

- name: From files and an env file (--from-file / --from-env-file)
  agentarea.secrets.k8s_secret:
    namespace: agentarea
    name: agentarea-config-secrets
    from_files:
      - /srv/agentarea/secrets/openai_api_key.txt        # key openai_api_key.txt
      - service-account.json=/srv/agentarea/gcp-sa.json  # key service-account.json
    from_env_file: /srv/agentarea/.env.production
    env_file_format: dotenv

- name: TLS Secret for an Ingress
  agentarea.secrets.k8s_secret:
    namespace: agentarea
    name: agentarea-tls
    tls_cert: "{{ lookup('ansible.builtin.file', 'certs/agentarea.crt') }}"
    tls_key: "{{ lookup('agentarea.secrets.secret', 'vault://secret/agentarea/tls#key') }}"

- name: Pull secret for a private registry
  agentarea.secrets.k8s_secret:
    namespace: agentarea
    name: ghcr-pull
    registry: ghcr.io
    registry_username: agentarea-bot
    registry_password: "{{ lookup('agentarea.secrets.secret', 'vault://secret/ci/ghcr#token') }}"

- name: Immutable, content-addressed Secret; point the Deployment at the name it returns
  agentarea.secrets.k8s_secret:
    namespace: agentarea
    name: agentarea-secrets
    data: {jwt-secret: "{{ jwt_secret }}"}
    immutable: true
    append_hash: true
  register: hashed

- name: Add one key and keep the others
  agentarea.secrets.k8s_secret:
    namespace: agentarea
    name: agentarea-secrets
    data: {openai-api-key: "{{ openai_api_key }}"}
    purge_keys: false
"""

RETURN = r"""
name:
  description: The Secret's name (with the hash suffix when O(append_hash=true)).
  returned: always
  type: str
  sample: agentarea-secrets-7fk2g9c4hb
namespace:
  description: The namespace.
  returned: always
  type: str
action:
  description: C(created), C(updated), C(recreated), C(deleted) or C(none) (what would be done, in check mode).
  returned: always
  type: str
type:
  description: The Secret's type.
  returned: when state is present
  type: str
keys:
  description: The keys the Secret holds (names only).
  returned: when state is present
  type: list
  elements: str
added_keys:
  description: Keys that were (or would be) added.
  returned: when state is present
  type: list
  elements: str
updated_keys:
  description: Keys whose value changed.
  returned: when state is present
  type: list
  elements: str
removed_keys:
  description: Keys that were removed (O(purge_keys=true)).
  returned: when state is present
  type: list
  elements: str
fingerprints:
  description: Keyed fingerprint of each key's value.
  returned: when state is present
  type: dict
  sample: {database-url: "hmac-sha256:3f2a9c0b5e1d47a8b6c2e9f01d3a5b7c"}
resource_version:
  description: The Secret's resourceVersion after the change.
  returned: when it was written
  type: str
uid:
  description: The Secret's uid.
  returned: when it was written
  type: str
conflicts:
  description: How many times a write met a 409 Conflict (someone else changed the Secret) and was retried.
  returned: when state is present
  type: int
deleted:
  description: Names of the Secrets deleted.
  returned: when state is absent
  type: list
  elements: str
"""

from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _k8s_secret as ks
from ansible_collections.agentarea.secrets.plugins.module_utils.distribution._k8s_secret_data import build_data
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule, backend_of
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s._backend import K8sBackend


class K8sSecret(SecretModule):
    NAME = 'k8s_secret'
    OPTIONS = dict(
        namespace=dict(type='str', required=True),
        name=dict(type='str', required=True),
        data=dict(type='dict', no_log=True),
        from_files=dict(type='list', elements='raw'),
        from_env_file=dict(type='list', elements='path'),
        env_file_format=dict(type='str', default='kubectl', choices=['kubectl', 'dotenv']),
        type=dict(type='str'),
        tls_cert=dict(type='str'),
        tls_key=dict(type='str', no_log=True),
        registry=dict(type='str'),
        registry_username=dict(type='str'),
        registry_password=dict(type='str', no_log=True),
        registry_email=dict(type='str'),
        labels=dict(type='dict'),
        annotations=dict(type='dict'),
        immutable=dict(type='bool'),
        append_hash=dict(type='bool', default=False),
        purge_keys=dict(type='bool', default=True, no_log=False),
        force=dict(type='bool', default=False),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )
    STORES = ('k8s',)
    FINGERPRINT_KEY = True

    def __init__(self):
        super(K8sSecret, self).__init__(
            required_together=[('tls_cert', 'tls_key'), ('registry', 'registry_username', 'registry_password')],
        )

    def run(self):
        p = self.params
        fkey = p['fingerprint_key']
        result = self.result = {'changed': False, 'namespace': p['namespace'], 'name': p['name']}
        backend = backend_of(K8sBackend, p)
        if p['state'] == 'absent':
            outcome, objects = ks.ensure_absent(backend, p['namespace'], p['name'], hashed=p['append_hash'],
                                                check_mode=self.check_mode)
            result.update(outcome)
            result['diff'] = {'before': {'secrets': [ks.describe(o, fkey) for o in objects]},
                              'after': {'secrets': []}}
            return result

        data, stype = build_data(p)
        req = ks.SecretRequest(p['namespace'], p['name'], data, stype, labels=p['labels'],
                               annotations=p['annotations'], immutable=p['immutable'], purge=p['purge_keys'],
                               append_hash=p['append_hash'], force=p['force'], fingerprint_key=fkey)
        outcome, before, after = ks.ensure_present(backend, req, check_mode=self.check_mode)
        outcome['action'] = {'create': 'created', 'update': 'updated', 'recreate': 'recreated'}.get(
            outcome['action'], outcome['action'])
        result.update(outcome)
        result['fingerprints'] = dict((k, self.fingerprint(v)) for k, v in sorted(data.items()))
        result['diff'] = {'before': ks.describe(before, fkey, req.name), 'after': ks.describe(after, fkey, req.name)}
        return result


#: the whole argument spec (the docs tests compare it with DOCUMENTATION)
argument_spec = K8sSecret.argument_spec


def main():
    K8sSecret().main()


if __name__ == '__main__':
    main()

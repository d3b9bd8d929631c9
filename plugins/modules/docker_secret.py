#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_secret
short_description: Create and rotate Docker swarm secrets, moving services onto the new version without an outage
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Ensures the swarm secret O(name) holds O(value) (or the content of O(src)).
  - The swarm never returns secret data and refuses to change it, so the secret carries a label with a keyed
    HMAC-SHA256 fingerprint of its value (not a bare hash, which could be checked offline against guesses). An
    unchanged value is recognised by it and nothing is recreated.
  - A changed value becomes a new version, C(<name>_v<N>) (the first version is C(<name>) itself). Each service in
    O(services) is re-pointed to it under the same target file name, so the application keeps reading
    C(/run/secrets/<target>); the module waits until every task of those services runs the new spec, and only then
    removes old versions that no service in the swarm still uses. A version in use is never removed.
options:
  name:
    description:
      - The secret's logical name (the first version's name, and the default target file name in services).
    type: str
    required: true
  value:
    description:
      - The value. Mutually exclusive with O(src); one of them is required with O(state=present).
    type: str
  src:
    description:
      - A file on the host that runs the module whose content is the value (binary content is fine).
    type: path
  labels:
    description:
      - Labels of the secret. Changed labels alone are applied to the current version without a new one.
      - Unset keeps the labels the current version has (a new version inherits them).
    type: dict
  services:
    description:
      - Services to point at the current version. A service that already mounts a version of this secret keeps its
        target file name, owner and mode; one that does not mount it yet gets it as C(/run/secrets/<name>).
    type: list
    elements: str
    default: []
  keep_versions:
    description:
      - Old versions to keep even when no service uses them (for C(docker service rollback)). Versions in use are
        always kept.
    type: int
    default: 0
  wait:
    description:
      - Wait until the re-pointed services converged before removing old versions. With V(false) the versions those
        services used are kept (a later run removes them).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the services to converge.
    type: int
    default: 300
  state:
    description:
      - V(present) creates or rotates; V(absent) removes every version, and fails naming the services while any of
        them is in use.
    type: str
    choices: [present, absent]
    default: present
  fingerprint_key:
    description:
      - Key of the HMAC-SHA256 fingerprint in the label and the result. Defaults to
        E(AGENTAREA_SECRETS_FINGERPRINT_KEY), then the key file C(~/.config/agentarea-secrets/fingerprint.key) on the
        host that runs the module. Use the same key everywhere the secret is managed, or every run looks like a
        change.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.docker
attributes:
  check_mode:
    support: full
    description: Reports the version that would be created, the services that would move and the versions that
      would be removed.
  diff_mode:
    support: full
    description: Version, fingerprint, labels and the versions services use, before and after; never the value.
notes:
  - Talk to a swarm manager (O(docker_host), E(DOCKER_HOST)).
  - A secret created by other tools without the fingerprint label is treated as different once, and rotated.
  - Not in the C(agentarea.secrets.secrets) action group, whose C(module_defaults) carry the options of every
    backend.
seealso:
  - module: agentarea.secrets.rollout
  - module: agentarea.secrets.secret_file
"""

EXAMPLES = r"""
- name: Database password as a swarm secret, and the API moved onto it
  agentarea.secrets.docker_secret:
    name: db_password
    value: "{{ lookup('agentarea.secrets.secret', 'vault://secret/agentarea/database#password') }}"
    services: [agentarea_api, agentarea_worker]
    labels: {owner: platform-team}

- name: From a file, keeping one old version for rollbacks
  agentarea.secrets.docker_secret:
    name: gcp_service_account
    src: /srv/agentarea/gcp-sa.json
    keep_versions: 1

- name: Remove it once nothing uses it
  agentarea.secrets.docker_secret:
    name: legacy_token
    state: absent
"""

RETURN = r"""
name:
  description: The logical name.
  returned: always
  type: str
action:
  description: C(created), C(rotated), C(labels), C(deleted) or C(none).
  returned: always
  type: str
secret_name:
  description: The current version's swarm name (C(<name>) or C(<name>_v<N>)).
  returned: when state is present
  type: str
  sample: db_password_v3
secret_id:
  description: The current version's ID (absent in check mode for a version not created yet).
  returned: when state is present
  type: str
version:
  description: The current version number.
  returned: when state is present
  type: int
fingerprint:
  description: Keyed fingerprint of the value (also the C(agentarea.secrets.fingerprint) label).
  returned: when state is present
  type: str
services:
  description: Per service, whether it was re-pointed, and when waited, C(converged), C(duration) (seconds) and
    C(status).
  returned: when state is present
  type: dict
removed:
  description: Versions removed.
  returned: always
  type: list
  elements: str
kept_in_use:
  description: Old versions kept because services still use them, with those services.
  returned: when state is present
  type: dict
"""

from ansible_collections.agentarea.secrets.plugins.module_utils.distribution import _docker_secret
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule, backend_of
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._docker import DockerBackend


class DockerSecret(SecretModule):
    NAME = 'docker_secret'
    OPTIONS = dict(
        name=dict(type='str', required=True),
        value=dict(type='str', no_log=True),
        src=dict(type='path'),
        labels=dict(type='dict'),
        services=dict(type='list', elements='str', default=[]),
        keep_versions=dict(type='int', default=0),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=300),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )
    STORES = ('docker',)
    FINGERPRINT_KEY = True

    def __init__(self):
        super(DockerSecret, self).__init__(
            mutually_exclusive=[('value', 'src')],
            required_if=[('state', 'present', ('value', 'src'), True)],
        )

    def run(self):
        p = self.params
        result = self.result = {'changed': False, 'name': p['name'], 'removed': []}
        rotation = None
        try:
            backend = backend_of(DockerBackend, p)
            backend.logical_name(parse_ref('docker://%s' % p['name']))  # validates the name
            if p['state'] == 'absent':
                result.update(_docker_secret.remove(backend, p['name'], check_mode=self.check_mode))
                return result
            if p['keep_versions'] < 0:
                self.fail('keep_versions must be 0 or more', **result)
            rotation = _docker_secret.Rotation(
                backend, p['name'], _docker_secret.read_source(p['value'], p['src']), labels=p['labels'],
                services=p['services'], keep_versions=p['keep_versions'], wait=p['wait'], timeout=p['wait_timeout'],
                check_mode=self.check_mode)
            result.update(rotation.run())
        except SecretError:
            if rotation is not None:
                result.update(rotation.result)
            raise
        return result


#: the whole argument spec (the docs tests compare it with DOCUMENTATION)
argument_spec = DockerSecret.argument_spec


def main():
    DockerSecret().main()


if __name__ == '__main__':
    main()

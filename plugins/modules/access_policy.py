#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: access_policy
short_description: Least-privilege Vault, Kubernetes and IAM policies rendered from the secrets catalog
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Renders, from the catalog and a list of identities, the narrowest policy that lets each identity read exactly
    its secrets, and lets a rotation identity read and update them, then applies it idempotently or writes it to
    files for review.
  - "Vault/OpenBao: a policy with C(read) on each secret's C(<mount>/data/<path>) and C(auth/token/lookup-self).
    A rotation identity gets C(create), C(read), C(update) on the data path, C(read), C(update) on the metadata
    path, the rotation slots beside the secret (C(<path>__pending), C(<path>__previous)) and
    C(auth/token/renew-self). Optionally the policy is added to an AppRole role's C(token_policies)."
  - "Kubernetes: in every namespace that holds one of the identity's Secrets (the store C(k8s://ns/name) and the
    catalog's C(k8s) consumers), a Role with C(resourceNames) (verb C(get); C(get), C(update), C(patch) for
    rotation, also on the C(-pending) and C(-previous) slots) and a RoleBinding to the service account, user or
    group. RBAC cannot limit C(create) by name, so a rotation Role that keeps slots also gets C(create) on secrets
    in that namespace. Roles and RoleBindings of the identity left in other namespaces are removed (this needs
    C(list) on roles and rolebindings in all namespaces; without it the module warns and leaves them)."
  - "AWS: an IAM managed policy on the secrets' ARNs with the C(-??????) suffix AWS appends to every secret name
    (C(GetSecretValue), C(DescribeSecret); for rotation also C(PutSecretValue), C(UpdateSecretVersionStage) and
    C(TagResource), C(UntagResource), since the rotation keeps its slots in the C(AWSPENDING) and C(AWSPREVIOUS)
    versions, marked with tags), attached to the identity's role or user and detached from anything else. A
    changed policy becomes a new default version; the oldest versions are deleted so that at most five remain."
  - Objects of the same name that this module did not create (no C(Managed by agentarea.secrets) header, label
    or description) are left alone and reported, unless O(takeover) is set.
  - Rendering reads no secret value; results and diffs hold policies only.
options:
  catalog:
    description:
      - The catalog (C(agentarea_secrets_catalog)); each entry's C(name), C(store), C(consumers), C(owner) and
        C(tags) are used. Entries without a C(store) grant nothing.
    type: list
    elements: dict
    required: true
  identities:
    description:
      - Who reads what. An identity is rendered for each system it has a binding for (O(identities[].vault),
        O(identities[].k8s), O(identities[].aws)).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the identity; policy objects are named O(name_prefix) + this name.
        type: str
        required: true
      secrets:
        description: Catalog entry names (shell-style patterns allowed) this identity uses.
        type: list
        elements: str
      tags:
        description: Entries carrying any of these tags.
        type: list
        elements: str
      owners:
        description: Entries owned by any of these owners.
        type: list
        elements: str
      rotation:
        description:
          - V(true) makes this the rotation identity, allowed to read and update its secrets. Without any selector
            it gets every catalog entry.
        type: bool
        default: false
      vault:
        description:
          - "Vault binding: C(policy) (the policy name; default O(name_prefix) + O(identities[].name)),
            C(approle) (an AppRole role whose C(token_policies) get the policy) and C(approle_mount) (default
            C(approle))."
        type: dict
      k8s:
        description:
          - "Kubernetes binding: C(service_account) with C(namespace), or C(user), or C(group); C(role_name)
            overrides the Role and RoleBinding name. C(namespace) is also the default namespace of catalog
            consumers that name none."
        type: dict
      aws:
        description:
          - "AWS binding: C(role) or C(user) to attach the managed policy to; C(policy) overrides its name."
        type: dict
  systems:
    description: The systems to render and apply.
    type: list
    elements: str
    choices: [vault, k8s, aws]
    default: [vault, k8s, aws]
  state:
    description: V(present) writes the policies; V(absent) removes them (and detaches them).
    type: str
    choices: [present, absent]
    default: present
  output_dir:
    description:
      - Write the policies to files under this directory for review instead of applying them
        (C(vault/<name>.hcl), C(k8s/<namespace>.<kind>.<name>.json), C(aws/<name>.json)). No store is contacted
        except STS, when the AWS account id is needed and not given.
    type: path
  name_prefix:
    description: Prefix of the policy, Role and IAM policy names.
    type: str
    default: agentarea-secrets-
  rotation_slots:
    description:
      - Include the rotation slots kept beside each secret (Vault C(<path>__pending), C(<path>__previous);
        Kubernetes C(<name>-pending), C(<name>-previous)) in the rotation identity's policies.
    type: bool
    default: true
  takeover:
    description: Replace objects of the same name that agentarea.secrets did not create.
    type: bool
    default: false
  aws_account_id:
    description: AWS account of the secrets' ARNs. Looked up with STS when not given.
    type: str
  aws_partition:
    description: AWS partition of the ARNs. Taken from STS when the account is looked up.
    type: str
    default: aws
  iam_path:
    description: Path of the IAM managed policies.
    type: str
    default: /
  # The connection options of Vault, Kubernetes and AWS come from their fragments (below), as the argument spec
  # takes them from the backends. These say how they apply here, where one task talks to several stores.
  ca_cert:
    description:
      - CA certificate file for every store this module talks to (Vault and Kubernetes), kept for compatibility.
        O(vault_ca_cert) and O(k8s_ca_cert) set it for one store only and win over it.
      - Unset, Vault reads E(ANSIBLE_AGENTAREA_SECRETS_VAULT_CA_CERT), then E(VAULT_CACERT); Kubernetes
        E(ANSIBLE_AGENTAREA_SECRETS_K8S_CA_CERT), then E(K8S_AUTH_SSL_CA_CERT).
    type: path
  validate_certs:
    description:
      - Whether to verify TLS certificates, for every store this module talks to (kept for compatibility).
        O(vault_validate_certs) and O(k8s_validate_certs) set it for one store only and win over it.
      - Unset means V(true) (or what the kubeconfig says).
    type: bool
  vault_ca_cert:
    description: CA certificate of the Vault server only.
    type: path
  vault_validate_certs:
    description: Whether to verify Vault's certificate only (V(false) leaves Kubernetes verification on).
    type: bool
  k8s_ca_cert:
    description: CA certificate of the Kubernetes API server only.
    type: path
  k8s_validate_certs:
    description: Whether to verify the Kubernetes API server's certificate only.
    type: bool
  retries:
    description:
      - How many times to retry a request to Vault or AWS that failed for a transient reason (a connection error, a
        timeout, throttling, a server error), with back-off.
      - For Vault also community.hashi_vault's dict form (see the Vault store's O(retries)); AWS takes a count only.
    type: raw
    default: 3
  endpoint_url:
    description:
      - Endpoint of IAM and STS (for emulators). Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AWS_ENDPOINT_URL); unset,
        boto3 resolves E(AWS_ENDPOINT_URL_IAM) / E(AWS_ENDPOINT_URL_STS), then E(AWS_ENDPOINT_URL).
    type: str
extends_documentation_fragment:
  - agentarea.secrets.vault
  - agentarea.secrets.k8s
  - agentarea.secrets.aws
attributes:
  check_mode:
    support: full
    description: Reads the current objects and reports what would change, without writing.
  diff_mode:
    support: full
    description: Shows each changed policy before and after (policies only; they hold no secret values).
notes:
  - Policies are compared as stored, so a second run changes nothing. Vault policies are plain text; the
    Kubernetes comparison covers rules, subjects, roleRef and our labels; IAM documents are compared as JSON.
  - "Vault paths are derived offline: the mount is C(?mount=) or the reference's first segment, KV v2 unless the
    reference says C(?kv_version=1)."
  - Secrets encrypted with a customer-managed KMS key also need C(kms:Decrypt), granted in the key's policy.
  - "The AWS consumer policy does not grant C(BatchGetSecretValue) (it needs C(Resource: *)); the AWS lookup then
    reads its terms one by one."
  - The Kubernetes API server enforces the Roles; the test suite's fake API server stores them without enforcing.
  - Whatever the Vault auth method, its token must be allowed to manage policies (C(sys/policy)) and, with
    O(identities[].vault) naming an AppRole, AppRole roles.
requirements:
  - hvac (Vault), boto3 (AWS), each only for the systems used (Kubernetes needs no SDK)
seealso:
  - module: agentarea.secrets.vault_audit
  - module: agentarea.secrets.secret_scan
"""

EXAMPLES = r"""
- name: Policies for the API, the worker and the rotation job
  agentarea.secrets.access_policy:
    catalog: "{{ agentarea_secrets_catalog }}"
    identities:
      - name: api
        secrets: [database, jwt-secret]
        vault: {approle: agentarea-api}
        k8s: {service_account: agentarea-api, namespace: agentarea}
        aws: {role: agentarea-api}
      - name: rotation
        rotation: true
        vault: {policy: agentarea-rotation}
  delegate_to: localhost
  run_once: true

- name: Write them for review instead
  agentarea.secrets.access_policy:
    catalog: "{{ agentarea_secrets_catalog }}"
    identities: "{{ access_identities }}"
    output_dir: "{{ playbook_dir }}/policies"
    aws_account_id: "123456789012"
    region: eu-west-1
"""

RETURN = r"""
policies:
  description: One item per object, with what was done (or would be, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: C(vault/policy/<name>), C(k8s/Role/<namespace>/<name>), C(aws/iam_policy/<name>).
      type: str
    action:
      description: C(created), C(updated), C(deleted) or C(unchanged).
      type: str
    identity:
      description: The identity the object is for.
      type: str
    secrets:
      description: Names of the catalog entries it grants.
      type: list
      elements: str
    policy:
      description: The rendered policy (HCL or JSON text).
      type: str
    file:
      description: The review file, with O(output_dir).
      type: str
    arn:
      description: ARN of the IAM policy.
      type: str
    attached:
      description: C(attached), C(detached) or C(unchanged) (AppRole role, IAM role or user).
      type: str
  sample:
    - id: vault/policy/agentarea-secrets-api
      action: created
      identity: api
      secrets: [database]
"""

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretAccessDenied, SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule
from ansible_collections.agentarea.secrets.plugins.module_utils.access._policy import SYSTEMS, body_text, object_id, render
from ansible_collections.agentarea.secrets.plugins.module_utils.access._apply import (
    IamPolicies,
    configured_backend,
    iam_endpoint,
    make_writers,
    write_file,
)

IDENTITY = dict(
    name=dict(type='str', required=True),
    secrets=dict(type='list', elements='str', no_log=False),
    tags=dict(type='list', elements='str'),
    owners=dict(type='list', elements='str'),
    rotation=dict(type='bool', default=False),
    vault=dict(type='dict'),
    k8s=dict(type='dict'),
    aws=dict(type='dict'),
)


def aws_location(params, writers):
    """(region, account, partition) for the ARNs; STS fills in what is not given, when it can be reached."""
    account, partition = params['aws_account_id'], params['aws_partition']
    if 'aws' not in params['systems']:
        return None, account, partition
    iam = writers.get('aws') or IamPolicies(configured_backend(params, 'aws'), endpoint_url=iam_endpoint(params))
    region = iam.region
    if not any(i.get('aws') is not None for i in params['identities']):
        return region, account, partition
    if account and region:
        return region, account, partition
    try:
        return iam.discover()
    except SecretError:
        if writers:
            raise
        return region, account, partition  # review files: render() names what is missing, if anything


class AccessPolicy(SecretModule):
    NAME = 'access_policy'
    OPTIONS = dict(
        catalog=dict(type='list', elements='dict', required=True),
        identities=dict(type='list', elements='dict', required=True, options=IDENTITY),
        systems=dict(type='list', elements='str', choices=list(SYSTEMS), default=list(SYSTEMS)),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        output_dir=dict(type='path'),
        name_prefix=dict(type='str', default='agentarea-secrets-'),
        rotation_slots=dict(type='bool', default=True),
        takeover=dict(type='bool', default=False),
        aws_account_id=dict(type='str'),
        aws_partition=dict(type='str', default='aws'),
        iam_path=dict(type='str', default='/'),
    )
    CONNECTIONS = SYSTEMS

    def run(self):
        params = self.params
        state, check = params['state'], self.check_mode
        result = self.result = {'changed': False, 'policies': []}
        diffs = []
        systems = [s for s in SYSTEMS if s in params['systems']]
        writers = {} if params['output_dir'] else make_writers(systems, params, params['takeover'])
        region, account, partition = aws_location(params, writers)
        if 'aws' in writers:
            writers['aws'].account, writers['aws'].partition = account, partition
        objects = render(params['catalog'], params['identities'], systems, params['name_prefix'], region, account,
                         partition, params['rotation_slots'], params['iam_path'])
        if 'k8s' in writers:
            rendered = set(object_id(o) for o in objects)
            for identity in params['identities']:
                if identity.get('k8s') is not None:
                    try:
                        objects.extend(writers['k8s'].stale(identity['name'], rendered))
                    except SecretAccessDenied as exc:
                        self.warn('Roles of identity %s left in other namespaces were not looked for: %s'
                                  % (identity['name'], exc))
        for obj in objects:
            oid = object_id(obj)
            if params['output_dir']:
                done = write_file(obj, params['output_dir'], state, check)
            else:
                done = writers[obj['system']].ensure(obj, state if obj['body'] is not None else 'absent', check)
            item = {'id': oid, 'system': obj['system'], 'kind': obj['kind'], 'name': obj['name'],
                    'namespace': obj.get('namespace'), 'identity': obj['identity'], 'secrets': obj['secrets'],
                    'action': done['action'], 'policy': body_text(obj) if obj['body'] is not None else None}
            for extra in ('file', 'arn', 'attached'):
                if done.get(extra):
                    item[extra] = done[extra]
            result['policies'].append(item)
            if done['action'] != 'unchanged':
                result['changed'] = True
                if done['before'] != done['after']:
                    diffs.append({'before_header': oid, 'after_header': oid,
                                  'before': done['before'] or '', 'after': done['after'] or ''})
        if diffs:
            result['diff'] = diffs
        return result


def main():
    AccessPolicy().main()


if __name__ == '__main__':
    main()

# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply rendered policies (see ``_policy.py``): Vault/OpenBao policies through hvac, Kubernetes Roles and
RoleBindings through the RBAC API, IAM managed policies through boto3; or write them to files for review.

Every writer reads the current object first, compares it with the desired one, writes only when they differ (and
not in check mode), and returns ``{'action': created|updated|deleted|unchanged, 'before': text, 'after': text}``.
An object of the same name that agentarea.secrets did not create is left alone unless ``takeover`` is set.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable,
    InvalidOption,
    SecretAccessDenied,
    SecretConflict,
    SecretError,
    describe_exception,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._fileio import atomic_write
from ansible_collections.agentarea.secrets.plugins.module_utils.access._policy import (
    LABEL_IDENTITY,
    MANAGED_BY,
    body_text,
    k8s_name,
    object_id,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import backend_options
from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class

#: where a task gives the IAM/STS endpoint itself; otherwise boto3 resolves AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL
ENDPOINT_ENV = 'ANSIBLE_AGENTAREA_SECRETS_AWS_ENDPOINT_URL'

MARK = '# Managed by agentarea.secrets'
IAM_DESCRIPTION = 'Managed by agentarea.secrets (access_policy)'
IAM_MAX_VERSIONS = 5


def _result(action, before=None, after=None):
    return {'action': action, 'before': before, 'after': after}


def _not_ours(obj, why):
    return SecretConflict('%s exists and was not created by agentarea.secrets (%s); rename the identity\'s '
                          'policy, remove the object, or set takeover' % (object_id(obj), why), backend=obj['system'])


def _desired(before, after, state, check_mode, write, delete):
    """The common compare-then-write step."""
    if state == 'absent':
        if before is None:
            return _result('unchanged')
        if not check_mode:
            delete()
        return _result('deleted', before, None)
    if before == after:
        return _result('unchanged', before, after)
    if not check_mode:
        write(before is None)
    return _result('created' if before is None else 'updated', before, after)


# -- Vault ----------------------------------------------------------------------------------------------------
class VaultPolicies:
    """Policies through the Vault backend's client: logged in with any of its auth methods."""

    def __init__(self, backend, takeover=False):
        self.backend = backend
        self.takeover = takeover
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = self.backend.client()
        return self._client

    def _call(self, what, func, *args, **kwargs):
        import hvac.exceptions  # pylint: disable=import-outside-toplevel
        try:
            return func(*args, **kwargs)
        except hvac.exceptions.InvalidPath:
            return None
        except hvac.exceptions.Forbidden as exc:
            raise SecretAccessDenied('%s: the token may not do this (%s)' % (what, describe_exception(exc)),
                                     backend='vault')
        except Exception as exc:  # pylint: disable=broad-except
            raise BackendUnavailable('%s failed: %s' % (what, describe_exception(exc)), backend='vault')

    def ensure(self, obj, state, check_mode):
        name = obj['name']
        resp = self._call('reading policy %s' % name, self.client.sys.read_policy, name)
        before = ((resp or {}).get('data') or resp or {}).get('rules') if resp else None
        if before is not None and not before.startswith(MARK) and not self.takeover:
            raise _not_ours(obj, 'no "%s" header' % MARK)
        result = _desired(before, obj['body'], state, check_mode,
                          lambda new: self._call('writing policy %s' % name, self.client.sys.create_or_update_policy,
                                                 name, obj['body']),
                          lambda: self._call('deleting policy %s' % name, self.client.sys.delete_policy, name))
        if obj.get('attach'):
            result['attached'] = self._attach(obj, state, check_mode)
            if result['attached'] != 'unchanged' and result['action'] == 'unchanged':
                result['action'] = 'updated'
        return result

    def _attach(self, obj, state, check_mode):
        """Add (or remove) the policy in the AppRole role's ``token_policies``, keeping the others."""
        role, mount = obj['attach']['approle'], obj['attach']['mount']
        approle = self.client.auth.approle
        data = self._call('reading AppRole role %s' % role, approle.read_role, role, mount_point=mount)
        if data is None:
            raise InvalidOption("AppRole role '%s' does not exist at auth/%s" % (role, mount), backend='vault')
        current = list((data.get('data') or {}).get('token_policies') or [])
        wanted = [p for p in current if p != obj['name']] + ([obj['name']] if state == 'present' else [])
        if sorted(wanted) == sorted(current):
            return 'unchanged'
        if not check_mode:
            self._call('updating AppRole role %s' % role, approle.create_or_update_approle, role,
                       token_policies=wanted, mount_point=mount)
        return 'attached' if state == 'present' else 'detached'


# -- Kubernetes -----------------------------------------------------------------------------------------------
def _k8s_view(obj):
    """The part of a Role/RoleBinding we manage, normalised for comparison."""
    if obj is None:
        return None
    view = {'labels': dict((k, v) for k, v in ((obj.get('metadata') or {}).get('labels') or {}).items()
                           if k.startswith('app.kubernetes.io/managed-by') or k.startswith('secrets.agentarea.io/'))}
    if obj.get('kind') == 'Role' or 'rules' in obj:
        view['rules'] = [dict((k, sorted(v) if isinstance(v, list) else v) for k, v in sorted(rule.items()) if v)
                         for rule in obj.get('rules') or []]
    else:
        view['subjects'] = [dict((k, v) for k, v in sorted(s.items()) if v) for s in obj.get('subjects') or []]
        view['roleRef'] = obj.get('roleRef')
    return json.dumps(view, indent=2, sort_keys=True) + '\n'


class K8sRbac:
    """Roles and RoleBindings through the Kubernetes backend's REST client."""

    def __init__(self, backend, takeover=False):
        self.backend = backend
        self.takeover = takeover
        self._api = None

    @property
    def api(self):
        if self._api is None:
            self._api = self.backend.api('rbac')
        return self._api

    def _call(self, what, func, *args, **kwargs):
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s._client import (  # pylint: disable=import-outside-toplevel
            ApiError,
        )
        kwargs.setdefault('_request_timeout', self.backend.options.get('timeout') or 30)
        try:
            return func(*args, **kwargs)
        except SecretError:
            raise
        except ApiError as exc:
            if exc.status == 404:
                return None
            if exc.status in (401, 403):
                raise SecretAccessDenied('%s: denied (%s)' % (what, describe_exception(exc)), backend='k8s')
            if exc.status == 409:
                raise SecretConflict('%s: changed meanwhile, run again (%s)' % (what, describe_exception(exc)),
                                     backend='k8s')
            raise BackendUnavailable('%s failed: %s' % (what, describe_exception(exc)), backend='k8s')
        except Exception as exc:  # pylint: disable=broad-except
            raise BackendUnavailable('%s failed: %s' % (what, describe_exception(exc)), backend='k8s')

    def ensure(self, obj, state, check_mode):
        kind, ns, name = obj['kind'], obj['namespace'], obj['name']
        suffix = 'role' if kind == 'Role' else 'role_binding'
        api = self.api
        what = '%s %s/%s' % (kind, ns, name)
        current = self._call('reading ' + what, getattr(api, 'read_namespaced_' + suffix), name, ns)
        if current is not None:
            labels = (current.get('metadata') or {}).get('labels') or {}
            if labels.get('app.kubernetes.io/managed-by') != MANAGED_BY and not self.takeover:
                raise _not_ours(obj, 'no app.kubernetes.io/managed-by=%s label' % MANAGED_BY)
        before, after = _k8s_view(current), _k8s_view(obj['body'])

        def write(new):
            body = json.loads(json.dumps(obj['body']))
            if new:
                return self._call('creating ' + what, getattr(api, 'create_namespaced_' + suffix), ns, body)
            if kind == 'RoleBinding' and current.get('roleRef') != body['roleRef']:
                # roleRef is immutable: replace the binding
                self._call('deleting ' + what, api.delete_namespaced_role_binding, name, ns)
                return self._call('creating ' + what, api.create_namespaced_role_binding, ns, body)
            body['metadata']['resourceVersion'] = current['metadata'].get('resourceVersion')
            return self._call('replacing ' + what, getattr(api, 'replace_namespaced_' + suffix), name, ns, body)

        return _desired(before, after, state, check_mode, write,
                        lambda: self._call('deleting ' + what, getattr(api, 'delete_namespaced_' + suffix), name, ns))

    def stale(self, identity, keep):
        """Managed Roles/RoleBindings of ``identity`` that are not in ``keep`` (ids): left behind when its secrets
        moved out of a namespace, or when it was renamed. Listing needs cluster-wide ``list`` on both kinds."""
        selector = 'app.kubernetes.io/managed-by=%s,%s=%s' % (MANAGED_BY, LABEL_IDENTITY, k8s_name(identity))
        found = []
        for kind, lister in (('Role', self.api.list_role_for_all_namespaces),
                             ('RoleBinding', self.api.list_role_binding_for_all_namespaces)):
            listing = self._call('listing %ss of identity %s' % (kind, identity), lister, label_selector=selector)
            for item in (listing or {}).get('items') or []:
                meta = item.get('metadata') or {}
                obj = {'system': 'k8s', 'kind': kind, 'namespace': meta.get('namespace'),
                       'name': meta.get('name'), 'identity': identity, 'secrets': [], 'body': None, 'attach': None}
                if object_id(obj) not in keep:
                    found.append(obj)
        return found


# -- AWS IAM --------------------------------------------------------------------------------------------------
def _doc_text(doc):
    if doc is None:
        return None
    if isinstance(doc, str):
        from urllib.parse import unquote  # pylint: disable=import-outside-toplevel
        doc = json.loads(unquote(doc) if doc.lstrip().startswith('%') else doc)
    return json.dumps(doc, indent=2, sort_keys=True) + '\n'


class IamPolicies:
    """IAM managed policies through the AWS backend's session (profile, keys, assumed role). ``endpoint_url`` is
    the IAM/STS endpoint the task gave, if any (the backend's own is the Secrets Manager one)."""

    def __init__(self, backend, takeover=False, endpoint_url=None, account=None, partition='aws'):
        self.backend = backend
        self.takeover = takeover
        self.endpoint_url = endpoint_url
        self._clients = None
        self.account = account
        self.partition = partition or 'aws'
        self.region = backend.options.get('region') if backend is not None else None

    def _call(self, what, func, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError  # pylint: disable=import-outside-toplevel
        try:
            return func(**kwargs)
        except ClientError as exc:
            code = (exc.response.get('Error') or {}).get('Code')
            if code == 'NoSuchEntity':
                return None
            if code in ('AccessDenied', 'AccessDeniedException', '403', 'UnauthorizedOperation'):
                raise SecretAccessDenied('%s: denied (%s)' % (what, code), backend='aws')
            raise BackendUnavailable('%s failed: %s' % (what, code or describe_exception(exc)), backend='aws')
        except BotoCoreError as exc:
            raise BackendUnavailable('%s failed: %s' % (what, describe_exception(exc)), backend='aws')

    def clients(self):
        if self._clients is None:
            # pylint: disable-next=import-outside-toplevel
            from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._auth import make_session
            backend = self.backend
            backend.validate()
            try:
                session = make_session(backend.options, backend.cache, backend.identity(), os.environ)
            except SecretError:
                raise
            except Exception as exc:  # pylint: disable=broad-except
                raise BackendUnavailable('connecting to AWS failed: %s' % describe_exception(exc), backend='aws')
            kw = {'endpoint_url': self.endpoint_url} if self.endpoint_url else {}
            self._clients = (session.client('iam', **kw), session.client('sts', **kw))
            self.region = self.region or session.region_name
        return self._clients

    def discover(self):
        """Fill in the account id (and partition) from STS when not given; the region from the session."""
        iam, sts = self.clients()
        if not self.account:
            ident = self._call('sts:GetCallerIdentity', sts.get_caller_identity)
            self.account = ident['Account']
            self.partition = ident['Arn'].split(':')[1]
        return self.region, self.account, self.partition

    def arn(self, obj):
        return 'arn:%s:iam::%s:policy%s%s' % (self.partition, self.account, obj.get('path') or '/', obj['name'])

    def ensure(self, obj, state, check_mode):
        iam = self.clients()[0]
        arn = self.arn(obj)
        meta = self._call('iam:GetPolicy %s' % obj['name'], iam.get_policy, PolicyArn=arn)
        policy = (meta or {}).get('Policy')
        before = None
        if policy:
            if not (policy.get('Description') or '').startswith(IAM_DESCRIPTION) and not self.takeover:
                raise _not_ours(obj, 'its description does not start with "%s"' % IAM_DESCRIPTION)
            version = self._call('iam:GetPolicyVersion', iam.get_policy_version, PolicyArn=arn,
                                 VersionId=policy['DefaultVersionId'])
            before = _doc_text(version['PolicyVersion']['Document'])
        after = _doc_text(obj['body'])
        document = json.dumps(obj['body'], sort_keys=True)

        def write(new):
            if new:
                self._call('iam:CreatePolicy %s' % obj['name'], iam.create_policy, PolicyName=obj['name'],
                           Path=obj.get('path') or '/', PolicyDocument=document,
                           Description='%s for identity %s' % (IAM_DESCRIPTION, obj['identity']))
                return
            self.prune(arn, keep=IAM_MAX_VERSIONS - 2)  # + the current default + the new one
            self._call('iam:CreatePolicyVersion %s' % obj['name'], iam.create_policy_version, PolicyArn=arn,
                       PolicyDocument=document, SetAsDefault=True)

        def delete():
            for kind, name in self.attached(arn):
                self._call('iam:Detach%sPolicy' % kind, getattr(iam, 'detach_%s_policy' % kind.lower()),
                           PolicyArn=arn, **{kind + 'Name': name})
            self.prune(arn, keep=0)
            self._call('iam:DeletePolicy %s' % obj['name'], iam.delete_policy, PolicyArn=arn)

        result = _desired(before, after, state, check_mode, write, delete)
        result['arn'] = arn
        if state == 'present':
            attached = self._attach(obj, arn, check_mode, exists=policy is not None)
            result['attached'] = attached
            if attached != 'unchanged' and result['action'] == 'unchanged':
                result['action'] = 'updated'
        return result

    def attached(self, arn):
        """(``Role``|``User``, name) of every entity the policy is attached to."""
        iam = self.clients()[0]
        found, marker = [], None
        while True:
            kw = {'PolicyArn': arn}
            if marker:
                kw['Marker'] = marker
            page = self._call('iam:ListEntitiesForPolicy', iam.list_entities_for_policy, **kw) or {}
            found += [('Role', r['RoleName']) for r in page.get('PolicyRoles') or []]
            found += [('User', u['UserName']) for u in page.get('PolicyUsers') or []]
            marker = page.get('Marker') if page.get('IsTruncated') else None
            if not marker:
                return found

    def _attach(self, obj, arn, check_mode, exists):
        """Attach to the identity's role/user and detach from anything else: the policy is the identity's."""
        iam = self.clients()[0]
        wanted = set(('Role' if k == 'role' else 'User', v) for k, v in (obj.get('attach') or {}).items())
        current = set(self.attached(arn)) if exists else set()
        if wanted == current:
            return 'unchanged'
        if not check_mode:
            for kind, name in sorted(current - wanted):
                self._call('iam:Detach%sPolicy' % kind, getattr(iam, 'detach_%s_policy' % kind.lower()),
                           PolicyArn=arn, **{kind + 'Name': name})
            for kind, name in sorted(wanted - current):
                self._call('iam:Attach%sPolicy' % kind, getattr(iam, 'attach_%s_policy' % kind.lower()),
                           PolicyArn=arn, **{kind + 'Name': name})
        return 'attached'

    def prune(self, arn, keep):
        """Delete the oldest non-default versions until at most ``keep`` of them remain (IAM keeps five in all)."""
        iam = self.clients()[0]
        listing = self._call('iam:ListPolicyVersions', iam.list_policy_versions, PolicyArn=arn) or {}
        old = sorted((v for v in listing.get('Versions') or [] if not v.get('IsDefaultVersion')),
                     key=lambda v: (str(v.get('CreateDate')), v['VersionId']))
        deleted = []
        while len(old) > keep:
            version = old.pop(0)
            self._call('iam:DeletePolicyVersion', iam.delete_policy_version, PolicyArn=arn,
                       VersionId=version['VersionId'])
            deleted.append(version['VersionId'])
        return deleted


# -- files ----------------------------------------------------------------------------------------------------
def file_name(obj):
    if obj['system'] == 'vault':
        return os.path.join('vault', obj['name'] + '.hcl')
    if obj['system'] == 'k8s':
        return os.path.join('k8s', '%s.%s.%s.json' % (obj['namespace'], obj['kind'].lower(), obj['name']))
    return os.path.join('aws', obj['name'] + '.json')


def write_file(obj, output_dir, state, check_mode):
    """Write (or remove) the object as a review file under ``output_dir``; the same compare-then-write rules."""
    path = os.path.join(output_dir, file_name(obj))
    try:
        with open(path, 'r') as handle:
            before = handle.read()
    except (IOError, OSError):
        before = None
    result = _desired(before, body_text(obj), state, check_mode,
                      lambda new: atomic_write(path, body_text(obj), mode=0o644, backend='access_policy'),
                      lambda: os.unlink(path))
    result['file'] = path
    return result


WRITERS = {'vault': VaultPolicies, 'k8s': K8sRbac, 'aws': IamPolicies}


def configured_backend(params, system):
    """The backend of ``system`` configured from a module's parameters as every module configures it (per-store
    forms of shared options win; the plain form applies to every store; unset options from the environment)."""
    cls = backend_class(system)
    backend = cls(backend_options(params, cls, None))
    backend.validate()
    return backend


def iam_endpoint(params, environ=None):
    """The IAM/STS endpoint the task gave (``endpoint_url`` or ANSIBLE_AGENTAREA_SECRETS_AWS_ENDPOINT_URL); None
    lets boto3 resolve AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL itself."""
    env = os.environ if environ is None else environ
    return params.get('endpoint_url') or env.get(ENDPOINT_ENV) or None


def make_writers(systems, params, takeover=False):
    """One writer per system, each on its configured backend."""
    writers = {}
    for system in systems:
        if system == 'aws':
            writers[system] = IamPolicies(configured_backend(params, 'aws'), takeover, iam_endpoint(params),
                                          params.get('aws_account_id'), params.get('aws_partition'))
        else:
            writers[system] = WRITERS[system](configured_backend(params, system), takeover)
    return writers

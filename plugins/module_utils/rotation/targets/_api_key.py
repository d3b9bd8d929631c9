# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""API keys of a third party, registered and revoked by hooks given as options.

``target.register``, ``target.test`` and ``target.revoke`` are each either a command or an HTTP call::

    register: {command: [/usr/local/bin/issue-key, --name, agentarea]}
    test:     {url: "https://api.example.com/v1/me", headers: {Authorization: "Bearer {secret}"}, status_codes: [200]}
    revoke:   {url: "https://api.example.com/v1/keys/revoke", method: POST, body: {key: "{secret}"}}

``{secret}`` is the key the call is about (the new key for register/test, the old one for revoke, the new one
when a failed rotation is rolled back); ``{new}``, ``{old}`` and ``{fingerprint}`` are there too. A command gets
the key on stdin and in ``AGENTAREA_ROTATION_SECRET`` (never in its arguments, which ``ps`` shows), the action
in ``AGENTAREA_ROTATION_ACTION``, and succeeds with exit code 0. Errors name the hook, the host and the status,
never a URL path or a body. The old key stays valid until the contract step revokes it (``single``: right after
finish).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess

from urllib.error import HTTPError, URLError
from urllib.parse import urlparse

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import (
    Target,
    TargetRejected,
    TargetUnavailable,
)


def _fill(template, fields):
    if isinstance(template, str):
        out = template
        for name, val in fields.items():
            out = out.replace('{%s}' % name, '' if val is None else str(val))
        return out
    if isinstance(template, dict):
        return dict((_fill(k, fields), _fill(v, fields)) for k, v in template.items())
    if isinstance(template, list):
        return [_fill(v, fields) for v in template]
    return template


# env, url, headers and body carry the provider's admin tokens: never shown, the result's invocation included
HOOK_OPTIONS = dict(
    command=dict(type='list', elements='str'),
    env=dict(type='dict', no_log=True),
    url=dict(type='str', no_log=True),
    method=dict(type='str'),
    headers=dict(type='dict', no_log=True),
    body=dict(type='raw', no_log=True),
    status_codes=dict(type='list', elements='int', default=[200, 201, 202, 204]),
    timeout=dict(type='int', default=30),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path'),
)


class ApiKeyTarget(Target):
    KIND = 'api_key'
    STRATEGIES = ('single', 'overlap')
    DEFAULT_POLICY = {'kind': 'base64url', 'bits': 256}
    OPTIONS = dict(
        register=dict(type='dict', options=HOOK_OPTIONS),
        test=dict(type='dict', options=HOOK_OPTIONS),
        revoke=dict(type='dict', options=HOOK_OPTIONS),
    )

    def hook(self, name):
        spec = self.opt(name)
        if spec and not (spec.get('command') or spec.get('url')):
            raise InvalidOption('target.%s needs a command or a url' % name)
        return spec or None

    def prepare(self, current):
        if not self.hook('register'):
            raise InvalidOption('kind api_key needs target.register (a command or an HTTP call)')
        if not self.hook('revoke'):
            self.note('no target.revoke: old keys are not revoked at the provider')
        if not self.hook('test'):
            self.note('no target.test: the new key is registered but not tested')
        return current

    def new_value(self, current, policy):
        return self.generate(policy)

    def call(self, name, secret, new=None, old=None):
        spec = self.hook(name)
        fields = {'secret': secret, 'new': new, 'old': old,
                  'fingerprint': self.fingerprint(secret) if self.fingerprint else ''}
        if spec.get('command'):
            return self._command(name, spec, secret)
        return self._http(name, spec, fields)

    def _command(self, name, spec, secret):
        argv = [str(a) for a in spec['command']]
        env = dict(os.environ)
        env.update(dict((str(k), str(v)) for k, v in (spec.get('env') or {}).items()))
        env.update(AGENTAREA_ROTATION_SECRET=secret, AGENTAREA_ROTATION_ACTION=name)
        try:
            proc = subprocess.run(argv, input=secret.encode('utf-8'), stdout=subprocess.PIPE, check=False,
                                  stderr=subprocess.PIPE, env=env, timeout=int(spec.get('timeout') or 30))
        except OSError as exc:
            raise TargetUnavailable('target.%s: cannot run %s (%s)' % (name, argv[0], type(exc).__name__))
        except subprocess.TimeoutExpired:
            raise TargetUnavailable('target.%s: %s did not finish in time' % (name, argv[0]))
        return proc.returncode == 0, 'exit code %d' % proc.returncode

    def _http(self, name, spec, fields):
        from ansible.module_utils.urls import open_url
        url = _fill(spec['url'], fields)
        host = urlparse(spec['url']).hostname or '?'
        body = spec.get('body')
        headers = _fill(spec.get('headers') or {}, fields)
        if isinstance(body, (dict, list)):
            body = json.dumps(_fill(body, fields))
            headers.setdefault('Content-Type', 'application/json')
        elif body is not None:
            body = _fill(str(body), fields)
        method = spec.get('method') or ('POST' if body is not None else 'GET')
        expected = spec.get('status_codes') or [200, 201, 202, 204]
        try:
            resp = open_url(url, data=body, headers=headers, method=method, timeout=int(spec.get('timeout') or 30),
                            validate_certs=spec.get('validate_certs', True), ca_path=spec.get('ca_path'))
            status = resp.getcode()
        except HTTPError as exc:
            status = exc.code
        except (URLError, OSError) as exc:
            raise TargetUnavailable('target.%s: cannot reach %s (%s)' % (name, host, type(exc).__name__))
        return status in expected, 'HTTP %s from %s' % (status, host)

    def apply(self, new, old):
        self.touched = True
        ok, how = self.call('register', new, new=new, old=old)
        if not ok:
            raise TargetRejected('target.register failed: %s' % how)

    def check(self, value, login_only=False):
        if not self.hook('test'):
            return True
        ok, how = self.call('test', value, new=value)
        if not ok:
            self.note('target.test: %s' % how)
        return ok

    def revert(self, new, old, previous=None):
        if not self.hook('revoke'):
            self.note('no target.revoke: the new key stays registered at the provider')
            return
        ok, how = self.call('revoke', new, new=new, old=old)
        if not ok:
            raise TargetRejected('target.revoke of the new key failed: %s' % how)

    def contract(self, previous, current):
        if not self.hook('revoke') or previous in (None, '') or previous == current:
            return None
        self.touched = True
        ok, how = self.call('revoke', previous, new=current, old=previous)
        if not ok:
            raise TargetRejected('target.revoke of the old key failed: %s' % how)
        return None

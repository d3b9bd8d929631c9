# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vault's file audit device: list, enable or disable it through the API where the server allows that, and say
clearly when it does not.

OpenBao (2.x) manages audit devices only declaratively: ``sys/audit/<path>`` answers 400 "cannot enable audit
device via API" (and "cannot disable configuration-managed audit device"), unless the server configuration sets
``unsafe_allow_api_audit_creation``. Those answers are turned into :class:`AuditDeviceRefused`, which carries the
HCL block to add to the server configuration.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable,
    InvalidOption,
    NotSupported,
    SecretAccessDenied,
    describe_exception,
)

REFUSALS = ('cannot enable audit device via api', 'cannot disable configuration-managed audit device',
            'declarative')


class AuditDeviceRefused(NotSupported):
    """The server manages audit devices in its configuration file only."""

    def __init__(self, cause, declaration=None):
        self.declaration = declaration
        super(AuditDeviceRefused, self).__init__(cause, backend='vault')


def declaration(path, file_path):
    """The server-configuration block that declares a file audit device (OpenBao, and Vault's ``audit`` stanza)."""
    return 'audit "file" %s {\n  options {\n    file_path = %s\n  }\n}\n' % (
        json.dumps(path.strip('/')), json.dumps(file_path or '/var/log/bao/audit.log'))


def _call(what, func, *args, **kwargs):
    import hvac.exceptions  # pylint: disable=import-outside-toplevel
    try:
        return func(*args, **kwargs)
    except hvac.exceptions.Forbidden as exc:
        raise SecretAccessDenied('%s: the token may not manage audit devices (it needs sudo on sys/audit; %s)'
                                 % (what, describe_exception(exc)), backend='vault')
    except hvac.exceptions.InvalidRequest as exc:
        if any(r in str(exc).lower() for r in REFUSALS):
            raise AuditDeviceRefused('%s: the server refuses to manage audit devices through the API' % what)
        raise BackendUnavailable('%s failed: %s' % (what, describe_exception(exc)), backend='vault')
    except Exception as exc:  # pylint: disable=broad-except
        raise BackendUnavailable('%s failed: %s' % (what, describe_exception(exc)), backend='vault')


def devices(client):
    """Every enabled audit device: path, type, file_path (file devices), local, description."""
    resp = _call('listing audit devices', client.sys.list_enabled_audit_devices)
    data = resp.get('data', resp) if isinstance(resp, dict) else {}
    out = []
    for path, dev in sorted(data.items()):
        if not isinstance(dev, dict) or 'type' not in dev:
            continue
        options = dev.get('options') or {}
        out.append({'path': path.strip('/'), 'type': dev['type'], 'file_path': options.get('file_path'),
                    'local': bool(dev.get('local')), 'description': dev.get('description') or ''})
    return out


def ensure(client, path, file_path, state, check_mode, description=''):
    """Bring the file audit device at ``path`` to ``state``. Returns ``(changed, device or None)``; raises
    AuditDeviceRefused (with the declaration) when the server manages audit devices in its configuration only."""
    path = path.strip('/')
    found = dict((d['path'], d) for d in devices(client))
    current = found.get(path)
    if state == 'absent':
        if current is None:
            return False, None
        if not check_mode:
            try:
                _call('disabling audit device %s' % path, client.sys.disable_audit_device, path)
            except AuditDeviceRefused as exc:
                raise AuditDeviceRefused('%s; remove its "audit" block from the server configuration' % exc.cause)
        return True, None
    if current is not None:
        if current['type'] != 'file':
            raise InvalidOption("audit device '%s' is of type %s, not file" % (path, current['type']), backend='vault')
        if file_path and current['file_path'] != file_path:
            raise InvalidOption("audit device '%s' writes to %s, not %s; it is not replaced (an audit device "
                                "cannot be changed in place: disable it first)"
                                % (path, current['file_path'], file_path), backend='vault')
        return False, current
    if not file_path:
        raise InvalidOption("no audit device is enabled at '%s'; give file_path to enable one" % path,
                            backend='vault')
    wanted = {'path': path, 'type': 'file', 'file_path': file_path, 'local': False, 'description': description}
    if check_mode:
        return True, wanted
    try:
        _call('enabling audit device %s' % path, client.sys.enable_audit_device, 'file', description=description or None,
              path=path, options={'file_path': file_path})
    except AuditDeviceRefused as exc:
        raise AuditDeviceRefused('%s ("cannot enable audit device via API"): declare it in the server configuration '
                                 'and restart the server' % exc.cause, declaration(path, file_path))
    return True, wanted


def probe(client, file_path):
    """Whether a harmless request (token lookup-self) adds to ``file_path`` on this host; None when the file is
    not readable here (Vault runs elsewhere)."""
    try:
        before = os.path.getsize(file_path)
    except OSError:
        return None
    _call('token lookup-self', client.auth.token.lookup_self)
    try:
        return os.path.getsize(file_path) > before
    except OSError:
        return None

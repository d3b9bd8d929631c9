# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emergency revocation: cut a leaked credential off where it is used, now.

- Vault/OpenBao: tokens by accessor, every token of a role, leases (and auth tokens) by prefix.
- AWS IAM: the access keys of a user, deactivated or deleted, except those kept: ``_revoke_iam.py``.
- Database sessions of a leaked user: ``_revoke_sessions.py``.

Every step first finds what there is to revoke (read-only: that is all check mode does), then revokes exactly
that, so ``changed`` means something was revoked and a second run finds nothing. Results hold identifiers that
cannot be used to authenticate (token accessors, lease ids, access key ids, session ids) and counts; never a
token, a password or a key secret. One failing step does not stop the others: errors are collected and the
module fails at the end, after revoking everything it could.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.agentarea.secrets.plugins.module_utils.core._audit import AuditLog
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    SecretAccessDenied,
    SecretError,
    SecretNotFound,
    describe_exception,
)

#: at most this many ids are listed per item (the counts are always exact)
MAX_IDS = 100
SUMMARY = ('vault_tokens', 'vault_leases', 'aws_access_keys', 'db_sessions', 'logins_disabled')
#: token metadata fields that name the role (approle; jwt, oidc, kubernetes; userpass; cert)
ROLE_META = ('role_name', 'role', 'username', 'cert_name')


def error_text(exc):
    """Typed errors carry value-free messages; anything else is reduced to its class and status."""
    return str(exc) if isinstance(exc, SecretError) else describe_exception(exc)


class Report:
    """What was revoked (in check mode: what would be): summary counts, ``changed``, errors, audit events."""

    def __init__(self, check_mode=False, audit=None):
        self.check_mode = check_mode
        self.audit = audit if audit is not None else AuditLog(None)
        self.summary = dict.fromkeys(SUMMARY, 0)
        self.errors = []
        self.changed = False
        self.notes = []

    def state(self, count):
        """``none`` when nothing was found; else ``would_revoke`` (check mode) or ``revoked``."""
        if count == 0:
            return 'none'
        return 'would_revoke' if self.check_mode else 'revoked'

    def done(self, counter, count, action, **event):
        """``count`` things revoked (``None``: an unknown number, still a change)."""
        if count == 0:
            return
        self.changed = True
        if count is not None:
            self.summary[counter] += count
        if not self.check_mode:
            self.audit.emit(action, 'revoked', count=count, **event)

    def failed(self, what, exc, action, item=None, **event):
        text = '%s: %s' % (what, error_text(exc))
        self.errors.append(text)
        if item is not None:
            item.update(state='failed', error=error_text(exc))
        if not self.check_mode:
            self.audit.emit(action, 'failed', error=error_text(exc), **event)
        return item

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)


def capped(ids):
    return list(ids[:MAX_IDS])


# -- Vault / OpenBao ----------------------------------------------------------------------------------------------
class VaultRevoker:
    """Revocations through the Vault backend's client (its connection, login, namespace and error mapping)."""

    def __init__(self, backend, report):
        self.backend = backend
        self.report = report
        self._self_accessor = False  # not looked up yet

    def _hvac(self):
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._client import import_hvac
        hvac, requests, _retry = import_hvac()
        return hvac, requests

    def call(self, what, func, *args, **kwargs):
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._client import map_error
        hvac, requests = self._hvac()
        try:
            return func(*args, **kwargs)
        except (hvac.exceptions.VaultError, requests.exceptions.RequestException) as exc:
            raise map_error(exc, self.backend.where(what=what)) from None

    @property
    def client(self):
        return self.backend.client()

    # -- finding ------------------------------------------------------------------------------------------------
    def lookup(self, accessor):
        """The token's properties, or None when the accessor names no live token."""
        try:
            return self.call('looking up a token accessor', self._lookup_raw, accessor)
        except SecretNotFound:
            return None

    def _lookup_raw(self, accessor):
        hvac, _requests = self._hvac()
        try:
            return self.client.auth.token.lookup_accessor(accessor)['data']
        except (hvac.exceptions.InvalidRequest, hvac.exceptions.InvalidPath) as exc:
            # Vault answers 400 "invalid accessor" for a revoked or expired token
            if 'invalid accessor' in ' '.join(str(e) for e in (exc.errors or [])).lower() or \
                    isinstance(exc, hvac.exceptions.InvalidPath):
                raise SecretNotFound('no live token has this accessor', backend='vault') from None
            raise

    def self_accessor(self):
        """The accessor of this task's own token (None when it may not look itself up)."""
        if self._self_accessor is False:
            try:
                data = self.call('looking up the token of this task', self.client.auth.token.lookup_self)
                self._self_accessor = (data.get('data') or {}).get('accessor')
            except SecretError:
                self._self_accessor = None
        return self._self_accessor

    def leases(self, prefix):
        """Lease ids under ``prefix`` (or ``[prefix]`` when it is one lease id); None when listing is denied."""
        found = []
        try:
            self._walk(prefix + '/', found)
        except SecretAccessDenied:
            return None
        if not found:
            lease_id = self.call('looking up lease %s' % prefix, self._read_lease_raw, prefix)
            if lease_id:
                found.append(lease_id)
        return found

    def _read_lease_raw(self, lease_id):
        """The id when ``lease_id`` is one live lease, else None."""
        hvac, _requests = self._hvac()
        try:
            return (self.client.sys.read_lease(lease_id).get('data') or {}).get('id')
        except (hvac.exceptions.InvalidRequest, hvac.exceptions.InvalidPath, hvac.exceptions.Forbidden):
            return None

    def _walk(self, path, found):
        try:
            keys = self.call('listing leases under %s' % path, self._list_raw, path)
        except SecretNotFound:
            return
        for key in keys:
            if key.endswith('/'):
                self._walk(path + key, found)
            else:
                found.append(path + key)

    def _list_raw(self, path):
        hvac, _requests = self._hvac()
        try:
            return ((self.client.sys.list_leases(path) or {}).get('data') or {}).get('keys') or []
        except hvac.exceptions.InvalidPath:
            return []

    # -- revoking -----------------------------------------------------------------------------------------------
    def accessor(self, accessor):
        item = {'accessor': accessor}
        try:
            info = self.lookup(accessor)
            if info is not None:
                item.update(describe_token(info))
                if not self.report.check_mode:
                    self.call('revoking a token by accessor', self.client.auth.token.revoke_accessor, accessor)
        except SecretError as exc:
            return self.report.failed("vault accessor '%s'" % accessor, exc, 'revoke.vault_token', item,
                                      backend='vault', accessor=accessor)
        count = 0 if info is None else 1
        item['state'] = self.report.state(count)
        self.report.done('vault_tokens', count, 'revoke.vault_token', backend='vault', accessor=accessor,
                         path=item.get('path'))
        return item

    def prefix(self, prefix, force=False):
        """``sys/leases/revoke-prefix/<prefix>`` (or ``revoke-force``): every lease, or every token created through
        an auth path (``auth/approle/login``), and the tokens and leases that descend from them."""
        prefix = prefix.strip('/')
        item = {'prefix': prefix, 'force': bool(force)}
        is_auth = prefix.startswith('auth/')
        counter = 'vault_tokens' if is_auth else 'vault_leases'
        try:
            ids = self.leases(prefix)
            if ids is None:
                self.report.note("listing leases under '%s' was denied (list and sudo on sys/leases/lookup/*): the "
                                 "number revoked is unknown and a second run cannot tell it has nothing to do" % prefix)
            item['leases'] = None if ids is None else len(ids)
            if ids and not is_auth:  # lease ids of auth tokens are derived from the tokens: counts only
                item['lease_ids'] = capped(ids)
            if ids != [] and not self.report.check_mode:
                endpoint = self.client.sys.revoke_force if force else self.client.sys.revoke_prefix
                self.call('revoking leases under %s' % prefix, endpoint, prefix)
        except SecretError as exc:
            return self.report.failed("vault prefix '%s'" % prefix, exc, 'revoke.vault_prefix', item,
                                      backend='vault', prefix=prefix)
        count = item['leases']
        item['state'] = self.report.state(count)
        self.report.done(counter, count, 'revoke.vault_prefix', backend='vault', prefix=prefix, force=bool(force))
        return item

    def role(self, mount, name):
        """Every token of a role. Token-store roles (``mount: token``) by prefix ``auth/token/create/<role>``;
        other auth methods log in through one path for all their roles, so their tokens are found by listing the
        token accessors and reading the role from each token's metadata, then revoked by accessor."""
        mount = mount.strip('/')
        if mount.startswith('auth/'):
            mount = mount[len('auth/'):]
        item = {'mount': mount, 'name': name}
        if mount == 'token':
            res = self.prefix('auth/token/create/%s' % name)
            item.update(tokens=res.get('leases'), state=res['state'])
            for key in ('error',):
                if key in res:
                    item[key] = res[key]
            return item
        try:
            matched = self._role_accessors(mount, name)
            own = self.self_accessor()
            if own in matched:
                matched.remove(own)
                item['skipped_own_token'] = True
                self.report.note("the token this task uses belongs to role '%s' of auth/%s and was not revoked; "
                                 "revoke it once the task is done" % (name, mount))
            item['tokens'] = len(matched)
            item['accessors'] = capped(matched)
            revoked = []
            for accessor in matched:
                if not self.report.check_mode:
                    self.call('revoking a token by accessor', self.client.auth.token.revoke_accessor, accessor)
                revoked.append(accessor)
        except SecretError as exc:
            return self.report.failed("vault role '%s' of auth/%s" % (name, mount), exc, 'revoke.vault_role', item,
                                      backend='vault', mount=mount, role=name)
        item['state'] = self.report.state(len(revoked))
        self.report.done('vault_tokens', len(revoked), 'revoke.vault_role', backend='vault', mount=mount, role=name,
                         accessors=capped(revoked))
        return item

    def _role_accessors(self, mount, name):
        keys = (self.call('listing token accessors (needs sudo on auth/token/accessors)',
                          self.client.auth.token.list_accessors).get('data') or {}).get('keys') or []
        matched = []
        for accessor in keys:
            info = self.lookup(accessor)
            if info is not None and token_matches(info, mount, name):
                matched.append(accessor)
        return matched


def describe_token(info):
    """The value-free facts of a token lookup (never its id, which is the token)."""
    out = dict((k, info.get(k)) for k in ('display_name', 'path', 'policies', 'expire_time', 'type')
               if info.get(k) not in (None, ''))
    role = token_role(info)
    if role:
        out['role'] = role
    return out


def token_role(info):
    if info.get('role'):
        return info['role']
    meta = info.get('meta') or {}
    for key in ROLE_META:
        if meta.get(key):
            return meta[key]
    return None


def token_matches(info, mount, name):
    path = (info.get('path') or '').strip('/')
    if not path.startswith('auth/%s/' % mount):
        return False
    meta = info.get('meta') or {}
    return info.get('role') == name or any(meta.get(key) == name for key in ROLE_META)


def revoke_vault(revoker, spec):
    """Accessors, then roles, then prefixes (a prefix such as ``auth/approle/login`` may end this task's own
    login, so it comes last)."""
    return {
        'accessors': [revoker.accessor(a) for a in spec.get('accessors') or []],
        'roles': [revoker.role(r['mount'], r['name']) for r in spec.get('roles') or []],
        'prefixes': [revoker.prefix(p, spec.get('force')) for p in spec.get('prefixes') or []],
    }


# -- diff -----------------------------------------------------------------------------------------------------------
_DONE = ('revoked', 'would_revoke', 'deactivated', 'would_deactivate', 'deleted', 'would_delete')


def diff(result):
    """Before and after (in check mode: as it would be) of every item: counts, statuses and ids, never values."""
    before, after = {}, {}

    def put(key, was, now):
        before[key], after[key] = was, now

    vault = result.get('vault') or {}
    for item in vault.get('accessors') or []:
        live = 1 if item.get('state') in _DONE or item.get('path') else 0
        put('vault accessor %s' % item['accessor'], {'live_tokens': live},
            {'live_tokens': 0 if item.get('state') in _DONE else live})
    for item in vault.get('roles') or []:
        count = item.get('tokens')
        put('vault role %s/%s' % (item['mount'], item['name']), {'live_tokens': count},
            {'live_tokens': 0 if item.get('state') in _DONE else count})
    for item in vault.get('prefixes') or []:
        count = item.get('leases')
        put('vault prefix %s' % item['prefix'], {'leases': 'unknown' if count is None else count},
            {'leases': 0 if item.get('state') in _DONE else count})
    iam = result.get('aws_iam') or {}
    if iam.get('keys') is not None:
        was = dict((k['access_key_id'], k.get('status')) for k in iam['keys'])
        now = {}
        for key in iam['keys']:
            state = key.get('state')
            if state in ('deleted', 'would_delete'):
                continue
            now[key['access_key_id']] = 'Inactive' if state in ('deactivated', 'would_deactivate') else key.get('status')
        put('aws_iam user %s' % iam['user'], {'access_keys': was}, {'access_keys': now})
    for item in result.get('sessions') or []:
        key = '%s sessions of %s at %s' % (item['kind'], item['username'], item['endpoint'])
        was = {'sessions': item.get('sessions', 0)}
        now = {'sessions': item.get('sessions', 0) - item.get('ended', 0)}
        if item.get('login'):
            was['login'] = 'enabled' if item.get('login_changed') else item['login']
            now['login'] = 'disabled' if item.get('login_changed') else item['login']
        put(key, was, now)
    return {'before': before, 'after': after}

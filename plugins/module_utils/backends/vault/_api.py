# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Any Vault/OpenBao API path, not only KV: read (GET), list (LIST) and write (POST) with the backend's connection,
login and retries (reads only are retried), for the ``vault_read``/``vault_list`` lookups and the ``vault_read``/
``vault_write`` modules. Errors name the path, the store and the cause; a 400's text from Vault is kept (it says
what was wrong with the request) with every value of the request's ``data`` cut out of it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidOption,
    InvalidReference,
    SecretError,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._client import (
    import_hvac,
    misconfigured,
)

#: internal engines of the backend for any path (never documented as ``engine`` choices: the lookups set them)
API_READ = 'api'
API_LIST = 'api-list'
API_ENGINES = (API_READ, API_LIST)
#: fields of the response envelope (not of its ``data``) a caller may name in ``return_fields``
ENVELOPE = ('lease_id', 'lease_duration', 'renewable', 'warnings')
ENVELOPE_PREFIXES = ('auth.', 'wrap_info.')
#: shortest value cut out of Vault's error text (shorter ones would cut ordinary words)
_MIN_REDACT = 3
_MAX_TEXT = 400


def api_path(path):
    """A normalised API path (no ``/v1/``, no leading or trailing slash); InvalidReference when empty or odd."""
    text = str(path or '').strip()
    if text.startswith('vault://'):
        text = text[len('vault://'):]
    text = text.strip('/')
    if text.startswith('v1/'):
        text = text[3:]
    if not text or '?' in text or '#' in text or '..' in text.split('/') or re.search(r'\s', text):
        raise InvalidReference("not an API path: give a path such as 'sys/mounts' or 'transit/encrypt/<key>' "
                               "(no query, no '#', no whitespace)", ref='vault://%s' % text, backend='vault')
    return text


def leaf_values(data):
    """Every scalar of ``data`` (nested dicts and lists too) as text: what must never be printed."""
    out = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
        elif node is not None and not isinstance(node, bool):
            out.append(str(node))
    return out


def vault_text(exc, values=()):
    """Vault's error text of ``exc`` with every one of ``values`` cut out, on one line and bounded; '' when none."""
    text = ' '.join(str(e) for e in (getattr(exc, 'errors', None) or []))
    for value in sorted(set(v for v in values if len(v) >= _MIN_REDACT), key=len, reverse=True):
        text = text.replace(value, '<value>')
    text = ' '.join(text.split())
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + '...'
    return text


def pick_fields(response, names):
    """``{name: value}`` of the response fields ``names`` (a field of ``data``; ``auth.X``, ``wrap_info.X`` and
    ``lease_id``/``lease_duration``/``renewable``/``warnings`` of the envelope), and the names that are missing."""
    response = response if isinstance(response, dict) else {}
    data = response.get('data') if isinstance(response.get('data'), dict) else {}
    picked, missing = {}, []
    for name in names or ():
        if name in data:
            picked[name] = data[name]
        elif name in ENVELOPE and name in response:
            picked[name] = response[name]
        elif name.startswith(ENVELOPE_PREFIXES):
            part, field = name.split('.', 1)
            section = response.get(part) if isinstance(response.get(part), dict) else {}
            if field in section:
                picked[name] = section[field]
            else:
                missing.append(name)
        else:
            missing.append(name)
    return picked, missing


def field_names(response):
    """The names a caller could ask for (names only, never values)."""
    response = response if isinstance(response, dict) else {}
    names = sorted(response.get('data') or {}) if isinstance(response.get('data'), dict) else []
    names += [n for n in ENVELOPE if response.get(n) not in (None, '', [], 0)]
    for part in ('auth', 'wrap_info'):
        if isinstance(response.get(part), dict):
            names += ['%s.%s' % (part, n) for n in sorted(response[part])]
    return names


class VaultApi:
    """Mixin of the Vault backend: requests to any API path."""

    def _api_call(self, method, path, what, data=None, ref=None, wrap_ttl=None):
        hvac, requests, _retry = import_hvac()
        client = self.client()
        url = '/v1/%s' % path
        since = self.retry_tally()
        ref = ref if ref is not None else 'vault://%s' % path

        def call():
            if method == 'list':
                return client.adapter.list(url)
            if method == 'delete':
                return client.adapter.delete(url)
            if method == 'post':
                if wrap_ttl:  # response wrapping: Vault answers with wrap_info (a single-use wrapping token)
                    return client.adapter.post(url, json=data or {}, wrap_ttl=wrap_ttl)
                return client.adapter.post(url, json=data or {})
            if wrap_ttl:
                return client.adapter.get(url, wrap_ttl=wrap_ttl)
            return client.adapter.get(url)
        try:
            response = self.with_login(call)
        except hvac.exceptions.InvalidPath as exc:
            where = self.where(None, path, what)
            config = misconfigured(exc, where, ref)
            if config is not None:
                raise config from None
            text = vault_text(exc, leaf_values(data))
            raise SecretNotFound('nothing at this path (%s)%s' % (where, ': %s' % text if text else ''), ref=ref,
                                 backend='vault') from None
        except hvac.exceptions.InvalidRequest as exc:
            text = vault_text(exc, leaf_values(data)) or 'no reason given'
            raise SecretError('Vault rejected the request (HTTP 400, %s): %s' % (self.where(None, path, what), text),
                              ref=ref, backend='vault') from None
        except (hvac.exceptions.VaultError, requests.exceptions.RequestException) as exc:
            raise self.error(exc, self.where(None, path, what), ref=ref, since=since) from None
        return response if isinstance(response, dict) else {}

    def api_read(self, path, ref=None, wrap_ttl=None):
        """The whole response of GET ``path`` (``data``, ``lease_id`` ...); SecretNotFound when Vault has nothing.
        ``wrap_ttl``: Vault wraps the response (it then holds only ``wrap_info``)."""
        response = self._api_call('get', path, 'read', ref=ref, wrap_ttl=wrap_ttl)
        if not response:
            raise SecretNotFound('nothing at this path (%s)' % self.where(None, path, 'read'),
                                 ref=ref if ref is not None else 'vault://%s' % path, backend='vault')
        return response

    def api_list(self, path, ref=None):
        """The keys under ``path`` (LIST); SecretNotFound when there are none (Vault answers 404)."""
        response = self._api_call('list', path, 'list', ref=ref)
        keys = (response.get('data') or {}).get('keys') if isinstance(response.get('data'), dict) else None
        if keys is None:
            raise SecretNotFound('nothing to list at this path (%s)' % self.where(None, path, 'list'),
                                 ref=ref if ref is not None else 'vault://%s' % path, backend='vault')
        return list(keys)

    def api_write(self, path, data, wrap_ttl=None):
        """POST ``data`` to ``path``; the whole response ({} for 204 No Content). Never retried (see RETRY_METHODS).
        ``wrap_ttl``: ask Vault to wrap the response (its ``wrap_info`` then holds a wrapping token)."""
        if data is not None and not isinstance(data, dict):
            raise InvalidOption('data must be a dict', ref='vault://%s' % path, backend='vault')
        return self._api_call('post', path, 'write', data=data, wrap_ttl=wrap_ttl)

    def api_delete(self, path):
        """DELETE ``path`` (Vault answers 204 whether or not there was something); never retried."""
        return self._api_call('delete', path, 'delete')

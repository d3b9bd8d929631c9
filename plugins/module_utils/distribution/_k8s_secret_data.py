# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Secret's data the way ``kubectl create secret`` builds it: literals, files and directories, env files (kubectl's
literal format or Compose's dotenv), TLS pairs and docker-registry credentials (byte for byte; tests/unit compare
with kubectl itself). Runs on the host that runs k8s_secret and reads the files there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import re

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _dotenv
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption

TYPE_OPAQUE = 'Opaque'
TYPE_TLS = 'kubernetes.io/tls'
TYPE_DOCKERCONFIGJSON = 'kubernetes.io/dockerconfigjson'
CONFIG_KEY = re.compile(r'^[-._a-zA-Z0-9]+$')
ENV_VAR_NAME = re.compile(r'^[-._a-zA-Z][-._a-zA-Z0-9]*$')


def check_key(key, where):
    if not key or len(key) > 253 or not CONFIG_KEY.match(key):
        raise InvalidOption("%s: '%s' is not a valid Secret key (letters, digits, '-', '_' and '.')" % (where, key),
                            backend='k8s')


def literal(value):
    """A YAML scalar as the text kubectl would store for --from-literal; maps and lists as compact JSON."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(',', ':'))
    return '' if value is None else str(value)


def to_bytes(value):
    return value if isinstance(value, bytes) else literal(value).encode('utf-8')


def _kubectl_entries(text, environ=None):
    """(key, value, line number) of an env file in kubectl's format (see parse_env_file_kubectl)."""
    env = os.environ if environ is None else environ
    if text.startswith(u'\ufeff'):
        text = text[1:]
    for number, line in enumerate(text.split('\n'), 1):
        if line.endswith('\r'):
            line = line[:-1]
        line = line.lstrip()
        if not line or line.startswith('#'):
            continue
        key, sep, value = line.partition('=')
        if not ENV_VAR_NAME.match(key):
            # never the line itself: a malformed line is often a value (an unquoted PEM line, a token)
            raise InvalidOption('line %d is not KEY=value with a valid variable name (its content is not shown)'
                                % number, backend='k8s')
        yield key, (value if sep else env.get(key, '')), number


def parse_env_file_kubectl(text, environ=None):
    """``kubectl create secret generic --from-env-file`` semantics: ``KEY=value`` lines taken literally (quotes
    included), leading whitespace dropped, ``#`` comment lines and blank lines skipped, a line without ``=``
    takes the variable from the environment (empty when unset)."""
    return [(key, value) for key, value, _number in _kubectl_entries(text, environ)]


def _dotenv_entries(text):
    """(key, value, line number) as Docker Compose and python-dotenv read them (a later duplicate wins)."""
    found, line = {}, 1
    for binding in _dotenv.parse_bindings(text):
        if binding.key is not None:
            found.pop(binding.key, None)
            found[binding.key] = ('' if binding.value is None else binding.value, line)
        line += binding.original.count('\n')
    return [(key, value, number) for key, (value, number) in found.items()]


def _decode_env_file(path, raw):
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b'\n') + 1
        raise InvalidOption('%s: line %d is not UTF-8 text; env files are read as UTF-8' % (path, line),
                            backend='k8s')


def env_file_entries(path, fmt, environ=None):
    """(key, value, line number) of each variable of an env file. Errors name the file and line numbers, never
    the content of a line."""
    text = _decode_env_file(path, _read(path))
    if fmt == 'dotenv':
        bad = _dotenv.invalid_lines(text)
        if bad:
            raise InvalidOption('%s: line%s %s %s not KEY=value (the content is not shown)'
                                % (path, 's' if len(bad) > 1 else '', ', '.join(str(n) for n in bad),
                                   'are' if len(bad) > 1 else 'is'), backend='k8s')
        return _dotenv_entries(text)
    try:
        return list(_kubectl_entries(text, environ))
    except InvalidOption as exc:
        raise InvalidOption('%s: %s' % (path, exc.cause), backend='k8s')


def read_env_file(path, fmt, environ=None):
    return [(key, value) for key, value, _number in env_file_entries(path, fmt, environ)]


def _read(path):
    try:
        with open(os.path.expanduser(path), 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        cause = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        raise InvalidOption('cannot read %s: %s' % (path, cause), backend='k8s')


def file_sources(item):
    """``from_files`` entries: ``path``, ``key=path`` or ``{path, key}``; a directory adds each regular file in
    it (not recursive; a name that is not a valid key is an error), as kubectl does. Returns [(key, path)]."""
    if isinstance(item, dict):
        path, key = item.get('path'), item.get('key')
        if not path:
            raise InvalidOption('from_files: each entry needs a path', backend='k8s')
    else:
        text = str(item)
        key, sep, path = text.partition('=')
        if not sep:
            key, path = None, text
    path = os.path.expanduser(str(path))
    if os.path.isdir(path):
        if key:
            raise InvalidOption('from_files: a key cannot be given for a directory (%s)' % path, backend='k8s')
        return [(name, os.path.join(path, name)) for name in sorted(os.listdir(path))
                if os.path.isfile(os.path.join(path, name))]
    return [(key or os.path.basename(path.rstrip('/')), path)]


def dockerconfigjson(server, username, password, email=None):
    """The bytes ``kubectl create secret docker-registry`` writes (same field order, compact)."""
    entry = '"username":%s,"password":%s' % (json.dumps(username or ''), json.dumps(password or ''))
    if email:
        entry += ',"email":%s' % json.dumps(email)
    auth = base64.b64encode(('%s:%s' % (username or '', password or '')).encode('utf-8')).decode('ascii')
    entry += ',"auth":%s' % json.dumps(auth)
    return ('{"auths":{%s:{%s}}}' % (json.dumps(server), entry)).encode('utf-8')


def check_tls_pair(cert, key):
    """Both PEM, and (when ``cryptography`` is there) the key belongs to the certificate, like kubectl checks."""
    if b'-----BEGIN CERTIFICATE-----' not in cert:
        raise InvalidOption('tls_cert is not a PEM certificate', backend='k8s')
    if b'PRIVATE KEY-----' not in key:
        raise InvalidOption('tls_key is not a PEM private key', backend='k8s')
    try:
        from cryptography import x509  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
    except ImportError:
        return
    try:
        cert_pub = x509.load_pem_x509_certificate(cert).public_key()
        key_pub = serialization.load_pem_private_key(key, password=None).public_key()
    except (ValueError, TypeError):
        raise InvalidOption('tls_cert or tls_key cannot be parsed (an encrypted key is not supported)',
                            backend='k8s')
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if cert_pub.public_bytes(*fmt) != key_pub.public_bytes(*fmt):
        raise InvalidOption('tls_key does not match the public key of tls_cert', backend='k8s')


def build_data(params, environ=None):
    """(data {key: bytes}, type) from the module's parameters, refusing a key given twice."""
    data = {}
    inferred = None

    def add(key, value, where):
        check_key(key, where)
        if key in data:
            raise InvalidOption("%s: the key '%s' is given twice" % (where, key), backend='k8s')
        data[key] = to_bytes(value)

    for key, value in (params.get('data') or {}).items():
        add(str(key), value, 'data')
    for item in params.get('from_files') or []:
        for key, path in file_sources(item):
            add(key, _read(path), 'from_files')
    env_files = params.get('from_env_file') or []
    for path in [env_files] if isinstance(env_files, str) else env_files:
        for key, value, number in env_file_entries(path, params.get('env_file_format') or 'kubectl', environ):
            # the name of a malformed line may be part of a value: name the line, not the key
            where = 'from_env_file %s: line %d' % (path, number)
            if not key or len(key) > 253 or not CONFIG_KEY.match(key):
                raise InvalidOption("%s: the variable name is not a valid Secret key (letters, digits, '-', '_' "
                                    "and '.'; the line is not shown)" % where, backend='k8s')
            if key in data:
                raise InvalidOption('%s: the key is given twice (the line is not shown)' % where, backend='k8s')
            add(key, value, where)
    if params.get('tls_cert') is not None or params.get('tls_key') is not None:
        if params.get('tls_cert') is None or params.get('tls_key') is None:
            raise InvalidOption('tls_cert and tls_key go together', backend='k8s')
        cert, key = to_bytes(params['tls_cert']), to_bytes(params['tls_key'])
        check_tls_pair(cert, key)
        add('tls.crt', cert, 'tls_cert')
        add('tls.key', key, 'tls_key')
        inferred = TYPE_TLS
    if params.get('registry'):
        if params.get('registry_username') is None or params.get('registry_password') is None:
            raise InvalidOption('registry needs registry_username and registry_password', backend='k8s')
        add('.dockerconfigjson', dockerconfigjson(params['registry'], params['registry_username'],
                                                  params['registry_password'], params.get('registry_email')),
            'registry')
        if inferred:
            raise InvalidOption('a Secret is either TLS or dockerconfigjson, not both', backend='k8s')
        inferred = TYPE_DOCKERCONFIGJSON
    stype = params.get('type') or inferred or TYPE_OPAQUE
    if inferred and stype != inferred:
        raise InvalidOption("type '%s' does not fit the data given (it is %s)" % (stype, inferred), backend='k8s')
    return data, stype

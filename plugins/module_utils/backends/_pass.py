# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``pass://entry[#field]``: the standard Unix password store (``pass`` with GnuPG).

pass is a command-line tool by design, so this backend runs it (never through a shell). The first line of an
entry is the password; ``field: value`` lines after it are fields. Lookups only read; the ``secret`` module
writes with ``pass insert --multiline --force``, keeping the entry's other lines.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_DELETE,
    CAP_LIST,
    CAP_READ,
    CAP_WRITE,
    Secret,
    SecretBackend,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable,
    InvalidReference,
    MissingDependency,
    SecretAccessDenied,
    SecretNotFound,
)

PASSWORD_FIELD = 'password'


def parse_entry(text):
    """``{'password': first line, field: value ...}``; later lines without ``: `` are kept under ``notes``."""
    lines = text.split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    fields = {PASSWORD_FIELD: lines[0] if lines else ''}
    notes = []
    for line in lines[1:]:
        if ': ' in line or line.endswith(':'):
            name, _sep, val = line.partition(':')
            name = name.strip()
            if name and name not in fields:
                fields[name] = val[1:] if val.startswith(' ') else val
                continue
        notes.append(line)
    if notes:
        fields.setdefault('notes', '\n'.join(notes))
    return fields


def render_entry(text, field, value):
    """Entry text with one field set: the first line for ``password``, else a ``field: value`` line."""
    lines = text.split('\n') if text else ['']
    if lines[-1] == '' and len(lines) > 1:
        lines.pop()
    if '\n' in str(value):
        raise InvalidReference('a pass field cannot hold a multi-line value')
    if field in (None, PASSWORD_FIELD):
        lines[0] = value
    else:
        for i, line in enumerate(lines[1:], 1):
            if line.split(':', 1)[0].strip() == field and ':' in line:
                lines[i] = '%s: %s' % (field, value)
                break
        else:
            lines.append('%s: %s' % (field, value))
    return '\n'.join(lines) + '\n'


class PassBackend(SecretBackend):
    NAME = 'pass'
    CAPABILITIES = frozenset((CAP_READ, CAP_WRITE, CAP_DELETE, CAP_LIST))
    ARGSPEC = {
        'password_store_dir': {'type': 'path', 'no_log': False},
        'gnupghome': {'type': 'path'},
        'pass_command': {'type': 'str', 'default': 'pass', 'no_log': False},
        'timeout': {'type': 'int', 'default': 30},
    }
    ENV = {'password_store_dir': ('PASSWORD_STORE_DIR',), 'gnupghome': ('GNUPGHOME',)}

    def identity(self):
        return 'pass:%s' % (self.options.get('password_store_dir') or '~/.password-store')

    def freshness(self, ref):
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends._files import stat_token
        root = os.path.expanduser(self.options.get('password_store_dir') or '~/.password-store')
        return stat_token(os.path.join(root, self._entry(ref) + '.gpg'))

    def _env(self):
        env = dict(os.environ)
        for option, var in (('password_store_dir', 'PASSWORD_STORE_DIR'), ('gnupghome', 'GNUPGHOME')):
            if self.options.get(option):
                env[var] = os.path.expanduser(self.options[option])
        # never wait for a pinentry that no one will answer
        env.setdefault('PASSWORD_STORE_GPG_OPTS', '--batch --pinentry-mode loopback')
        env.pop('GPG_TTY', None)
        return env

    def _run(self, args, ref=None, stdin=None):
        cmd = [self.options.get('pass_command') or 'pass'] + args
        try:
            proc = subprocess.run(cmd, input=stdin.encode('utf-8') if stdin is not None else None,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self._env(), check=False,
                                  timeout=self.options.get('timeout') or 30)
        except OSError:
            raise MissingDependency("the '%s' command is not installed (Debian: apt-get install pass)" % cmd[0],
                                    ref=ref, backend=self.NAME)
        except subprocess.TimeoutExpired:
            raise BackendUnavailable('pass did not answer within %ss (is gpg waiting for a passphrase?)'
                                     % self.options.get('timeout'), ref=ref, backend=self.NAME)
        return proc

    def _classify(self, proc, ref, action):
        err = proc.stderr.decode('utf-8', 'replace')
        if 'is not in the password store' in err:
            return SecretNotFound('no such entry in the password store', ref=ref, backend=self.NAME)
        if 'No secret key' in err or 'decryption failed' in err:
            return SecretAccessDenied('gpg cannot decrypt the entry: no secret key for it in GNUPGHOME', ref=ref,
                                      backend=self.NAME)
        if 'password store is empty' in err.lower() or 'try "pass init"' in err:
            return BackendUnavailable('the password store is not initialised (run pass init)', ref=ref,
                                      backend=self.NAME)
        # stderr of pass/gpg never holds the decrypted value; keep only its last line, short
        last = err.strip().splitlines()[-1][:200] if err.strip() else 'exit code %d' % proc.returncode
        return BackendUnavailable('%s failed: %s' % (action, last), ref=ref, backend=self.NAME)

    def _entry(self, ref):
        entry = ref.location.strip('/')
        if entry.startswith('-') or '..' in entry.split('/'):
            raise InvalidReference('not a valid pass entry name', ref=ref, backend=self.NAME)
        return entry

    def read_text(self, ref):
        proc = self._run(['show', self._entry(ref)], ref)
        if proc.returncode != 0:
            raise self._classify(proc, ref, 'pass show')
        return proc.stdout.decode('utf-8')

    def read(self, ref):
        fields = parse_entry(self.read_text(ref))
        path = os.path.join(os.path.expanduser(self.options.get('password_store_dir') or '~/.password-store'),
                            self._entry(ref) + '.gpg')
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            mtime = None
        return Secret(fields, None, mtime, mtime, {'fields': sorted(fields)})

    def select(self, secret, ref):
        """No ``#field``: the password (first line), as ``pass show`` users expect."""
        return secret.select(ref.key if ref.key is not None else PASSWORD_FIELD, ref=ref, backend=self.NAME)

    def write(self, ref, value, cas=None, metadata=None):
        if isinstance(value, dict):
            text = ''
            for field in [PASSWORD_FIELD] + sorted(k for k in value if k != PASSWORD_FIELD):
                if field in value:
                    text = render_entry(text, field, value[field])
        else:
            try:
                current = self.read_text(ref.without_key())
            except SecretNotFound:
                current = ''
            text = render_entry(current, ref.key, value)
        proc = self._run(['insert', '--multiline', '--force', self._entry(ref)], ref, stdin=text)
        if proc.returncode != 0:
            raise self._classify(proc, ref, 'pass insert')
        return Secret(None, None, None, None, {})

    def delete(self, ref, **kwargs):
        proc = self._run(['rm', '--force', self._entry(ref)], ref)
        if proc.returncode != 0:
            err = proc.stderr.decode('utf-8', 'replace')
            if 'is not in the password store' in err:
                return False
            raise self._classify(proc, ref, 'pass rm')
        return True

    def list(self, prefix=''):
        root = os.path.expanduser(self.options.get('password_store_dir') or '~/.password-store')
        base = os.path.join(root, prefix.strip('/')) if prefix else root
        found = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.endswith('.gpg'):
                    found.append(os.path.relpath(os.path.join(dirpath, name[:-4]), root))
        return sorted(found)

# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Value-free audit events, one JSON object a line.

Fields: time (UTC ISO 8601), actor (user@host), awx_job (when run by AWX), action, backend, ref, version,
fingerprint, outcome, and optional value-free details; ``retries`` (how many retries the store's requests for
this reference took, e.g. after a timeout, a 429 or a 503) is added to the events of a reference whose reads were
retried in this process (``note_retries``, called by the backends). Appends are atomic (O_APPEND, one write a
line) and the file is created 0600, never through a symbolic link.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import getpass
import json
import os
import socket


AUDIT_ENV = 'AGENTAREA_SECRETS_AUDIT_LOG'

#: retries noted by the backends in this process, by reference (scheme://location, without key and params)
_RETRIES = {}


def _ref_base(ref):
    text = str(ref)
    return text.split('#', 1)[0].split('?', 1)[0]


def note_retries(ref, count):
    """A backend's read of ``ref`` took ``count`` retries: the next audit events of ``ref`` carry ``retries``."""
    if ref is None or not count:
        return
    base = _ref_base(ref)
    _RETRIES[base] = _RETRIES.get(base, 0) + int(count)


def retries_of(ref):
    """The retries noted for ``ref`` in this process (0 when none)."""
    return 0 if ref is None else _RETRIES.get(_ref_base(ref), 0)


def actor():
    try:
        user = getpass.getuser()
    except Exception:  # pylint: disable=broad-except
        user = str(os.getuid()) if hasattr(os, 'getuid') else 'unknown'
    return '%s@%s' % (user, socket.gethostname())


def awx_job(environ=None):
    env = os.environ if environ is None else environ
    for name in ('AWX_JOB_ID', 'JOB_ID', 'TOWER_JOB_ID'):
        if env.get(name):
            return env[name]
    return None


def event(action, outcome, backend=None, ref=None, version=None, fingerprint=None, **details):
    record = {
        'time': datetime.datetime.now(datetime.timezone.utc).isoformat().replace('+00:00', 'Z'),
        'actor': actor(),
        'action': action,
        'backend': backend,
        'ref': None if ref is None else str(ref),
        'version': version,
        'fingerprint': fingerprint,
        'outcome': outcome,
    }
    job = awx_job()
    if job:
        record['awx_job'] = job
    retried = retries_of(ref)
    if retried and 'retries' not in details:
        record['retries'] = retried
    for key, val in details.items():
        if val is not None:
            record[key] = val
    return record


class AuditLog:
    """Writes events to ``path``; a ``None`` path makes every call a no-op."""

    def __init__(self, path=None):
        self.path = os.path.expanduser(path) if path else None

    @property
    def enabled(self):
        return bool(self.path)

    def emit(self, action, outcome, **fields):
        if not self.path:
            return None
        record = event(action, outcome, **fields)
        line = (json.dumps(record, sort_keys=True, default=str) + '\n').encode('utf-8')
        # imported here: a lookup that keeps no audit log (the common case) never loads the file helpers
        from ansible_collections.agentarea.secrets.plugins.module_utils.core import _fileio  # pylint: disable=import-outside-toplevel
        # never through a symbolic link: the log may sit in a directory other users can write
        fd = _fileio.safe_open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600, create_dirs=True,
                               backend='audit log')
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return record


def read_events(path):
    events = []
    with open(os.path.expanduser(path), 'r') as handle:
        for line in handle:
            line = line.strip()
            if line:
                events.append(json.loads(line))
    return events

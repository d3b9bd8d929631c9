# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the core. Lookups and modules translate them at the edge.

Every message names the backend, the reference and the cause. A value never goes into one: callers pass
references and causes only, and ``cause`` from an SDK exception is reduced to its class and status by
:func:`describe_exception`, because SDK messages sometimes echo request bodies.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


class SecretError(Exception):
    """Base of every error the core raises."""

    #: how lookups classify the error for on_missing / on_denied / on_deleted
    category = 'error'

    def __init__(self, cause, ref=None, backend=None):
        self.cause = cause
        self.ref = ref
        self.backend = backend
        super(SecretError, self).__init__(self._format())

    def _format(self):
        parts = []
        if self.backend:
            parts.append(self.backend)
        if self.ref is not None:
            parts.append("'%s'" % (self.ref,))
        prefix = ' '.join(parts)
        return '%s: %s' % (prefix, self.cause) if prefix else str(self.cause)

    def __str__(self):
        return self._format()


class InvalidReference(SecretError):
    """The reference (or an option that shapes it) is malformed."""


class InvalidOption(SecretError):
    """An option has a value the backend cannot use (checked before any network call)."""


class SecretNotFound(SecretError):
    category = 'missing'


class SecretAccessDenied(SecretError):
    category = 'denied'


class SecretDeleted(SecretError):
    """The secret or the requested version exists but is deleted, destroyed or disabled."""

    category = 'deleted'


class SecretConflict(SecretError):
    """A check-and-set write lost: someone changed the secret since it was read."""


class BackendMisconfigured(SecretError):
    """The store answered, but the configuration points nowhere: a namespace or mount that does not exist.
    Not a missing secret (deliberately not a SecretNotFound): ``on_missing`` never skips it."""


class BackendUnavailable(SecretError):
    """The store could not be reached or answered with a server error."""


class BackendMisconfigured(SecretError):
    """The store answered, but what the configuration points at does not exist there (a Vault namespace or mount,
    a kubeconfig context, an AWS region holding no secrets at all). Never a "missing secret": ``on_missing`` does
    not apply, so a wrong setting cannot end a run green having read or rotated nothing."""


class MissingDependency(SecretError):
    """A Python package or command that the backend needs is not installed where it runs."""


class NotSupported(SecretError):
    """The backend cannot do this (a Docker secret cannot be read back, a lookup never writes, ...)."""


class RotationFailed(SecretError):
    pass


def exception_chain(exc, limit=16):
    """``exc`` and the exceptions it wraps, nearest first: urllib3's ``reason``, the causes, the contexts and the
    exceptions among its arguments (requests' ConnectionError wraps urllib3's MaxRetryError, which wraps the
    NewConnectionError that wraps ``ConnectionRefusedError``). Each once, at most ``limit``."""
    queue, seen = [exc], set()
    while queue and len(seen) < limit:
        err = queue.pop(0)
        if id(err) in seen:
            continue
        seen.add(id(err))
        yield err
        nexts = [getattr(err, 'reason', None), err.__cause__, err.__context__] + list(getattr(err, 'args', ()))
        queue.extend(n for n in nexts if isinstance(n, BaseException))


def _os_error_inside(exc):
    """The operating system's error that an SDK exception wraps, or None. Only its errno is used: the OS's own text
    for it never holds a value."""
    for err in exception_chain(exc):
        if isinstance(err, OSError) and isinstance(getattr(err, 'errno', None), int):
            return err
    return None


def describe_exception(exc):
    """A value-free description of a third-party exception: class name and, where known, status/code, or the
    operating system's error it wraps (``ConnectionError (connection refused)``)."""
    name = type(exc).__name__
    details = []
    for attr in ('status_code', 'status', 'code', 'returncode', 'errno'):
        val = getattr(exc, attr, None)
        if isinstance(val, (int, str)) and val not in ('', None):
            details.append('%s=%s' % (attr, val))
            break
    if not details:
        inner = _os_error_inside(exc)
        if inner is not None:
            try:
                details.append(os.strerror(inner.errno).lower())
            except ValueError:
                details.append('errno=%d' % inner.errno)
    return '%s%s' % (name, ' (%s)' % ', '.join(details) if details else '')


def missing_dependency(package, ref=None, backend=None, import_error=None):
    hint = "the Python package '%s' is required on the host that runs this; install it with pip" % package
    if import_error is not None:
        missing = getattr(import_error, 'name', None)
        hint += ' (import failed: %s)' % (
            'no module named %s' % missing if missing else describe_exception(import_error))
    return MissingDependency(hint, ref=ref, backend=backend)

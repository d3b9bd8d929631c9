# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rotation slots of a store with staging labels (AWS Secrets Manager), used instead of sibling secrets.

- pending: the new value is a version labelled AWSPENDING (``put_pending``, with the rotation id as
  ClientRequestToken, so repeating the write is a no-op); AWSCURRENT does not move until ``promote``.
- previous: after promotion AWS labels the replaced version AWSPREVIOUS; that is the previous value.
- the rotation's record (id, owner, times, fingerprints; never a value) lives in two tags of the secret,
  ``agentarea-rotation`` (while pending) and ``agentarea-previous`` (after finish), as compact JSON under AWS's
  256-character limit.

AWS has no atomic check-and-set: the claim checks that neither AWSPENDING nor the rotation tag exists and then
writes, so two runs started within the same few milliseconds could both pass the check; the second's
``put_pending`` then moves the label and the first fails its read-back. An AWSPENDING version without our tag
(a rotation Lambda at work) is never touched: the run stops and says so.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAS_CREATE, decode_structured, iso, to_datetime,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    RotationFailed, SecretConflict, SecretDeleted, SecretError, SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._state import Envelope, RotationInProgress

PENDING_TAG = 'agentarea-rotation'
PREVIOUS_TAG = 'agentarea-previous'
_SHORT = {'id': 'i', 'purpose': 'p', 'started': 's', 'expires': 'e', 'finished': 'f', 'contracted': 'c',
          'contracted_at': 'ca', 'old_fingerprint': 'o', 'new_fingerprint': 'n', 'kind': 'k', 'strategy': 'st'}
_FP_PREFIX = 'hmac-sha256:'


def pack(record):
    """A record as compact JSON for a tag: short keys, epoch seconds, fingerprints without their prefix."""
    out = {}
    for name, short in _SHORT.items():
        val = record.get(name)
        if val is None:
            continue
        if name in ('started', 'expires', 'finished', 'contracted_at'):
            val = int(to_datetime(val).timestamp())
        elif name.endswith('fingerprint') and str(val).startswith(_FP_PREFIX):
            val = val[len(_FP_PREFIX):]
        elif name == 'contracted':
            val = 1 if val else 0
        out[short] = val
    owner = record.get('owner') or {}
    if owner:
        out['h'], out['pid'], out['ps'] = owner.get('host'), owner.get('pid'), owner.get('pid_start')
    text = json.dumps(out, sort_keys=True, separators=(',', ':'))
    if len(text) > 256:
        raise RotationFailed('the rotation record does not fit in an AWS tag (%d characters)' % len(text))
    return text


def unpack(text):
    data = json.loads(text)
    record = {}
    for name, short in _SHORT.items():
        if short not in data:
            continue
        val = data[short]
        if name in ('started', 'expires', 'finished', 'contracted_at'):
            val = iso(val)
        elif name.endswith('fingerprint'):
            val = _FP_PREFIX + val
        elif name == 'contracted':
            val = bool(val)
        record[name] = val
    if 'h' in data:
        record['owner'] = {'host': data.get('h'), 'pid': data.get('pid'), 'pid_start': data.get('ps')}
    return record


def client_token(rotation_id):
    """A ClientRequestToken (32-64 characters) derived from the rotation id, so a repeated write is a no-op."""
    text = (rotation_id * 4)[:32]
    return '%s-%s-%s-%s-%s' % (text[:8], text[8:12], text[12:16], text[16:20], text[20:32])


def _settled(do, done):
    """``do()``; after an error, success all the same when ``done()`` says the change is there (a lost answer)."""
    try:
        return do()
    except SecretError as exc:
        try:
            landed = done()
        except SecretError:
            landed = False
        if not landed:
            raise exc
        return True


class _StageSlot:
    TAG = None
    STAGE = None

    def __init__(self, backend, ref):
        self.backend = backend
        self.store_ref = ref.without_key().replace(params={'stage': None, 'version': None})
        self.key_ref = ref.replace(params={'stage': None, 'version': None})
        self.ref = self.store_ref.replace(params={'stage': self.STAGE})

    def tags(self):
        try:
            return dict(self.backend.read(self.store_ref).metadata.get('tags') or {})
        except (SecretNotFound, SecretDeleted):
            return {}

    def set_tag(self, text):
        tags = self.tags()
        if text is None:
            if self.TAG not in tags:
                return False
            del tags[self.TAG]
        else:
            tags[self.TAG] = text
        self.backend.set_tags(self.store_ref, tags)
        return True

    def value_of(self, secret):
        if secret is None:
            return None
        return decode_structured(self.backend.select(secret, self.key_ref) if self.key_ref.key else secret.value)


class StagePendingSlot(_StageSlot):
    """AWSPENDING plus the ``agentarea-rotation`` tag."""

    TAG = PENDING_TAG
    STAGE = 'AWSPENDING'

    def read(self):
        tag = self.tags().get(self.TAG)
        pending = self.backend.pending(self.store_ref)
        if tag is None and pending is None:
            return None
        if tag is None:
            raise RotationFailed('version %s is labelled AWSPENDING, but not by agentarea.secrets (a rotation '
                                 'Lambda?); let it finish, or remove the label (update-secret-version-stage), then '
                                 'run again'
                                 % pending.version, ref=self.store_ref, backend=self.backend.NAME)
        record = unpack(tag)
        token = client_token(record.get('id') or '')
        ours = pending is not None and pending.version == token
        if not ours and pending is None and record.get('purpose') != 'contract':
            # promoted already (the answer of the promotion was lost, or the run died right after it): the
            # version is AWSCURRENT now and no longer labelled AWSPENDING; resume finds it there
            pending = self._version(token)
            ours = pending is not None
        return Envelope(record, self.value_of(pending) if ours else None, pending.version if ours else None)

    def _version(self, version_id):
        try:
            return self.backend.read(self.store_ref.replace(params={'version': version_id}))
        except (SecretNotFound, SecretDeleted):
            return None
        except SecretError:
            return None  # no such version id (AWS answers a malformed or unknown id with a client error)

    def write(self, envelope, cas=None):
        """Claim or rewrite AWSPENDING and the record; an error with both found as written (a lost answer) is
        success."""
        try:
            return self._write(envelope, cas)
        except (SecretConflict, RotationInProgress):
            raise
        except SecretError as exc:
            try:
                back = self.read()
            except SecretError:
                back = None
            if back is None or back.record.get('id') != envelope.record.get('id') or back.value != envelope.value:
                raise exc
            envelope.version = back.version
            return envelope.version

    def _write(self, envelope, cas=None):
        tags = self.tags()
        pending = self.backend.pending(self.store_ref)
        if cas == CAS_CREATE and (pending is not None or self.TAG in tags):
            raise SecretConflict('AWSPENDING or the rotation tag exists', ref=self.store_ref, backend=self.backend.NAME)
        token = client_token(envelope.record['id'])
        # a rotation whose promotion already happened (resumed): its version is AWSCURRENT, no longer AWSPENDING
        promoted = pending is None and cas == token and cas is not None
        if cas not in (None, CAS_CREATE) and (pending is None or pending.version != cas) and not promoted:
            raise SecretConflict('AWSPENDING moved', ref=self.store_ref, backend=self.backend.NAME)
        self.set_tag(pack(envelope.record))
        if envelope.value is not None and not promoted and (pending is None or pending.version != token):
            self.backend.put_pending(self.key_ref, envelope.value, token=token)
        back = self.read()
        if back is None or back.record.get('id') != envelope.record.get('id') or back.value != envelope.value:
            raise RotationFailed('AWSPENDING did not read back as written (another rotation moved it?)',
                                 ref=self.store_ref, backend=self.backend.NAME)
        envelope.version = back.version
        return envelope.version

    def clear(self):
        removed = _settled(lambda: self.backend.clear_pending(self.store_ref),
                           lambda: self.backend.pending(self.store_ref) is None)
        return _settled(lambda: self.set_tag(None), lambda: self.TAG not in self.tags()) or removed

    def promote(self, current_version):
        written = self.backend.promote(self.store_ref, cas=current_version)
        return written.version


class StagePreviousSlot(_StageSlot):
    """AWSPREVIOUS (kept by AWS itself) plus the ``agentarea-previous`` tag."""

    TAG = PREVIOUS_TAG
    STAGE = 'AWSPREVIOUS'

    def read(self):
        tag = self.tags().get(self.TAG)
        if tag is None:
            return None
        try:
            secret = self.backend.read(self.ref)
        except (SecretNotFound, SecretDeleted):
            secret = None
        return Envelope(unpack(tag), self.value_of(secret), secret.version if secret is not None else None)

    def write(self, envelope, cas=None):
        self.set_tag(pack(envelope.record))
        return None

    def clear(self):
        return self.set_tag(None)

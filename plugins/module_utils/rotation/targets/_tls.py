# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS certificates: issued by a Vault/OpenBao PKI mount (``target.issuer``) or self-signed (the ``generate:`` policy).

The value is a map: ``certificate`` and ``private_key`` (PEM), and for an issued certificate ``ca_chain`` (PEM, the
issuing CA first) and ``serial``. The phases:

- create: ``<mount>/issue/<role>`` (or a self-signed certificate) into the pending slot;
- set: the new certificate and key are written to ``target.deploy`` (references: a file, a Kubernetes Secret key),
  so that the server can present it *before* finish;
- test: the key matches the certificate, which is valid now and covers the common name; with ``target.handshake``
  a real TLS handshake against the server must present the new certificate (and verify against its chain);
- rollback: ``target.deploy`` gets the old certificate back, the new serial is revoked;
- contract: the old serial is revoked at the mount (``single``: right after finish).

``renewal()`` tells the engine that a certificate far from its expiry is not due (``target.renew_before``, by
default a third of its lifetime, as cert-manager does). Nothing here returns or prints a private key: ``describe``
gives the serial and ``not_after``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import socket
import ssl
import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import decode_structured, iso
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidOption, SecretError, SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._generate import tls_fields
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._state import parse_duration
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import (
    Target,
    TargetRejected,
    TargetUnavailable,
)

#: the fields of a certificate value that ``target.deploy`` can write (``tls.crt``: the certificate and its chain)
DEPLOY_FIELDS = ('tls.crt', 'tls.key', 'certificate', 'private_key', 'ca_chain')


def serial_text(number):
    """A serial number as PKI engines write it: colon-separated lowercase hex pairs."""
    text = '%x' % number
    if len(text) % 2:
        text = '0' + text
    return ':'.join(text[i:i + 2] for i in range(0, len(text), 2))


def cert_fields(value):
    """The fields a consumer can take from a certificate value: its own, plus ``tls.crt`` (the certificate followed
    by its chain, what a server presents) and ``tls.key``; None when ``value`` is not a certificate map."""
    value = decode_structured(value)
    tls = tls_fields(value)
    if tls is None:
        return None
    fields = dict(value)
    fields.update(tls)
    return fields


def _x509():
    from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires
    return requires('cryptography.x509', package='cryptography', backend='tls')


def load_cert(pem):
    x509 = _x509()
    data = pem.encode('ascii') if isinstance(pem, str) else pem
    return x509.load_pem_x509_certificate(data)


def _utc(cert, name):
    when = getattr(cert, name + '_utc', None)  # cryptography 42+
    if when is None:
        when = getattr(cert, name).replace(tzinfo=datetime.timezone.utc)
    return when


def cert_names(cert):
    """The DNS names and IP addresses a certificate covers (its SAN, else its common name)."""
    x509 = _x509()
    names = set()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names.update(str(n) for n in san.get_values_for_type(x509.DNSName))
        names.update(str(n) for n in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        pass
    if not names:
        from cryptography.x509.oid import NameOID
        names.update(a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME))
    return names


def covers(names, wanted):
    for name in names:
        if name == wanted or (name.startswith('*.') and '.' in wanted and wanted.split('.', 1)[1] == name[2:]):
            return True
    return False


ISSUER_OPTIONS = dict(
    vault_pki=dict(type='str'),
    role=dict(type='str'),
    common_name=dict(type='str'),
    alt_names=dict(type='list', elements='str'),
    ip_sans=dict(type='list', elements='str'),
    uri_sans=dict(type='list', elements='str'),
    other_sans=dict(type='list', elements='str'),
    exclude_cn_from_sans=dict(type='bool'),
    ttl=dict(type='str'),
)
DEPLOY_OPTIONS = dict(
    ref=dict(type='str'),
    field=dict(type='str', choices=list(DEPLOY_FIELDS)),
)
HANDSHAKE_OPTIONS = dict(
    host=dict(type='str'),
    port=dict(type='int'),
    server_name=dict(type='str'),
    ca=dict(type='path'),
    wait=dict(type='int', default=10),
)


class TlsTarget(Target):
    KIND = 'tls'
    STRATEGIES = ('single', 'overlap')
    DEFAULT_POLICY = {'kind': 'tls', 'common_name': 'localhost'}
    OPTIONS = dict(
        issuer=dict(type='dict', options=ISSUER_OPTIONS),
        renew_before=dict(type='str'),
        deploy=dict(type='list', elements='dict', options=DEPLOY_OPTIONS),
        handshake=dict(type='dict', options=HANDSHAKE_OPTIONS),
    )

    def __init__(self, *args, **kwargs):
        super(TlsTarget, self).__init__(*args, **kwargs)
        self._vault = None

    # -- options --------------------------------------------------------------------------------------------------
    def issuer(self):
        spec = self.opt('issuer')
        if not spec:
            return None
        missing = [n for n in ('vault_pki', 'role', 'common_name') if not spec.get(n)]
        if missing:
            raise InvalidOption('target.issuer needs %s' % ', '.join('target.issuer.%s' % n for n in missing))
        return spec

    def mount(self):
        return str(self.issuer()['vault_pki']).strip('/')

    def vault(self):
        """The Vault backend of the rotate module's connection options (any auth method), for the PKI mount."""
        if self._vault is None:
            if self.stores is None:
                raise InvalidOption('target.issuer needs the Vault connection options of the module')
            self._vault = self.stores.backend(parse_ref('vault://%s/issue/%s' % (self.mount(), self.issuer()['role'])))
        return self._vault

    def deploys(self):
        out = []
        for index, item in enumerate(self.opt('deploy') or []):
            if not item.get('ref') or not item.get('field'):
                raise InvalidOption('target.deploy[%d] needs ref and field' % index)
            out.append(item)
        return out

    def prepare(self, current):
        issuer = self.issuer()
        handshake = self.opt('handshake')
        if handshake:
            if not handshake.get('host') or not handshake.get('port'):
                raise InvalidOption('target.handshake needs host and port')
            if not self.deploys():
                raise InvalidOption('target.handshake needs target.deploy: the test runs before finish, so the server '
                                    'must be given the new certificate first (the catalog consumers are written '
                                    'after finish)')
        if issuer is None and self.strategy == 'overlap':
            self.note('self-signed: there is no issuer to revoke the old certificate at; it stays valid until it expires')
        if self.opt('renew_before') is not None:
            parse_duration(self.opt('renew_before'), 'target.renew_before')
        return current

    # -- the value ------------------------------------------------------------------------------------------------
    def new_value(self, current, policy):
        issuer = self.issuer()
        if issuer is None:
            policy = self.policy(policy)
            if policy.get('kind') != 'tls':
                raise InvalidOption("kind tls without target.issuer generates a self-signed certificate: the "
                                    "generate policy must be {kind: tls, common_name: ...}")
            return self.generate(policy)
        data = {'common_name': issuer['common_name']}
        for name in ('alt_names', 'ip_sans', 'uri_sans', 'other_sans'):
            if issuer.get(name):
                data[name] = ','.join(issuer[name])  # the PKI engine takes comma-separated lists
        if issuer.get('exclude_cn_from_sans') is not None:
            data['exclude_cn_from_sans'] = issuer['exclude_cn_from_sans']
        if issuer.get('ttl'):
            data['ttl'] = issuer['ttl']
        response = self.vault().api_write('%s/issue/%s' % (self.mount(), issuer['role']), data)
        issued = response.get('data') if isinstance(response.get('data'), dict) else {}
        if not issued.get('certificate') or not issued.get('private_key'):
            raise TargetRejected('%s/issue/%s answered without a certificate and private key' % (self.mount(), issuer['role']))
        self.touched = True  # a certificate exists now: a rollback revokes it
        chain = issued.get('ca_chain') or ([issued['issuing_ca']] if issued.get('issuing_ca') else [])
        return {'certificate': issued['certificate'], 'private_key': issued['private_key'],
                'ca_chain': '\n'.join(str(c).strip() for c in chain), 'serial': issued.get('serial_number')}

    def describe(self, value):
        value = decode_structured(value)
        if not isinstance(value, dict) or not value.get('certificate'):
            return {}
        try:
            cert = load_cert(value['certificate'])
        except (ValueError, TypeError):
            return {}
        return {'serial': serial_text(cert.serial_number), 'not_after': iso(_utc(cert, 'not_valid_after'))}

    def renewal(self, current):
        """None when ``current`` is due for a new certificate; else ``{'next_due', 'reason'}``."""
        value = decode_structured(current)
        if not isinstance(value, dict) or not value.get('certificate'):
            return None
        try:
            cert = load_cert(value['certificate'])
        except (ValueError, TypeError):
            return None
        start, end = _utc(cert, 'not_valid_before'), _utc(cert, 'not_valid_after')
        before = parse_duration(self.opt('renew_before'), 'target.renew_before')
        if before is None:
            before = (end - start).total_seconds() / 3.0
        due = end.timestamp() - before
        issuer = self.opt('issuer') or {}
        if issuer.get('common_name') and not covers(cert_names(cert), issuer['common_name']):
            return None  # the certificate no longer names what the issuer is asked for
        if time.time() >= due:
            return None
        return {'next_due': iso(due), 'reason': 'the certificate (serial %s) is valid until %s, more than %s'
                % (serial_text(cert.serial_number), iso(end),
                   'target.renew_before' if self.opt('renew_before') else 'a third of its lifetime')}

    # -- set, test, rollback, contract ---------------------------------------------------------------------------
    def apply(self, new, old):
        fields = cert_fields(new)
        for item in self.deploys():
            self.touched = True
            self.stores.write(item['ref'], fields[item['field']])

    def check(self, value, login_only=False):
        value = decode_structured(value)
        fields = cert_fields(value)
        if fields is None:
            self.note('the value is not a map with certificate and private_key')
            return False
        try:
            cert = load_cert(value['certificate'])
            from cryptography.hazmat.primitives import serialization
            key = serialization.load_pem_private_key(value['private_key'].encode('ascii'), password=None)
        except (ValueError, TypeError, AttributeError):
            self.note('the certificate or the private key cannot be parsed (an encrypted key is not supported)')
            return False
        serial = serial_text(cert.serial_number)
        if not _same_key(cert.public_key(), key.public_key()):
            self.note('the private key does not belong to the certificate (serial %s)' % serial)
            return False
        now = datetime.datetime.now(datetime.timezone.utc)
        if not _utc(cert, 'not_valid_before') <= now <= _utc(cert, 'not_valid_after'):
            self.note('the certificate (serial %s) is not valid now' % serial)
            return False
        # an issued certificate must name what was asked for (a self-signed one is built from the policy itself)
        wanted = (self.opt('issuer') or {}).get('common_name')
        if wanted and not covers(cert_names(cert), wanted):
            self.note('the certificate (serial %s) does not cover %s' % (serial, wanted))
            return False
        if self.opt('handshake'):
            try:
                self.handshake(value, cert, serial)
            except TargetRejected as exc:
                if not login_only:
                    raise  # the test step: its message names the server and what it presents
                self.note(str(exc))  # a proof after a rollback, or a resume deciding: refused
                return False
        return True

    def handshake(self, value, cert, serial):
        """The server at ``target.handshake`` presents this certificate and it verifies (chain and name); the server
        is given ``wait`` seconds to pick it up. TargetRejected naming the server and both serials otherwise."""
        spec = self.opt('handshake')
        host, port = spec['host'], int(spec['port'])
        name = spec.get('server_name') or (self.opt('issuer') or {}).get('common_name') or host
        where = 'TLS handshake with %s:%s (server name %s)' % (host, port, name)
        from cryptography.hazmat.primitives import serialization
        expected = cert.public_bytes(serialization.Encoding.DER)
        deadline = time.time() + max(0, int(spec.get('wait') if spec.get('wait') is not None else 10))
        while True:
            try:
                served = _peer_cert(host, port, name, None)
            except (OSError, ssl.SSLError) as exc:
                if time.time() >= deadline:
                    raise TargetUnavailable('%s failed: %s' % (where, type(exc).__name__))
                time.sleep(0.5)
                continue
            if served == expected or time.time() >= deadline:
                break
            time.sleep(0.5)
        if served != expected:
            try:
                got = 'serial %s' % serial_text(_x509().load_der_x509_certificate(served).serial_number)
            except (ValueError, TypeError):
                got = 'a certificate that cannot be parsed'
            raise TargetRejected('%s: the server presents %s, not the new certificate (serial %s)' % (where, got, serial))
        if spec.get('ca'):
            context = ssl.create_default_context(cafile=spec['ca'])
        else:
            context = ssl.create_default_context(cadata=str(value.get('ca_chain') or value['certificate']))
        try:
            _peer_cert(host, port, name, context)
        except ssl.SSLCertVerificationError as exc:
            raise TargetRejected('%s: the new certificate (serial %s) is presented but does not verify: %s'
                                 % (where, serial, exc.verify_message))
        except (OSError, ssl.SSLError) as exc:
            raise TargetUnavailable('%s failed: %s' % (where, type(exc).__name__))

    def revert(self, new, old, previous=None):
        fields = cert_fields(old) if old is not None else None
        for item in self.deploys():
            if fields is None:
                self.stores.delete(item['ref'])
            else:
                self.stores.write(item['ref'], fields[item['field']])
        if self.issuer() is not None and new is not None:
            self.revoke(new, 'the new certificate')

    def contract(self, previous, current):
        if previous is None or self.issuer() is None:
            if previous is not None:
                self.note('self-signed: nothing to revoke; the old certificate stays valid until it expires')
            return None
        old, now = self.describe(previous).get('serial'), self.describe(current).get('serial')
        if old is None or old == now:
            return None
        self.touched = True
        self.revoke(previous, 'the old certificate')
        return None

    def revoke(self, value, what):
        serial = (decode_structured(value) or {}).get('serial') or self.describe(value).get('serial')
        if not serial:
            self.note('%s has no serial: not revoked' % what)
            return
        path = '%s/revoke' % self.mount()
        try:
            self.vault().api_write(path, {'serial_number': serial})
        except SecretNotFound:
            self.note('%s (serial %s) is not known at %s: nothing to revoke' % (what, serial, self.mount()))
            return
        except SecretError as exc:
            if 'expired' in str(exc) or 'already' in str(exc):
                self.note('%s (serial %s): %s' % (what, serial, 'already revoked or expired'))
                return
            raise
        self.note('revoked %s (serial %s) at %s' % (what, serial, self.mount()))


def _same_key(cert_public, key_public):
    from cryptography.hazmat.primitives import serialization
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return cert_public.public_bytes(*fmt) == key_public.public_bytes(*fmt)


def _peer_cert(host, port, name, context):
    """The DER certificate the server presents (``context`` None: not verified, only read)."""
    if context is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=10) as sock:
        with context.wrap_socket(sock, server_hostname=name) as tls:
            return tls.getpeercert(binary_form=True)

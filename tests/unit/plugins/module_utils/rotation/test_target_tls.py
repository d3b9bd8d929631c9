# -*- coding: utf-8 -*-
"""The tls rotation target: issue at a PKI mount (an in-memory CA standing in for Vault's API), self-signed, the
test step's checks, the TLS handshake against a real local server, renewal before expiry, revoke at contract."""

import datetime
import json
import os
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidOption, SecretError, SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.distribution._distribute import fields_of
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation import _engine
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import TargetRejected
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._tls import (
    TlsTarget, cert_fields, covers, serial_text,
)
from tests.unit.plugins.module_utils.rotation.rotation_fakes import MemoryBackend, RecordingAudit

CN = 'api.agentarea.test'
ISSUER = {'vault_pki': 'pki', 'role': 'web', 'common_name': CN, 'alt_names': ['localhost'], 'ip_sans': ['127.0.0.1']}


def _pem(obj):
    return obj.public_bytes(serialization.Encoding.PEM).decode('ascii')


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode('ascii')


class FakePki:
    """What a PKI mount answers: ``<mount>/issue/<role>`` signs a certificate with its CA, ``<mount>/revoke`` marks
    a serial revoked (again: fine; unknown: 'not found'). ``lifetime`` is the TTL of what it issues."""

    NAME = 'vault'

    def __init__(self, lifetime=datetime.timedelta(hours=1)):
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'unit root')])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(self.key, hashes.SHA256()))
        self.lifetime = lifetime
        self.issued, self.revoked, self.calls = {}, set(), []

    def api_write(self, path, data):
        self.calls.append((path, dict(data)))
        if path == 'pki/issue/web':
            key = ec.generate_private_key(ec.SECP256R1())
            names = [x509.DNSName(data['common_name'])] + [x509.DNSName(n) for n in data.get('alt_names', '').split(',') if n]
            now = datetime.datetime.now(datetime.timezone.utc)
            cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, data['common_name'])]))
                    .issuer_name(self.ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                    .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + self.lifetime)
                    .add_extension(x509.SubjectAlternativeName(names), critical=False)
                    .sign(self.key, hashes.SHA256()))
            serial = serial_text(cert.serial_number)
            self.issued[serial] = cert
            return {'data': {'certificate': _pem(cert), 'private_key': _key_pem(key), 'issuing_ca': _pem(self.ca),
                             'ca_chain': [_pem(self.ca)], 'serial_number': serial}}
        if path == 'pki/revoke':
            if data['serial_number'] not in self.issued:
                raise SecretNotFound('nothing at this path', ref='vault://pki/revoke', backend='vault')
            self.revoked.add(data['serial_number'])
            return {'data': {'revocation_time': 1}}
        raise SecretError('unexpected path %s' % path)


class Stores:
    """StoreAccess as a target sees it: the PKI mount's backend, and files for ``target.deploy``."""

    def __init__(self, pki):
        self.pki = pki

    def backend(self, ref):
        assert ref.scheme == 'vault'
        return self.pki

    def write(self, text, value):
        with open(parse_ref(text).location, 'w') as handle:
            handle.write(value)

    def delete(self, text):
        path = parse_ref(text).location
        if os.path.exists(path):
            os.unlink(path)


def target(pki, **options):
    options.setdefault('issuer', dict(ISSUER))
    return TlsTarget(options, options.pop('strategy', 'single'), stores=Stores(pki), fingerprint=json.dumps)


def test_issue_at_the_mount_and_check_the_new_certificate():
    pki = FakePki()
    tls = target(pki)
    value = tls.new_value(None, None)
    assert pki.calls == [('pki/issue/web', {'common_name': CN, 'alt_names': 'localhost', 'ip_sans': '127.0.0.1'})]
    assert set(value) == {'certificate', 'private_key', 'ca_chain', 'serial'} and tls.touched
    assert value['serial'] in pki.issued and value['ca_chain'].startswith('-----BEGIN CERTIFICATE-----')
    assert tls.check(value) is True
    facts = tls.describe(value)
    assert set(facts) == {'serial', 'not_after'} and facts['serial'] == value['serial']


def test_the_check_refuses_a_foreign_key_an_expired_or_a_wrong_name():
    pki = FakePki()
    tls = target(pki)
    one, two = tls.new_value(None, None), tls.new_value(None, None)
    assert tls.check(dict(one, private_key=two['private_key'])) is False
    assert 'does not belong to the certificate' in tls.notes[-1]
    other = target(pki, issuer=dict(ISSUER, common_name='other.test'))
    assert other.check(one) is False and 'does not cover other.test' in other.notes[-1]
    pki.lifetime = datetime.timedelta(seconds=-30)
    assert tls.check(tls.new_value(None, None)) is False and 'is not valid now' in tls.notes[-1]
    assert tls.check('not a map') is False


def test_self_signed_without_an_issuer_from_the_generate_policy():
    tls = TlsTarget({}, 'single', fingerprint=str)
    value = tls.new_value(None, {'kind': 'tls', 'common_name': 'self.test', 'days': 2})
    assert set(value) == {'certificate', 'private_key'} and tls.check(value) is True
    assert tls.contract(value, tls.new_value(None, None)) is None and 'nothing to revoke' in tls.notes[-1]
    with pytest.raises(InvalidOption, match='must be {kind: tls'):
        tls.new_value(None, {'length': 12})


def test_renewal_waits_for_the_last_third_of_the_lifetime_or_renew_before():
    pki = FakePki(lifetime=datetime.timedelta(days=90))
    value = target(pki).new_value(None, None)
    later = target(pki).renewal(value)
    assert later and 'a third of its lifetime' in later['reason'] and later['next_due'].startswith(
        (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=60)).strftime('%Y-%m-%d'))
    assert target(pki, renew_before='89d').renewal(value)['reason'].endswith('target.renew_before')
    assert target(pki, renew_before='91d').renewal(value) is None
    # a certificate that no longer names what the issuer is asked for is due at once
    assert target(pki, issuer=dict(ISSUER, common_name='new.test')).renewal(value) is None
    assert target(pki).renewal(None) is None and target(pki).renewal({'certificate': 'junk'}) is None


def test_contract_revokes_the_old_serial_and_tolerates_an_unknown_one():
    pki = FakePki()
    tls = target(pki)
    old, new = tls.new_value(None, None), tls.new_value(None, None)
    tls.contract(old, new)
    assert pki.revoked == {old['serial']} and 'revoked the old certificate' in tls.notes[-1]
    tls.contract(dict(old, serial='aa:bb'), new)
    assert 'not known at pki' in tls.notes[-1] and pki.revoked == {old['serial']}
    assert tls.contract(new, new) is None and pki.revoked == {old['serial']}


def test_the_handshake_needs_deploy():
    with pytest.raises(InvalidOption, match='target.handshake needs target.deploy'):
        target(FakePki(), handshake={'host': '127.0.0.1', 'port': 1}).prepare(None)


class Server:
    """A TLS server that loads its certificate files on every connection (a server reloading its files)."""

    def __init__(self, cert, key):
        import socket
        self.cert, self.key = cert, key
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stop:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            try:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(self.cert, self.key)
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def close(self):
        self.stop = True
        self.sock.close()


@pytest.fixture
def served(tmp_path):
    pki = FakePki()
    first = target(pki).new_value(None, None)
    crt, key = tmp_path / 'tls.crt', tmp_path / 'tls.key'
    crt.write_text(cert_fields(first)['tls.crt'])
    key.write_text(first['private_key'])
    server = Server(str(crt), str(key))
    deploy = [{'ref': 'file://%s' % crt, 'field': 'tls.crt'}, {'ref': 'file://%s' % key, 'field': 'tls.key'}]
    yield pki, first, server, deploy, crt
    server.close()


def test_rotation_pushes_to_the_server_proves_it_by_handshake_and_revokes_the_old(served):
    pki, first, server, deploy, crt = served
    store = MemoryBackend({'secret/web/tls': dict(first)})
    options = {'issuer': dict(ISSUER), 'deploy': deploy,
               'handshake': {'host': '127.0.0.1', 'port': server.port, 'server_name': 'localhost', 'wait': 2}}
    ref = parse_ref('vault://secret/web/tls')

    def rotation(**kw):
        return _engine.Rotation(store, ref, 'tls', target_options=options, stores=Stores(pki), fingerprint_key='k',
                                audit=RecordingAudit(), environ={}, **kw)
    skipped = rotation().rotate()
    assert skipped['action'] == 'skipped' and skipped['next_due'] and not skipped['changed']
    assert rotation().plan()['plan']['steps'] == []
    done = rotation(force=True).rotate()
    new = store.current('secret/web/tls')
    assert done['action'] == 'rotated' and done['new']['serial'] == new['serial'] != first['serial']
    assert crt.read_text().startswith(new['certificate'].strip())
    assert done['contract']['performed'] and pki.revoked == {first['serial']}
    assert first['private_key'] not in json.dumps(done) and new['private_key'] not in json.dumps(done)


def test_a_server_that_keeps_the_old_certificate_fails_the_test_and_rolls_back(served):
    pki, first, server, deploy, crt = served
    store = MemoryBackend({'secret/web/tls': dict(first)})
    elsewhere = crt.parent / 'elsewhere.crt'
    options = {'issuer': dict(ISSUER), 'deploy': [{'ref': 'file://%s' % elsewhere, 'field': 'tls.crt'}],
               'handshake': {'host': '127.0.0.1', 'port': server.port, 'server_name': 'localhost', 'wait': 0}}
    engine = _engine.Rotation(store, parse_ref('vault://secret/web/tls'), 'tls', target_options=options,
                              stores=Stores(pki), fingerprint_key='k', audit=RecordingAudit(), environ={}, force=True)
    with pytest.raises(TargetRejected) as err:
        engine.rotate()
    msg = str(err.value)
    assert 'TLS handshake with 127.0.0.1:%d (server name localhost)' % server.port in msg
    assert 'presents serial %s, not the new certificate' % first['serial'] in msg
    rolled = engine.result['rolled_back']
    assert rolled['target_reverted'] is True and rolled['old_credential_works'] is True and rolled['pending_cleared']
    assert store.current('secret/web/tls') == first
    assert elsewhere.read_text().startswith(first['certificate'].strip())  # the deploy target has the old one back
    new_serial = engine.result['new']['serial']
    assert pki.revoked == {new_serial}  # the certificate nobody will use is revoked


def test_consumers_take_tls_crt_and_tls_key():
    value = target(FakePki()).new_value(None, None)
    fields = fields_of(value)
    assert fields['tls.crt'] == value['certificate'].strip() + '\n' + value['ca_chain'].strip() + '\n'
    assert fields['tls.key'] == value['private_key'] and cert_fields(value)['tls.crt'] == fields['tls.crt']
    assert 'tls.crt' not in fields_of({'password': 'x'})


def test_wildcards_cover_one_label():
    assert covers({'*.agentarea.test'}, 'api.agentarea.test')
    assert not covers({'*.agentarea.test'}, 'a.b.agentarea.test') and not covers({'x.test'}, 'y.test')


def test_a_rehearsal_serves_the_new_certificate_then_the_old_one_again(served):
    pki, first, server, deploy, crt = served
    store = MemoryBackend({'secret/web/tls': dict(first)})
    options = {'issuer': dict(ISSUER), 'deploy': deploy,
               'handshake': {'host': '127.0.0.1', 'port': server.port, 'server_name': 'localhost', 'wait': 1}}
    engine = _engine.Rotation(store, parse_ref('vault://secret/web/tls'), 'tls', target_options=options,
                              stores=Stores(pki), fingerprint_key='k', audit=RecordingAudit(), environ={})
    out = engine.rotate(rehearse=True)
    assert out['rehearsal'] == {'rotation': 'ok', 'rollback': 'ok', 'old_credential_works': True,
                                'new_credential_rejected': True}
    assert store.current('secret/web/tls') == first and crt.read_text().startswith(first['certificate'].strip())
    assert pki.revoked == {out['new']['serial']}


def test_the_issue_request_carries_the_issuer_options_as_the_pki_engine_takes_them():
    pki = FakePki()
    issuer = dict(ISSUER, uri_sans=['spiffe://agentarea/api'], other_sans=['1.3.6.1.4.1.311.20.2.3;utf8:api@agentarea'],
                  exclude_cn_from_sans=True, ttl='24h')
    target(pki, issuer=issuer).new_value(None, None)
    path, data = pki.calls[0]
    assert path == 'pki/issue/web'
    assert data == {'common_name': CN, 'alt_names': 'localhost', 'ip_sans': '127.0.0.1',
                    'uri_sans': 'spiffe://agentarea/api', 'other_sans': '1.3.6.1.4.1.311.20.2.3;utf8:api@agentarea',
                    'exclude_cn_from_sans': True, 'ttl': '24h'}

# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-run broker: one process per ``ansible-playbook`` run that does the remote stores' I/O for every worker.

Ansible forks a worker for every task; a lookup that reads a store in the worker imports the SDK, builds a client,
logs in and opens a connection again each time. The broker does that once per run, the way ``ansible-connection``
keeps a persistent connection: the first lookup of a run that reads a remote store (or the ``run_cache`` callback,
before the first task) starts it; it is found through a Unix socket in a private directory named after the
``ansible-playbook`` process (pid and start time, so a reused pid cannot find it), and it exits when that process
ends, also when it is killed, after the backends' clean-ups (token and lease revocation), removing its directory.

- The directory is 0700 and must be owned by us (checked before use); the socket is 0600; both ends check the
  peer's uid with ``SO_PEERCRED``. Values live in the broker's memory only and cross the socket to the worker that
  asked; nothing is written to disk.
- One backend (with its client and login) per backend identity (scheme and the resolved options); the run cache
  (values, logins, clean-up records) in memory; concurrent requests for the same (identity, reference) are
  coalesced: one store read, every waiter answered.
- Workers import no SDK. A lookup call is sent whole (``lookup``: scheme, terms, resolved options): the broker
  builds the references, reads and selects, and answers with values or each term's error (category, message),
  so that the worker imports none of our backends and core modules either. A call that must write an audit
  event sends references (``read``) and gets the secrets back; typed errors come back as typed errors.

Messages are JSON, each preceded by its length (4 bytes, big endian). Controller-only code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import glob
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

#: schemes whose reads go through the broker (local files, the environment, .env files and pass stay in-process)
SCHEMES = frozenset(('vault', 'aws', 'ssm', 'azure', 'gcp', 'k8s'))
#: where the run directories are made (tests point it at an unusable place to check the fallback)
DIR_ENV = 'ANSIBLE_AGENTAREA_SECRETS_BROKER_DIR'
PREFIX = 'agentarea-secrets-broker-'
SOCKET = 'sock'
LOCK = 'lock'
#: held (flock) by the broker from its start to its exit: a directory whose owner is gone but whose broker is still
#: revoking the run's logins is not stale yet
ALIVE = 'alive'
#: seconds a worker waits for a broker it started (or that another worker is starting)
START_TIMEOUT = 15.0
#: seconds between checks of the owner when pidfd_open is not available
POLL = 0.5
MAX_MESSAGE = 256 * 1024 * 1024
_HEADER = struct.Struct('!I')
_PEERCRED = struct.Struct('3i')

FALLBACK_WARNING = ('agentarea.secrets: the per-run broker could not be started (%s); this run reads its secrets '
                    'in every task instead (slower, and values are not shared between tasks)')


#: modules of this collection that change no store a lookup reads through the broker: read-only modules, files on
#: a host and restarts. Any other module's change (or failure: it may have written before failing) drops the
#: broker's cached values.
NO_STORE = ('secret_info', 'secret_list', 'catalog_info', 'vault_read', 'audit_report', 'secret_scan', 'secret_file',
            'rollout')


def changes_store(action, result, check_mode=False, failed=False):
    """Whether a task of ``action`` (its resolved name) with ``result`` may have changed a store."""
    action = action or ''
    if not action.startswith('agentarea.secrets.') or check_mode:
        return False
    if action.split('.')[-1] in NO_STORE:
        return False
    return bool(result.get('changed') or result.get('failed') or failed)


class BrokerUnavailable(Exception):
    """The broker cannot be reached or started (the caller falls back to reading directly)."""


# -- where: the owner, its run directory ------------------------------------------------------------------------
def start_time(pid):
    """The start time of ``pid`` in clock ticks since boot (field 22 of /proc/<pid>/stat), or None."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError):
        return None
    try:
        return int(data[data.rindex(b')') + 2:].split()[19])
    except (ValueError, IndexError):
        return None


def owner_pid():
    """The ``ansible-playbook`` process of this run: the parent of a worker (forked by multiprocessing), or this
    process when it is the main one (the callback, lookups templated outside tasks)."""
    try:
        import multiprocessing  # pylint: disable=import-outside-toplevel
        parent = multiprocessing.parent_process()
    except (ImportError, AttributeError):
        parent = None
    if parent is not None and parent.pid:
        return parent.pid
    return os.getpid()


def base_dir():
    configured = os.environ.get(DIR_ENV)
    if configured:
        return configured
    shm = '/dev/shm'
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return tempfile.gettempdir()


def run_dir(pid=None):
    pid = owner_pid() if pid is None else pid
    return os.path.join(base_dir(), '%s%d-%d-%s' % (PREFIX, os.getuid(), pid, start_time(pid) or 0))


def check_dir(path):
    """Raise BrokerUnavailable unless ``path`` is a real directory owned by us, private (no group/other bits)."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise BrokerUnavailable('cannot stat the run directory: %s' % errno.errorcode.get(exc.errno, exc.errno))
    import stat  # pylint: disable=import-outside-toplevel
    if not stat.S_ISDIR(info.st_mode):
        raise BrokerUnavailable('the run directory is not a directory')
    if info.st_uid != os.getuid():
        raise BrokerUnavailable('the run directory is owned by another user')
    if info.st_mode & 0o077:
        raise BrokerUnavailable('the run directory is not private (mode %o)' % (info.st_mode & 0o777))


def peer_uid(sock):
    """The uid of the process at the other end of a Unix socket (None where SO_PEERCRED does not exist)."""
    option = getattr(socket, 'SO_PEERCRED', None)
    if option is None:
        return None
    _pid, uid, _gid = _PEERCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, option, _PEERCRED.size))
    return uid


def remove_stale():
    """Run directories of ours whose owner is gone (a broker that was itself killed)."""
    for path in glob.glob(os.path.join(base_dir(), '%s%d-*' % (PREFIX, os.getuid()))):
        try:
            _uid, pid, started = os.path.basename(path)[len(PREFIX):].split('-')
            alive = start_time(int(pid))
            if alive is not None and str(alive) == started:
                continue
            if alive is None and started == '0' and _pid_exists(int(pid)):
                continue
            check_dir(path)
        except (ValueError, BrokerUnavailable):
            continue
        if broker_running(path):
            continue  # its owner is gone and it is finishing (revoking the run's logins): it removes the directory
        shutil.rmtree(path, ignore_errors=True)


def broker_running(path):
    """True while the broker of run directory ``path`` holds its ``alive`` lock."""
    try:
        fd = os.open(os.path.join(path, ALIVE), os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def _pid_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


# -- the wire ---------------------------------------------------------------------------------------------------
def send(sock, obj):
    data = json.dumps(obj, default=str).encode('utf-8')
    sock.sendall(_HEADER.pack(len(data)) + data)


def _recv_exact(sock, size):
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise EOFError('connection closed')
        chunks.append(chunk)
        size -= len(chunk)
    return b''.join(chunks)


def recv(sock):
    (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    if size > MAX_MESSAGE:
        raise EOFError('message too large')
    return json.loads(_recv_exact(sock, size).decode('utf-8'))


def error_from_wire(data):
    with loading():
        from ansible_collections.agentarea.secrets.plugins.module_utils.core import _errors  # pylint: disable=import-outside-toplevel
    cls = getattr(_errors, data.get('error') or '', None)
    if not (isinstance(cls, type) and issubclass(cls, _errors.SecretError)):
        cls = _errors.SecretError
    return cls(data.get('cause'), ref=data.get('ref'), backend=data.get('backend'))


_BOOTSTRAP = ('import sys; sys.path.insert(0, sys.argv[1]); '
              'from ansible_collections.agentarea.secrets.plugins.plugin_utils import _broker_server; '
              '_broker_server.main(sys.argv[2:])')


def _collections_root():
    """The directory that holds ``ansible_collections`` (this file is .../ansible_collections/agentarea/secrets/
    plugins/plugin_utils/_broker.py)."""
    path = os.path.abspath(__file__)
    for _level in range(6):
        path = os.path.dirname(path)
    return path


# -- the worker's side ------------------------------------------------------------------------------------------
_CLIENT = {}


def _connect(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        uid = peer_uid(sock)
        if uid is not None and uid != os.getuid():
            raise BrokerUnavailable('the broker socket belongs to another user')
    except Exception:
        sock.close()
        raise
    return sock


def _spawn(directory, owner, started):
    env = dict(os.environ)
    env.pop('PYTHONSTARTUP', None)
    proc = subprocess.Popen([sys.executable, '-c', _BOOTSTRAP, _collections_root(), directory, str(owner),
                             str(started or 0)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            close_fds=True, start_new_session=True, cwd='/', env=env)
    try:
        ready, _w, _x = select.select([proc.stdout], [], [], START_TIMEOUT)
        line = proc.stdout.readline() if ready else b''
    finally:
        proc.stdout.close()
    if line.strip() != b'ready':
        raise BrokerUnavailable('the broker did not start')
    if owner == os.getpid():
        _CLIENT['proc'] = proc  # our child: reaped by stop()
    else:
        # the broker outlives this worker (it ends with ansible-playbook); never wait for it here
        proc.returncode = 0


def connect(start=True, owner=None):
    """A connected socket to this run's broker, started first when ``start`` (None when not running and not
    ``start``). Raises BrokerUnavailable."""
    owner = owner_pid() if owner is None else owner
    directory = run_dir(owner)
    path = os.path.join(directory, SOCKET)
    try:
        check_dir(directory)  # never trust a directory that is not ours and private
    except BrokerUnavailable:
        if os.path.lexists(directory):
            raise
    else:
        try:
            return _connect(path)
        except (OSError, BrokerUnavailable) as exc:
            if not start and isinstance(exc, BrokerUnavailable):
                raise
    if not start:
        return None
    try:
        os.mkdir(directory, 0o700)
        remove_stale()
    except FileExistsError:
        pass
    except OSError as exc:
        raise BrokerUnavailable('cannot create the run directory: %s' % errno.errorcode.get(exc.errno, exc.errno))
    check_dir(directory)
    try:
        fd = os.open(os.path.join(directory, LOCK), os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600)
    except OSError:
        raise BrokerUnavailable('cannot open the run lock')
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # one worker starts it; the others wait here, then connect
        try:
            return _connect(path)
        except (OSError, BrokerUnavailable):
            pass
        try:
            os.unlink(path)  # a broker that died without cleaning up
        except OSError:
            pass
        _spawn(directory, owner, start_time(owner))
        return _connect(path)
    except OSError as exc:
        raise BrokerUnavailable('cannot reach the broker: %s' % errno.errorcode.get(exc.errno, exc.errno))
    finally:
        os.close(fd)


class Client:
    """This process's connection to the broker (one per process, kept between lookup calls)."""

    def __init__(self, sock):
        self.sock = sock
        self.pid = os.getpid()

    def call(self, message):
        try:
            send(self.sock, message)
            return recv(self.sock)
        except (OSError, EOFError, ValueError) as exc:
            self.close()
            raise BrokerUnavailable('the broker connection was lost (%s)' % type(exc).__name__)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        if _CLIENT.get('client') is self:
            del _CLIENT['client']


def client(start=True):
    """The broker's client for this process, or None (``start`` false and no broker running). Raises
    BrokerUnavailable when it cannot be reached or started."""
    current = _CLIENT.get('client')
    if current is not None and current.pid == os.getpid():
        return current
    _CLIENT.pop('client', None)
    sock = connect(start=start)
    if sock is None:
        return None
    current = _CLIENT['client'] = Client(sock)
    return current


def read(scheme, options, basedir, refs, cache):
    """Secret or SecretError per ref, read by the broker. Raises BrokerUnavailable (the caller reads directly)."""
    # pylint: disable=import-outside-toplevel
    with loading():
        from ansible_collections.agentarea.secrets.plugins.module_utils.core import _audit
        from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import Secret
    message = {'op': 'read', 'scheme': scheme, 'options': options, 'basedir': basedir,
               'refs': [str(ref) for ref in refs], 'cache': bool(cache)}
    answer = client().call(message)
    outcomes = answer.get('outcomes')
    if not isinstance(outcomes, list) or len(outcomes) != len(refs):
        raise BrokerUnavailable('the broker gave an unexpected answer')
    out = []
    for ref, outcome in zip(refs, outcomes):
        _audit.note_retries(ref, outcome.get('retries'))
        if 'secret' in outcome:
            out.append(Secret.from_dict(outcome['secret']))
        else:
            out.append(error_from_wire(outcome))
    return out


def lookup(request):
    """A whole lookup call done by the broker (``op: lookup``): ``request`` holds the lookup's scheme (None for any
    reference), its terms, its resolved options, its key option and reference parameters, the basedir and the cache
    flag. The broker builds the references, reads and selects as the lookup would in the worker, so that the worker
    imports none of our core or backend modules. The answer is ``{'results': [...]}`` (per term ``{'value': v}``,
    ``{'bytes': base64}`` or ``{'category': c, 'message': m}``), ``{'fatal': message}`` (a term or an option the
    lookup refuses before reading), or ``{'thick': True}`` (something the broker does not do for a worker: the
    lookup reads the usual way). Raises BrokerUnavailable."""
    answer = client().call(dict(request, op='lookup'))
    if 'error' in answer:  # a broker of another copy of the collection that does not know the operation
        return {'thick': True}
    if not any(key in answer for key in ('results', 'fatal', 'thick')):
        raise BrokerUnavailable('the broker gave an unexpected answer')
    return answer


def invalidate():
    """Drop the broker's cached values, if this run has a broker (never starts one)."""
    try:
        current = client(start=False)
        if current is not None:
            current.call({'op': 'invalidate'})
    except BrokerUnavailable:
        pass


def stop():
    """End this process's broker (the callback, at the end of the run): clean-up results, or None."""
    try:
        current = client(start=False)
        if current is None:
            return None
        answer = current.call({'op': 'stop'})
    except BrokerUnavailable:
        return None
    current.close()
    proc = _CLIENT.pop('proc', None)
    if proc is not None:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
    return answer.get('cleanups') or []

# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-run broker's own process (see ``_broker``, which workers and the callback import): its in-memory run
cache, the coalesced reads, the end of the run. Kept apart so that a worker, which compiles every plugin file of a
collection from source, compiles only the client side. Controller-only code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import socket
import threading
import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _audit
from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import Secret
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.plugin_utils._broker import (
    ALIVE, POLL, SOCKET, error_from_wire, peer_uid, recv, send, start_time, _pid_exists)


def error_to_wire(exc):
    if isinstance(exc, SecretError):
        ref = exc.ref
        return {'error': type(exc).__name__, 'cause': str(exc.cause), 'ref': None if ref is None else str(ref),
                'backend': exc.backend}
    # never the exception's text: an SDK's message may echo a request body
    return {'error': 'SecretError', 'cause': 'unexpected error in the broker: %s' % type(exc).__name__,
            'ref': None, 'backend': None}


# -- the run cache, in the broker's memory ------------------------------------------------------------------------
class MemoryCache:
    """The run cache the backends see in the broker (``get``/``put``/``lock``/``on_finish``, as ``RunCache``):
    logins and clean-up records, in this process's memory only."""

    enabled = True

    def __init__(self):
        self.key = os.urandom(32)
        self._entries = {}
        self._locks = {}
        self._guard = threading.Lock()

    def get(self, kind, ident):
        with self._guard:
            entry = self._entries.get((kind, ident))
        return json.loads(entry) if entry is not None else None

    def put(self, kind, ident, obj):
        data = json.dumps(obj, default=str)  # a copy, as the file cache gives
        with self._guard:
            self._entries[(kind, ident)] = data

    def delete(self, kind, ident):
        with self._guard:
            self._entries.pop((kind, ident), None)

    @contextlib.contextmanager
    def lock(self, kind, ident):
        with self.lock_many(kind, [ident]):
            yield

    @contextlib.contextmanager
    def lock_many(self, kind, idents):
        with self._guard:
            locks = [self._locks.setdefault((kind, ident), threading.RLock()) for ident in sorted(set(idents))]
        taken = []
        try:
            for item in locks:
                item.acquire()
                taken.append(item)
            yield
        finally:
            for item in reversed(taken):
                item.release()

    def flush(self, kind):
        with self._guard:
            for key in [k for k in self._entries if k[0] == kind]:
                del self._entries[key]

    def on_finish(self, ident, record):
        self.put('cleanup', ident, record)

    def forget_finish(self, ident):
        self.delete('cleanup', ident)

    def records(self, kind):
        with self._guard:
            items = sorted((k[1], v) for k, v in self._entries.items() if k[0] == kind)
        return [json.loads(v) for _k, v in items]


class _Flight:
    """One store read that several requests wait for."""

    def __init__(self):
        self.done = threading.Event()
        self.outcome = None

    def set(self, outcome):
        self.outcome = outcome
        self.done.set()

    def wait(self):
        self.done.wait()
        return self.outcome


# -- the broker process ---------------------------------------------------------------------------------------
class Broker:
    def __init__(self, directory, owner, owner_start):
        self.dir = directory
        self.owner = owner
        self.owner_start = owner_start
        self.cache = MemoryCache()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._backends = {}       # key -> backend
        self._fronts = {}         # key -> (options, a validated backend that builds references and selects)
        self._creating = {}       # key -> lock (one connect per identity)
        # values and reads in flight are per (backend identity, reference), as the file run cache keys them: two
        # lookups with different options of one identity (the vault and the secret lookup, on_missing ...) share them
        self._values = {}         # (identity, ref) -> (freshness, secret dict)
        self._flights = {}        # (identity, ref) -> _Flight
        self._generation = 0      # bumped by invalidate: reads started before it are not kept
        self._listener = None
        self._wake = os.pipe()  # written to when stopping: the accept loop ends at once, not at its next poll
        os.set_blocking(self._wake[1], False)
        self._alive = None
        self._finished = None
        self._finishing = threading.Lock()
        self.answered = threading.Event()
        self.stop_requested = False

    # -- serving
    def listen(self):
        alive = os.open(os.path.join(self.dir, ALIVE), os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600)
        fcntl.flock(alive, fcntl.LOCK_EX)  # released by the kernel when this process ends, however it ends
        self._alive = alive
        tmp = os.path.join(self.dir, '%s.%d' % (SOCKET, os.getpid()))
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(tmp)
        finally:
            os.umask(old)
        os.chmod(tmp, 0o600)
        listener.listen(128)
        os.rename(tmp, os.path.join(self.dir, SOCKET))  # workers never see a socket that does not accept yet
        self._listener = listener

    def stop_soon(self):
        """End the accept loop now (also from a signal handler: one byte into a pipe)."""
        self.stopping.set()
        try:
            os.write(self._wake[1], b'x')
        except OSError:
            pass  # the pipe is full: a byte is already waiting

    def serve(self):
        watcher = threading.Thread(target=self._watch_owner, name='owner')
        watcher.daemon = True
        watcher.start()
        while not self.stopping.is_set():
            try:
                ready, _w, _x = select.select([self._listener, self._wake[0]], [], [], POLL)
            except (OSError, ValueError):
                break
            if self._listener not in ready:
                continue
            try:
                conn, _addr = self._listener.accept()
            except OSError:
                continue
            worker = threading.Thread(target=self._handle, args=(conn,), name='conn')
            worker.daemon = True
            worker.start()
        return self.finish()

    def _watch_owner(self):
        pidfd = None
        if hasattr(os, 'pidfd_open'):
            try:
                pidfd = os.pidfd_open(self.owner)
            except ProcessLookupError:
                self.stop_soon()
                return
            except OSError:
                pidfd = None
        if not self._owner_alive():
            self.stop_soon()
            return
        while not self.stopping.is_set():
            if pidfd is not None:
                ready, _w, _x = select.select([pidfd], [], [], 5.0)
                if ready:
                    break
            else:
                time.sleep(POLL)
                if not self._owner_alive():
                    break
        self.stop_soon()

    def _owner_alive(self):
        started = start_time(self.owner)
        if started is None:
            return _pid_exists(self.owner) and not self.owner_start
        return not self.owner_start or started == self.owner_start

    def _handle(self, conn):
        with contextlib.closing(conn):
            try:
                uid = peer_uid(conn)
                if uid is not None and uid != os.getuid():
                    return
                while not self.stopping.is_set():
                    try:
                        request = recv(conn)
                    except (EOFError, OSError, ValueError):
                        return
                    op = request.get('op')
                    if op == 'read':
                        send(conn, {'outcomes': self.read(request)})
                    elif op == 'lookup':
                        send(conn, self.lookup(request))
                    elif op == 'invalidate':
                        self.invalidate()
                        send(conn, {'ok': True})
                    elif op == 'ping':
                        send(conn, {'ok': True, 'pid': os.getpid()})
                    elif op == 'stop':
                        self.stop_requested = True
                        try:
                            send(conn, {'ok': True, 'cleanups': self.finish()})
                        finally:
                            self.answered.set()
                        return
                    else:
                        send(conn, {'error': 'unknown operation'})
            except (OSError, EOFError):
                return

    # -- reading
    def _backend(self, scheme, options, basedir):
        from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class  # pylint: disable=import-outside-toplevel
        key = json.dumps([scheme, basedir, options], sort_keys=True, default=repr)
        with self._lock:
            backend = self._backends.get(key)
            if backend is not None:
                return key, backend
            creating = self._creating.setdefault(key, threading.Lock())
        with creating:
            with self._lock:
                backend = self._backends.get(key)
            if backend is not None:
                return key, backend
            backend = backend_class(scheme)(options)
            backend.basedir = basedir
            backend.cache = self.cache
            backend.validate()
            backend.client()  # connect (and log in) once, before concurrent reads share the client
            with self._lock:
                self._backends[key] = backend
            return key, backend

    def read(self, request):
        refs = [parse_ref(text) for text in request.get('refs') or ()]
        try:
            key, backend = self._backend(request['scheme'], request.get('options') or {}, request.get('basedir'))
        except Exception as exc:  # pylint: disable=broad-except
            return [error_to_wire(exc)] * len(refs)
        try:
            ident = backend.identity()
        except Exception:  # pylint: disable=broad-except
            ident = key
        use_cache = bool(request.get('cache')) and backend.CACHEABLE
        outcomes = {}
        waits = []
        fetch = []
        with self._lock:
            generation = self._generation
            seen = set()
            for ref in refs:
                slot = (ident, str(ref))
                if slot in seen:
                    continue
                seen.add(slot)
                if not use_cache:
                    fetch.append((ref, slot, None))
                    continue
                hit = self._values.get(slot)
                if hit is not None and hit[0] == backend.freshness(ref):  # a changed local token: read again
                    outcomes[slot] = {'secret': hit[1]}
                    continue
                flight = self._flights.get(slot)
                if flight is not None:
                    waits.append((slot, flight))
                    continue
                flight = self._flights[slot] = _Flight()
                fetch.append((ref, slot, flight))
        if fetch:
            tokens = results = None
            # the store's retries of each read, for the audit event that the asking worker writes
            retried = [_audit.retries_of(ref) for ref, _s, _f in fetch]
            try:
                tokens = [backend.freshness(ref) for ref, _s, _f in fetch]
                results = backend.read_many([ref for ref, _s, _f in fetch])
            except Exception as exc:  # pylint: disable=broad-except
                results = [exc] * len(fetch)
            finally:
                if results is None or len(results) != len(fetch):  # never leave a waiter waiting
                    results = [SecretError('the store gave no answer for this reference')] * len(fetch)
                if tokens is None:
                    tokens = [None] * len(fetch)
            with self._lock:
                keep = use_cache and generation == self._generation
                for (ref, slot, flight), token, result, before in zip(fetch, tokens, results, retried):
                    if isinstance(result, Secret):
                        wire = {'secret': result.to_dict()}
                        if keep and result.metadata.get('cache', True):
                            self._values[slot] = (token, wire['secret'])
                    else:
                        wire = error_to_wire(result)
                    retries = _audit.retries_of(ref) - before
                    outcomes[slot] = dict(wire, retries=retries) if retries else wire
                    if flight is not None:
                        flight.set(wire)  # the waiters did not retry: only the asking worker's event says so
                        if self._flights.get(slot) is flight:
                            del self._flights[slot]
        for slot, flight in waits:
            outcomes[slot] = flight.wait()
        return [outcomes[(ident, str(ref))] for ref in refs]

    def lookup(self, request):
        """A lookup call for a worker (``_broker.lookup``): references built, read (through ``read``: the cache and
        the coalescing apply) and selected as plugin_utils/_lookup.py does where it reads in the worker, with the
        same errors; the worker applies its on_missing/on_denied/on_deleted policy to each term's error."""
        from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class  # pylint: disable=import-outside-toplevel
        options = request.get('options') or {}
        basedir = request.get('basedir')
        scheme = request.get('scheme')
        fronts = {}

        def front(name, ref):
            """(the options the backend takes, a validated backend for references and selection), kept for the
            next calls with the same options (a loop's items)"""
            if name not in fronts:
                cls = backend_class(name)
                wire = dict((option, options[option]) for option in cls.ARGSPEC if option in options)
                key = json.dumps([name, basedir, wire], sort_keys=True, default=repr)
                with self._lock:
                    known = self._fronts.get(key)
                if known is None:
                    backend = cls(wire)
                    backend.basedir = basedir
                    backend.cache = self.cache
                    try:
                        backend.validate()
                    except SecretError as exc:
                        if exc.ref is None:
                            exc.ref = ref
                        raise
                    known = (wire, backend)
                    with self._lock:
                        if len(self._fronts) >= 64:
                            self._fronts.clear()
                        self._fronts[key] = known
                fronts[name] = known
            return fronts[name]

        try:
            try:
                refs = []
                for term in request.get('terms') or ():
                    if scheme is None:
                        refs.append(parse_ref(term))
                        continue
                    _wire, backend = front(scheme, term)
                    params = dict((name, options[name]) for name in request.get('ref_params') or () if name in options)
                    refs.append(backend.ref_from_term(term, key=options.get(request.get('key_option')), **params))
                by_scheme = {}
                for index, ref in enumerate(refs):
                    by_scheme.setdefault(ref.scheme, []).append(index)
                for name, indexes in by_scheme.items():
                    front(name, refs[indexes[0]])
            except SecretError as exc:
                return {'fatal': str(exc)}
            results = [None] * len(refs)
            for name, indexes in by_scheme.items():
                wire, backend = fronts[name]
                bases = list(dict.fromkeys(str(refs[i].without_key()) for i in indexes))
                outcomes = dict(zip(bases, self.read({'scheme': name, 'options': wire, 'basedir': basedir,
                                                      'refs': bases, 'cache': request.get('cache')})))
                for i in indexes:
                    results[i] = self._selected(backend, refs[i], outcomes[str(refs[i].without_key())])
            json.dumps(results)
            return {'results': results}
        except Exception:  # pylint: disable=broad-except
            # anything else (a value JSON cannot carry, a bug): the worker does the call the usual way, and reports
            # what it finds there
            return {'thick': True}

    @staticmethod
    def _selected(backend, ref, outcome):
        try:
            if 'secret' not in outcome:
                raise error_from_wire(outcome)
            value = backend.select(Secret.from_dict(outcome['secret']), ref)
        except SecretError as exc:
            if exc.ref is None:
                exc.ref = ref
            if exc.backend is None:
                exc.backend = backend.NAME
            return {'category': exc.category, 'message': str(exc)}
        if isinstance(value, bytes):
            return {'bytes': base64.b64encode(value).decode('ascii')}
        return {'value': value}

    def invalidate(self):
        """A task of ours changed a store: forget every value (reads in flight are not kept either)."""
        with self._lock:
            self._generation += 1
            self._values.clear()
            self._flights.clear()

    # -- the end
    def finish(self):
        """Clean-ups of the run (token and lease revocation), then the directory goes. Once."""
        with self._finishing:
            if self._finished is None:
                self.stop_soon()
                self._finished = self._finish()
            return self._finished

    def _finish(self):
        results = []
        from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class  # pylint: disable=import-outside-toplevel
        for record in self.cache.records('cleanup'):
            try:
                results.append(backend_class(record['backend']).cleanup_run(record))
            except Exception as exc:  # pylint: disable=broad-except
                results.append({'record': record.get('what'), 'error': type(exc).__name__})
        with self._lock:
            self._values.clear()
            for backend in self._backends.values():
                try:
                    backend.close()
                except Exception:  # pylint: disable=broad-except
                    pass
            self._backends.clear()
        shutil.rmtree(self.dir, ignore_errors=True)
        return results


def main(argv):
    """``python -c <bootstrap> <collections root> <directory> <owner pid> <owner start time>``."""
    directory, owner, started = argv[0], int(argv[1]), int(argv[2])
    import signal  # pylint: disable=import-outside-toplevel
    broker = Broker(directory, owner, started)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches ansible-playbook; we end when it ends
    signal.signal(signal.SIGTERM, lambda *_a: broker.stop_soon())
    signal.signal(signal.SIGHUP, lambda *_a: broker.stop_soon())
    try:
        broker.listen()
    except OSError:
        shutil.rmtree(directory, ignore_errors=True)
        os.write(1, b'fail\n')
        os._exit(1)
    os.write(1, b'ready\n')
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    try:
        broker.serve()
        if broker.stop_requested:
            broker.answered.wait(5.0)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        os._exit(0)

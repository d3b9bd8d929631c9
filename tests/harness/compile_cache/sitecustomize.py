# -*- coding: utf-8 -*-
"""Compile caches for the tests' ``ansible-playbook`` runs (not shipped; never used by `make bench` or by users).

The main suite makes about 1,200 ``ansible-playbook`` runs, and in each of them Ansible does two things again that
give the same result every time, because the collection installed for the session does not change:

- **Packaging a module** (AnsiballZ): the first task of each module in a run parses the module and every
  module_utils file it reaches (``recursive_finder``) to find what to put in the zip: about 1.3 s of CPU for one of
  our modules, which reach every backend through the registry. The files the finder chose (and its metadata) are
  kept per module source, ansible-core version and collections path, and written into the zip again on later runs
  while none of the files they came from has changed (modification time and size).
- **Running a module**: Python's zipimport neither reads nor writes bytecode, so every module task compiles
  ``ansible.module_utils.basic`` and our module_utils from source again (0.2-0.5 s of CPU per task). Compiled code
  is kept per interpreter and hash of the source, its file names set to the path the zip import gave.

- **YAML parsed in every run**: each collection's ``meta/runtime.yml`` (ansible.builtin's is 9,700 lines, about
  0.15 s) and the documentation of every configurable plugin loaded (its options), in every worker too. The parsed
  result is kept per text, origin and trust (Ansible's tagged values pickle as they are).

The code that runs is the same: the same files in the zip, the same source compiled by the same interpreter. The
test harness puts this directory on the PYTHONPATH of the runs it starts; AGENTAREA_TEST_COMPILE_CACHE names the
cache directory (a private directory of the test session) and ``AGENTAREA_TEST_COMPILE_CACHE=0`` for pytest turns
both off. A cache that cannot be read or written is skipped.
"""

import hashlib
import marshal
import os
import pickle
import sys

_DIR = os.environ.get("AGENTAREA_TEST_COMPILE_CACHE")


def _renamed(code, filename):
    consts = tuple(_renamed(c, filename) if isinstance(c, type(code)) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _store(path, write):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except Exception:  # pylint: disable=broad-except
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _cache_zipimport():
    import zipimport
    compile_source = getattr(zipimport, "_compile_source", None)
    if compile_source is None:
        return

    def cached(pathname, source):
        data = source if isinstance(source, bytes) else source.encode("utf-8", "surrogateescape")
        path = os.path.join(_DIR, "code-%s-%s" % (sys.implementation.cache_tag, hashlib.sha256(data).hexdigest()))
        try:
            with open(path, "rb") as f:
                code = marshal.load(f)
        except Exception:  # pylint: disable=broad-except
            code = None
        if code is not None:
            return code if code.co_filename == pathname else _renamed(code, pathname)
        code = compile_source(pathname, source)
        _store(path, lambda f: marshal.dump(code, f))
        return code

    zipimport._compile_source = cached


def _sources(arcnames):
    """The files the zip entries come from, each with its modification time and size (entries Ansible makes up,
    such as the ``ansible`` package stub, have none)."""
    import ansible
    roots = [os.path.dirname(os.path.dirname(ansible.__file__))]
    roots += [p for p in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p]
    found = []
    for name in arcnames:
        for root in roots:
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            found.append((path, st.st_mtime_ns, st.st_size))
            break
    return found


def _unchanged(sources):
    for path, mtime, size in sources:
        try:
            st = os.stat(path)
        except OSError:
            return False
        if (st.st_mtime_ns, st.st_size) != (mtime, size):
            return False
    return True


def _wrap_finder(module_common):
    import zipfile
    from ansible import __version__ as ansible_version
    finder = module_common.recursive_finder

    def cached_finder(*args, **kwargs):
        values = list(args) + list(kwargs.values())
        zf = next((v for v in values if isinstance(v, zipfile.ZipFile)), None)
        if zf is None or len(args) < 3 or any(getattr(v, "debugger_enabled", False) for v in values):
            return finder(*args, **kwargs)
        name, fqn, data = args[:3]
        data = data if isinstance(data, bytes) else str(data).encode("utf-8", "surrogateescape")
        key = hashlib.sha256(repr((ansible_version, sys.version, str(name), str(fqn),
                                   os.environ.get("ANSIBLE_COLLECTIONS_PATH", ""))).encode() + data).hexdigest()
        path = os.path.join(_DIR, "finder-" + key)
        try:
            with open(path, "rb") as f:
                metadata, entries, sources = pickle.load(f)
        except Exception:  # pylint: disable=broad-except
            entries = None
        if entries is not None and _unchanged(sources):
            for zinfo, payload in entries:
                zf.writestr(zinfo, payload)
            return metadata
        written = []
        writestr = zf.writestr

        def recording(zinfo, payload, *a, **kw):
            written.append((zinfo, bytes(payload) if isinstance(payload, (bytes, bytearray)) else payload))
            return writestr(zinfo, payload, *a, **kw)

        zf.writestr = recording
        try:
            metadata = finder(*args, **kwargs)
        finally:
            del zf.writestr
        try:
            names = [getattr(zinfo, "filename", zinfo) for zinfo, _payload in written]
            blob = pickle.dumps((metadata, written, _sources(names)))
        except Exception:  # pylint: disable=broad-except
            return metadata
        _store(path, lambda f: f.write(blob))
        return metadata

    module_common.recursive_finder = cached_finder


def _cache_collection_compile(collection_finder):
    """The collection loader compiles every plugin and module_utils file it imports from source (it has no
    bytecode cache): in every run, and in every worker for each task. Its ``compile`` is given a cache, keyed by the
    source, the file name and the flags."""

    def cached(source, filename, mode, flags=0, dont_inherit=False, optimize=-1):
        if not isinstance(source, (bytes, str)) or flags:
            return compile(source, filename, mode, flags, dont_inherit, optimize)
        data = source if isinstance(source, bytes) else source.encode("utf-8", "surrogateescape")
        key = hashlib.sha256(repr((sys.implementation.cache_tag, str(filename), mode, dont_inherit,
                                   optimize)).encode() + data).hexdigest()
        path = os.path.join(_DIR, "plugin-" + key)
        try:
            with open(path, "rb") as f:
                return marshal.load(f)
        except Exception:  # pylint: disable=broad-except
            pass
        code = compile(source, filename, mode, flags, dont_inherit, optimize)
        _store(path, lambda f: marshal.dump(code, f))
        return code

    collection_finder.compile = cached


def _cached_parse(kind, key_parts, text, parse):
    """``parse()``'s result for ``text``, from the cache when an earlier run parsed the same text (pickled: Ansible's
    tagged values, their origin and trust included, pickle as they are)."""
    data = text if isinstance(text, bytes) else str(text).encode("utf-8", "surrogateescape")
    from ansible import __version__ as ansible_version
    key = hashlib.sha256(repr((kind, ansible_version, sys.version) + tuple(key_parts)).encode() + data).hexdigest()
    path = os.path.join(_DIR, "yaml-" + key)
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception:  # pylint: disable=broad-except
        pass
    result = parse()
    try:
        blob = pickle.dumps(result)
    except Exception:  # pylint: disable=broad-except
        return result
    _store(path, lambda f: f.write(blob))
    return result


def _cache_collection_meta(collection_finder):
    """A collection's ``meta/runtime.yml`` (ansible.builtin's is 9,700 lines) is parsed in every run: its
    ``_meta_yml_to_dict`` is the hook ansible-core documents for caching it (it passes a content id for that)."""
    _cache_collection_compile(collection_finder)
    to_dict = getattr(collection_finder, "_meta_yml_to_dict", None)
    if to_dict is None:
        return

    def cached(yaml_string_data, content_id):
        return _cached_parse("meta", (repr(content_id),), yaml_string_data,
                             lambda: to_dict(yaml_string_data, content_id))

    collection_finder._meta_yml_to_dict = cached


class _YamlDocs(object):
    """Stands for the ``yaml`` module in the modules that parse plugin documentation (``yaml.load(text,
    Loader=AnsibleLoader)`` in ansible-core 2.19 and later): the same parse, cached by text, origin and trust."""

    def __init__(self, real, loader):
        self._real, self._loader = real, loader

    def __getattr__(self, name):
        return getattr(self._real, name)

    def load(self, stream, Loader=None, **kwargs):  # pylint: disable=invalid-name
        if Loader is not self._loader or kwargs or not isinstance(stream, str):
            return self._real.load(stream, Loader=Loader, **kwargs)
        from ansible._internal._datatag import _tags
        origin = _tags.Origin.get_tag(stream)
        parts = (str(origin.path) if origin else "", _tags.TrustedAsTemplate.is_tagged_on(stream))
        return _cached_parse("doc", parts, stream, lambda: self._real.load(stream, Loader=Loader))


def _cache_docs(module):
    real = getattr(module, "yaml", None)
    loader = getattr(module, "AnsibleLoader", None)
    if real is None or loader is None or not hasattr(real, "load"):
        return  # ansible-core 2.17 and 2.18 parse documentation differently: left as it is
    try:
        from ansible._internal._datatag import _tags  # noqa: F401 pylint: disable=unused-import
    except ImportError:
        return
    module.yaml = _YamlDocs(real, loader)


class _PatchAfterImport(object):
    """Wraps the loaders of the Ansible modules to patch so that each is patched once it has run."""

    patches = {"ansible.executor.module_common": _wrap_finder,
               "ansible.utils.collection_loader._collection_finder": _cache_collection_meta,
               "ansible.plugins.loader": _cache_docs,
               "ansible.utils.plugin_docs": _cache_docs}

    def find_spec(self, fullname, path=None, target=None):
        patch = self.patches.get(fullname)
        if patch is None:
            return None
        import importlib.util
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            try:
                patch(module)
            except Exception:  # pylint: disable=broad-except
                pass

        spec.loader.exec_module = exec_and_patch
        return spec


if _DIR and os.path.isdir(_DIR) and os.stat(_DIR).st_uid == os.getuid() and os.access(_DIR, os.W_OK):
    _cache_zipimport()
    sys.meta_path.insert(0, _PatchAfterImport())

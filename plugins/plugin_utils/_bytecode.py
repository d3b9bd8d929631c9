# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bytecode for the collection's own Python files on the controller, while our plugins import them.

Ansible's collection loader compiles every file of a collection from source each time it imports one: it neither
reads nor writes ``.pyc`` files. Ansible forks a worker for every task, so a task that runs one of our lookups
compiled the ~15 files behind it again (~180 KB of source, about 40 ms of CPU), also when the task before had
compiled the same files (issue 17).

``with loading():`` puts a finder first on ``sys.meta_path`` for the duration of the block, and takes it away
again: the imports inside the block find the files of *this* collection (the copy Ansible loaded this module from)
under ``plugins/module_utils`` and ``plugins/plugin_utils`` with Python's own source loader, which keeps their
bytecode in ``__pycache__`` beside each file and checks it against the source's modification time and size, as for
any installed Python package. Where the collection's directory is read-only (an execution environment) or
``PYTHONDONTWRITEBYTECODE`` is set, Python compiles as before and writes nothing. Packages (directories), plugins,
other collections and every other import stay with the loaders that were there; modules that run on targets never
import this file. The finder is never left in place: plugins must not change ``sys.meta_path`` (ansible-test's
import sanity test checks it), and nothing outside our own imports should meet it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import importlib.util
import os
import sys
import threading

_PACKAGE = __name__.rsplit('.', 2)[0] + '.'     # ansible_collections.agentarea.secrets.plugins.
_TREES = ('module_utils', 'plugin_utils')
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # that copy's plugins/
_LOCK = threading.RLock()
_DEPTH = [0]


class CollectionBytecodeFinder:
    """Finds this collection's own module_utils and plugin_utils files and hands them to Python's source loader."""

    def __init__(self, package, root):
        self.package, self.root = package, root

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(self.package):
            return None
        parts = fullname[len(self.package):].split('.')
        if len(parts) < 2 or parts[0] not in _TREES or not all(p.isidentifier() for p in parts):
            return None
        filename = os.path.join(self.root, *parts) + '.py'
        if not os.path.isfile(filename):
            return None  # a package (a directory) or nothing: the collection loader decides
        return importlib.util.spec_from_file_location(fullname, filename)

    def invalidate_caches(self):
        """Nothing is cached here (``importlib.invalidate_caches`` calls this)."""


_FINDER = CollectionBytecodeFinder(_PACKAGE, _ROOT)


@contextlib.contextmanager
def loading():
    """Imports in the block load this collection's module_utils and plugin_utils files with bytecode."""
    with _LOCK:
        _DEPTH[0] += 1
        if _DEPTH[0] == 1:
            sys.meta_path.insert(0, _FINDER)
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH[0] -= 1
            if _DEPTH[0] == 0:
                while _FINDER in sys.meta_path:
                    sys.meta_path.remove(_FINDER)

# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bytecode for the collection's own Python files on the controller.

Ansible's collection loader compiles every file of a collection from source each time it imports one: it neither
reads nor writes ``.pyc`` files. Ansible forks a worker for every task, so a task that runs one of our lookups or
action plugins compiled the ~20 files behind it again (~100-150 KB of source, 25-60 ms of CPU per task), also
when the same file was compiled by the task before.

Importing this module adds a finder to ``sys.meta_path`` for the files of *this* collection (the copy Ansible
loaded this module from) under ``plugins/module_utils`` and ``plugins/plugin_utils``: each is loaded by Python's own
source loader, which keeps its bytecode in ``__pycache__`` beside the file and checks it against the source's
modification time and size, as for any installed Python package. Where the collection's directory is read-only
(an execution environment) or ``PYTHONDONTWRITEBYTECODE`` is set, Python compiles as before and writes nothing.
Packages, plugins and other collections stay with Ansible's loader. Modules run on targets never import this.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import sys

_PACKAGE = __name__.rsplit('.', 2)[0] + '.'     # ansible_collections.agentarea.secrets.plugins.
_TREES = ('module_utils', 'plugin_utils')
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # that copy's plugins/


class CollectionBytecodeFinder:
    """Finds this collection's own module_utils and plugin_utils files and hands them to Python's source loader."""

    MARK = 'agentarea.secrets bytecode'

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


def install():
    """Put the finder first on ``sys.meta_path``, once per process and collection copy."""
    for finder in sys.meta_path:
        if getattr(finder, 'MARK', None) == CollectionBytecodeFinder.MARK and getattr(finder, 'root', None) == _ROOT:
            return
    if os.path.isdir(os.path.join(_ROOT, 'plugin_utils')):
        sys.meta_path.insert(0, CollectionBytecodeFinder(_PACKAGE, _ROOT))


install()

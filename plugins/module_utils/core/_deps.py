# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Optional SDKs, imported where they are used and never at import time.

``requires('psycopg', 'psycopg.sql', package='psycopg', backend='postgres')`` returns the imported modules (one, or a
tuple in the order asked) or raises ``MissingDependency`` naming the pip package, the backend and the import error —
the one import guard of the collection (a store or target that is never used never needs its SDK).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import missing_dependency


def requires(*names, **kwargs):
    """Import ``names`` (dotted module paths). Keyword arguments: ``package`` (the pip name shown in the error,
    default the first name's top-level package), ``backend`` and ``ref`` (named in the error)."""
    package = kwargs.pop('package', None) or names[0].split('.')[0]
    backend = kwargs.pop('backend', None)
    ref = kwargs.pop('ref', None)
    if kwargs:
        raise TypeError('requires() got unexpected keyword arguments: %s' % ', '.join(sorted(kwargs)))
    modules = []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ImportError as exc:
            raise missing_dependency(package, ref=ref, backend=backend, import_error=exc)
    return modules[0] if len(modules) == 1 else tuple(modules)

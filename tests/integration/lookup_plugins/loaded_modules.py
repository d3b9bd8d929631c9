# -*- coding: utf-8 -*-
# Test-only: which of the named modules the worker process that runs this lookup has in sys.modules, its pid,
# and the run cache's directory (for tests of preloading: what a worker inherits from the main process).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: loaded_modules
short_description: Report loaded modules of the worker (tests only)
description: Returns one dict - C(loaded) (the terms that are in sys.modules), C(pid) and C(run_dir).
options:
  _terms:
    description: Module names.
    required: true
"""

import os
import sys

from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        run_dir = None
        runcache = sys.modules.get('ansible_collections.agentarea.secrets.plugins.plugin_utils._runcache')
        if runcache is not None:
            run_dir = runcache._STATE.get('dir')  # pylint: disable=protected-access
        return [{'loaded': sorted(t for t in terms if t in sys.modules), 'pid': os.getpid(), 'run_dir': run_dir}]

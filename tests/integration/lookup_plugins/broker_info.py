# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: broker_info
short_description: Report this run's broker (tests only)
description: Returns one dict - C(dir) (the run directory), C(socket) (whether its socket exists), C(pid) (the
  broker's pid, when one answers; never starts one) and C(worker) (this worker's pid).
"""

import os

from ansible.plugins.lookup import LookupBase

from ansible_collections.agentarea.secrets.plugins.plugin_utils import _broker


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        directory = _broker.run_dir()
        pid = None
        try:
            client = _broker.client(start=False)
            if client is not None:
                pid = client.call({'op': 'ping'}).get('pid')
        except _broker.BrokerUnavailable:
            pass
        return [{'dir': directory, 'socket': os.path.exists(os.path.join(directory, _broker.SOCKET)), 'pid': pid,
                 'worker': os.getpid()}]

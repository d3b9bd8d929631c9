# -*- coding: utf-8 -*-
# Test-only: appends every task result (what a `register:` would hold) as a JSON line to
# $AGENTAREA_TEST_RESULTS, so tests can assert on registered results and scan them for canaries.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: record_results
type: aggregate
short_description: Record task results as JSON lines (tests only)
description: Appends each task result with its task name and host to the file named by AGENTAREA_TEST_RESULTS.
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'record_results'
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get('AGENTAREA_TEST_RESULTS')
        if not path:
            return
        data = dict(result._result)
        data['_task'] = result._task.get_name()
        data['_host'] = result._host.get_name()
        data['_status'] = status
        with open(path, 'a') as handle:
            handle.write(json.dumps(data, default=str) + '\n')

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_item_on_ok(self, result):
        self._record(result, 'item_ok')

    def v2_runner_item_on_failed(self, result):
        self._record(result, 'item_failed')

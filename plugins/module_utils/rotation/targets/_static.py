# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A value whose only home is the store: session keys, webhook signing secrets, encryption keys.

There is no outside system: consumers read the store. ``overlap`` publishes the value being replaced at
``target.publish_previous`` (a reference, say ``dotenv:///srv/app/.env#SESSION_SECRET_PREVIOUS``) so the
application keeps accepting what was signed or encrypted with it (Django's ``SECRET_KEY_FALLBACKS``, a webhook
receiver that tries two secrets); the contract step removes it. The store keeps the previous value either way.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import Target

_UNSET = object()


class StaticTarget(Target):
    KIND = 'static'
    STRATEGIES = ('single', 'overlap')
    STORE_ONLY = True
    DEFAULT_POLICY = {'kind': 'base64url', 'bits': 256}
    OPTIONS = dict(
        publish_previous=dict(type='str'),
    )

    def __init__(self, *args, **kwargs):
        super(StaticTarget, self).__init__(*args, **kwargs)
        self._saved = _UNSET

    def prepare(self, current):
        if self.strategy == 'overlap' and not self.opt('publish_previous'):
            self.note('no target.publish_previous: the previous value is kept in the store only, consumers do '
                      'not see it during the overlap')
        return current

    def new_value(self, current, policy):
        return self.generate(policy)

    def check(self, value, login_only=False):
        return value not in (None, '', {}, [])

    def apply(self, new, old):
        where = self.opt('publish_previous')
        if self.strategy != 'overlap' or not where or old is None:
            return
        self._saved = self.stores.state(where)
        self.touched = True
        self.stores.write(where, old)

    def revert(self, new, old, previous=None):
        where = self.opt('publish_previous')
        if self.strategy != 'overlap' or not where or self._saved is _UNSET:
            return  # resumed: what was published before is unknown; the old value there is harmless
        if self._saved is None:
            self.stores.delete(where)
        else:
            self.stores.write(where, self._saved)

    def contract(self, previous, current):
        where = self.opt('publish_previous')
        if not where:
            return None
        published = self.stores.state(where)
        if published is None:
            self.note('nothing was published at target.publish_previous')
        elif self.fingerprint(published) == self.fingerprint(previous):
            self.touched = True
            self.stores.delete(where)
            self.note('removed the previous value from target.publish_previous')
        else:
            raise InvalidOption('target.publish_previous holds a value that is not the previous one; left as it is')
        return None

# -*- coding: utf-8 -*-
"""``python tests/harness/servers start|stop --run-dir D [service ...]`` (see the package docstring)."""
import os
import sys

if __package__ in (None, ""):  # run as a directory: import tests.* from the repository root, not from this folder
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from tests.harness.servers.cli import main  # noqa: E402

sys.exit(main())

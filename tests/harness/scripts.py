# -*- coding: utf-8 -*-
"""The project's scripts (``scripts/*.py``, whose names have dashes) loaded as modules, for the unit tests that check
what they generate. Their folder goes on ``sys.path`` first, as when a script runs: they share
``scripts/_generator.py``."""

import importlib.util
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def load_script(name):
    """``scripts/<name>.py`` as a module (``gen-doc-fragments``)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), str(SCRIPTS / (name + ".py")))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

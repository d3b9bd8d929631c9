# -*- coding: utf-8 -*-
"""``python tests/fakes/kube --port P --token T``: run the fake Kubernetes API server (see the package docstring)."""
import os
import sys

if __package__ in (None, ""):  # run as a directory: import tests.* from the repository root, not from tests/fakes/kube
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from tests.fakes.kube.server import main  # noqa: E402

main()

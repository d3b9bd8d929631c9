"""Stands in for the pip bootstrap script that ansible-test downloads from Ansible's CI file server, which these
machines cannot reach: it installs pip from the standard library's ensurepip, then pip-installs what ansible-test
asked for. `make sanity` copies it to ~/.ansible/test/cache/get_pip_<version>.py."""
import ensurepip
import os
import subprocess
import sys

# ensurepip points PIP_CONFIG_FILE at /dev/null and drops PIP_* variables in this process; the install that follows
# must see the machine's pip configuration (index mirrors, CA bundle) again.
environ = dict(os.environ)
ensurepip.bootstrap(upgrade=True)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args, env=environ)

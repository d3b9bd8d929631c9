# -*- coding: utf-8 -*-
"""``pass``: a password store with its own GnuPG home and key."""
import os

from tests.harness.servers.common import run, which


class PassStore:
    """Mixed into ``Harness``: ``_start_<service>`` (and ``_stop_<service>``) for pass and GnuPG."""

    # --- pass + GnuPG ---------------------------------------------------------------------------
    def _start_pass(self):
        base = self.path("pass")
        gnupghome = os.path.join(base, "gnupg")
        store = os.path.join(base, "store")
        os.makedirs(gnupghome, mode=0o700, exist_ok=True)
        os.chmod(base, 0o700)
        os.chmod(gnupghome, 0o700)
        env = dict(os.environ, GNUPGHOME=gnupghome, PASSWORD_STORE_DIR=store, HOME=base)
        gpg = [which("gpg"), "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
        uid = "agentarea test <pass@agentarea.invalid>"
        run(gpg + ["--quick-generate-key", uid, "ed25519", "cert,sign", "never"], env=env)
        out = run([which("gpg"), "--batch", "--with-colons", "--list-keys", "pass@agentarea.invalid"], env=env)
        fpr = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))
        run(gpg + ["--quick-add-key", fpr, "cv25519", "encrypt", "never"], env=env)
        run([which("pass"), "init", fpr], env=env)
        return {"gnupghome": gnupghome, "store_dir": store, "key_id": fpr,
                "env": {"GNUPGHOME": gnupghome, "PASSWORD_STORE_DIR": store}}

    def _stop_pass(self, info):
        gnupghome = info.get("gnupghome") or self.path("pass", "gnupg")
        if os.path.isdir(gnupghome):
            run([which("gpgconf"), "--kill", "all"], env=dict(os.environ, GNUPGHOME=gnupghome), check=False)

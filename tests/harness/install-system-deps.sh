#!/usr/bin/env bash
# Install the Debian packages the integration-test harness needs (tests/harness/servers/).
# Idempotent: only missing commands lead to an install. Not root: print what is missing and exit 0.
set -euo pipefail

# command -> Debian package that provides it
declare -A PROVIDER=(
  [redis-server]=redis-server
  [pass]=pass
  [gpg]=gnupg
  [dockerd]=docker.io
  [mariadbd]=mariadb-server
  [busybox]=busybox-static
  [shellcheck]=shellcheck
  [tree]=tree
  [initdb]=postgresql
  [sshd]=openssh-server  # managed hosts over SSH (tests/harness/ssh_hosts.py); become uses sudo
  [sudo]=sudo
)
have() {
  # Debian keeps initdb/pg_ctl out of PATH, under /usr/lib/postgresql/<version>/bin
  command -v "$1" >/dev/null 2>&1 || { [ "$1" = initdb ] && compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
}

missing=()
for cmd in "${!PROVIDER[@]}"; do
  if ! have "$cmd"; then
    missing+=("${PROVIDER[$cmd]}")
  fi
done
# The swarm test image is built from busybox-static's /bin/busybox; Debian's plain busybox is dynamic.
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
  missing+=(busybox-static)
fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-system-deps: all present"
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

if [ "${EUID}" -ne 0 ]; then
  echo "install-system-deps: missing (run as root to install): ${missing[*]}"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-system-deps: installed ${missing[*]}"

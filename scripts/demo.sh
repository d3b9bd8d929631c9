#!/usr/bin/env bash
# make demo: run the demo playbook against the collection in this checkout, twice, to show the second run
# changes nothing. Writes .env.local and secrets/*.txt in the current directory (both are git-ignored).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${VENV:-$root/.venv}/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ansible_collections/agentarea"
ln -s "$root" "$work/ansible_collections/agentarea/secrets"
export ANSIBLE_COLLECTIONS_PATH=$work
export ANSIBLE_CALLBACKS_ENABLED=agentarea.secrets.run_cache
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false ANSIBLE_NOCOLOR=${ANSIBLE_NOCOLOR:-0}
export ANSIBLE_PYTHON_INTERPRETER=$bin/python
export DEMO_DIR=${DEMO_DIR:-$PWD}
playbook=${DEMO_PLAYBOOK:-$root/examples/demo/demo.yml}

"$bin/ansible-playbook" -i localhost, -c local "$playbook"
echo
echo "Second run (must change nothing):"
out=$("$bin/ansible-playbook" -i localhost, -c local "$playbook")
recap=$(grep -E '^localhost +:' <<<"$out")
echo "$recap"
grep -q 'changed=0' <<<"$recap" || { echo "demo: the second run changed something" >&2; exit 1; }
echo "demo: wrote $DEMO_DIR/.env.local and $DEMO_DIR/secrets/*.txt (mode 0600)"

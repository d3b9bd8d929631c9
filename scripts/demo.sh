#!/usr/bin/env bash
# make demo: provision the demo secrets twice (the second run changes nothing), rotate the JWT, session and webhook
# secrets with the rotation engine and show the phases, then provision again (still nothing to change). Writes .env.local and secrets/*.txt in the current directory (both are git-ignored).
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
echo
echo "Rotation of the local secrets (JWT, session, webhook):"
"$bin/ansible-playbook" -i localhost, -c local "$root/examples/demo/rotate.yml"
echo
echo "After the rotation, provisioning finds everything in place:"
out=$("$bin/ansible-playbook" -i localhost, -c local "$playbook")
recap=$(grep -E '^localhost +:' <<<"$out")
echo "$recap"
grep -q 'changed=0' <<<"$recap" || { echo "demo: provisioning after the rotation changed something" >&2; exit 1; }
echo "demo: wrote $DEMO_DIR/.env.local and $DEMO_DIR/secrets/*.txt (mode 0600); audit events in $DEMO_DIR/secrets-audit.jsonl"

#!/usr/bin/env bash
# ansible-doc must render every plugin of the collection (lookups, modules, filters, callbacks).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${VENV:-$root/.venv}/bin
coll=$(mktemp -d)
trap 'rm -rf "$coll"' EXIT
mkdir -p "$coll/ansible_collections/agentarea"
ln -s "$root" "$coll/ansible_collections/agentarea/secrets"
export ANSIBLE_COLLECTIONS_PATH=$coll
fail=0
count=0
for type in lookup module filter callback; do
  case $type in
    lookup) dir=lookup ;; module) dir=modules ;; filter) dir=filter ;; callback) dir=callback ;;
  esac
  for f in "$root/plugins/$dir"/*.py "$root/plugins/$dir"/*.yml; do
    [ -e "$f" ] || continue
    name=$(basename "$f"); name=${name%.*}
    [ "$type" = filter ] && [ "${f##*.}" = py ] && continue
    count=$((count + 1))
    if ! out=$("$bin/ansible-doc" -t "$type" "agentarea.secrets.$name" 2>&1) || grep -q "ERROR\|WARNING" <<<"$out"; then
      echo "ansible-doc -t $type agentarea.secrets.$name failed:"; echo "$out" | head -20; fail=1
    fi
  done
done
[ "$fail" = 0 ] && echo "ansible-doc renders all $count plugins"
exit "$fail"

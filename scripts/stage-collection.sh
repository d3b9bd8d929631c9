#!/usr/bin/env bash
# Copy the working tree (tracked and untracked, not ignored files) into DEST/ansible_collections/agentarea/secrets,
# the layout ansible-test needs (it refuses symlinks). Prints the staged path.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:?usage: stage-collection.sh DEST}
target="$dest/ansible_collections/agentarea/secrets"
rm -rf "$target"
mkdir -p "$target"
cd "$root"
git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$target/$(dirname "$f")"
  cp -p "$f" "$target/$f"
done
echo "$target"

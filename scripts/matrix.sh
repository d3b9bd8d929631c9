#!/usr/bin/env bash
# The controller matrix: run tests/integration/test_matrix.py (option handling and lookups) with the
# ansible-playbook of every ansible-core release line the collection claims (tests/matrix/lines.txt).
#
#   scripts/matrix.sh BUILD_DIR [2.17 2.21 ...]     (make matrix; MATRIX_LINES="2.17 2.21" picks lines)
#
# Each line gets a venv under BUILD_DIR/matrix/core-<line> with ansible-core~=<line>.0 and the SDKs of
# tests/matrix/requirements.txt, on the Python the line needs (2.20+ need 3.12+, from pyenv). A venv is rebuilt
# only when its requirements or its Python change. pytest and the servers (bao, moto_server) run from the main
# venv; the playbooks run with the matrix venv's ansible-playbook (AGENTAREA_ANSIBLE_BIN) and its python for
# modules (AGENTAREA_ANSIBLE_PYTHON). The summary table is printed and written to BUILD_DIR/matrix/summary.md
# and tests/matrix/results.md (what README.md's compatibility line states). Exit status: non-zero if a line
# failed to build or to pass.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:?usage: scripts/matrix.sh BUILD_DIR [LINE...]}
shift
MAIN_VENV=${MAIN_VENV:-$ROOT/.venv}
LINES_FILE=$ROOT/tests/matrix/lines.txt
REQS=$ROOT/tests/matrix/requirements.txt
OUT=$BUILD/matrix
RESULTS=${MATRIX_RESULTS:-$ROOT/tests/matrix/results.md}
JOBS=${MATRIX_JOBS:-2}
mkdir -p "$OUT"

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || read -r -a wanted <<<"${MATRIX_LINES:-}"
declare -a LINES PYVERS
while read -r line pyver _; do
    case "$line" in ''|'#'*) continue ;; esac
    if [ ${#wanted[@]} -gt 0 ] && [[ " ${wanted[*]} " != *" $line "* ]]; then continue; fi
    LINES+=("$line"); PYVERS+=("$pyver")
done <"$LINES_FILE"
[ ${#LINES[@]} -gt 0 ] || { echo "matrix: no release line selected (known: $(grep -v '^#' "$LINES_FILE" | cut -d' ' -f1 | xargs))" >&2; exit 2; }

# A real interpreter X.Y (never a pyenv shim, which may point elsewhere): pyenv's newest X.Y.*, else one on PATH.
find_python() {
    local want=$1 root cand
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    cand=$(printf '%s\n' "$root"/versions/"$want".*/bin/python"$want" | sort -V | tail -n 1)
    if ! [ -x "$cand" ]; then
        for cand in /usr/local/bin/python"$want" /usr/bin/python"$want" ""; do [ -x "$cand" ] && break; done
    fi
    [ -n "$cand" ] && "$cand" -c 'import venv' 2>/dev/null && echo "$cand"
}

# Build (or keep) the venv of one line. Its key: the Python, the ansible-core spec and the requirements file.
build_venv() {
    local line=$1 python=$2 venv=$OUT/core-$1 key
    key=$( { "$python" -VV; echo "ansible-core~=$line.0"; cat "$REQS"; } | sha256sum | cut -c1-16)
    if [ -x "$venv/bin/ansible-playbook" ] && [ "$(cat "$venv/.matrix-key" 2>/dev/null)" = "$key" ]; then
        return 0
    fi
    echo "matrix: building $venv ($("$python" -V 2>&1), ansible-core~=$line.0)"
    rm -rf "$venv"
    if "$python" -m venv "$venv" &&
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            "ansible-core~=$line.0" -r "$REQS" >"$OUT/core-$line.pip.log" 2>&1; then
        echo "$key" >"$venv/.matrix-key"
    else
        echo "matrix: building $venv failed (see $OUT/core-$line.pip.log)" >&2
        return 1
    fi
}

t0=$SECONDS
# what is tested: the commit, and whether the tree differs from it (each pytest session builds the collection from it)
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] || rev="$rev plus uncommitted changes"
declare -A PY STATUS
for i in "${!LINES[@]}"; do
    line=${LINES[$i]}
    PY[$line]=$(find_python "${PYVERS[$i]}") || PY[$line]=""
    if [ -z "${PY[$line]}" ]; then
        STATUS[$line]="no Python ${PYVERS[$i]}"
        echo "matrix: ansible-core $line needs Python ${PYVERS[$i]}, which is not installed" >&2
        continue
    fi
    # builds run $JOBS at a time: pip mostly waits on downloads and unpacking
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
    build_venv "$line" "${PY[$line]}" &
done
wait
echo "matrix: venvs ready after $((SECONDS - t0)) s"

# One pytest session per line; sessions start their own servers on free ports, so they run side by side.
run_line() {
    local line=$1 venv=$OUT/core-$1
    AGENTAREA_ANSIBLE_BIN=$venv/bin AGENTAREA_ANSIBLE_PYTHON=$venv/bin/python \
        "$MAIN_VENV/bin/python" -m pytest "$ROOT/tests/integration/test_matrix.py" -q -p no:cacheprovider \
        --junitxml="$OUT/core-$line.xml" -o junit_family=xunit1 >"$OUT/core-$line.log" 2>&1
}
for line in "${LINES[@]}"; do
    [ -z "${STATUS[$line]:-}" ] || continue
    if ! [ -x "$OUT/core-$line/bin/ansible-playbook" ] || ! [ -f "$OUT/core-$line/.matrix-key" ]; then
        STATUS[$line]="venv build failed"
        continue
    fi
    rm -f "$OUT/core-$line.xml"
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
    (cd "$ROOT" && run_line "$line") &
done
wait

# The summary: the exact versions each venv holds and pytest's counts.
date=$(date -u +%Y-%m-%d)
table="| ansible-core | Python | passed | failed | result | failed tests |
|---|---|---|---|---|---|"
ok_lines=()
FAILED=()
rc=0
for line in "${LINES[@]}"; do
    venv=$OUT/core-$line
    core=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)' 2>/dev/null || echo "$line")
    pyv=$("$venv/bin/python" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo "-")
    counts=$("$MAIN_VENV/bin/python" - "$OUT/core-$line.xml" <<'EOF' 2>/dev/null
import sys
import xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot()
suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
total, failed = int(suite.get("tests")), int(suite.get("failures")) + int(suite.get("errors"))
names = [case.get("name") for case in suite.iter("testcase")
         if case.find("failure") is not None or case.find("error") is not None]
print(total - failed - int(suite.get("skipped")), failed, " ".join(names))
EOF
    ) || counts=""
    if [ -n "${STATUS[$line]:-}" ] || [ -z "$counts" ]; then
        result=${STATUS[$line]:-"no result (see $OUT/core-$line.log)"}
        table+=$'\n'"| $core | $pyv | - | - | $result | |"
        FAILED+=("$line"); rc=1
        continue
    fi
    read -r passed failed names <<<"$counts"
    if [ "$failed" = 0 ] && [ "$passed" -gt 0 ]; then
        result=pass; ok_lines+=("$core")
    else
        result=FAIL; FAILED+=("$line"); rc=1
    fi
    table+=$'\n'"| $core | $pyv | $passed | $failed | $result | ${names:-} |"
done

# what it cost: wall time and the CPU time of every process the run waited for (on a shared machine the wall time
# mostly measures the others' load)
times >"$OUT/times"
cpu=$(tail -n 1 "$OUT/times" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] } printf "%d", t }')
summary="# Controller matrix

\`make matrix\` on $date ($(uname -m), $(nproc) cores), commit $rev:
tests/integration/test_matrix.py under each ansible-core release line that meta/runtime.yml claims,
in $((SECONDS - t0)) s (CPU time $cpu s).

$table
"
if [ ${#ok_lines[@]} -gt 0 ]; then
    summary+="
Passed: ansible-core ${ok_lines[*]}.
"
fi
printf '%s' "$summary" >"$OUT/summary.md"
printf '%s' "$summary" >"$RESULTS"
echo
printf '%s' "$summary"
for line in "${FAILED[@]}"; do
    [ -f "$OUT/core-$line.log" ] || continue
    echo
    echo "--- ansible-core $line: what failed (full log: $OUT/core-$line.log)"
    grep -E '^(FAILED|ERROR) ' "$OUT/core-$line.log" | cut -d' ' -f2 | head -n 20
    # the first line of each distinct error Ansible reported
    grep -oE '(\[ERROR\]|fatal: \[[^]]*\]: FAILED!|E   +[A-Za-z]+Error):? .*' "$OUT/core-$line.log" | grep -v '^E  *AssertionError: PlaybookResult' |
        cut -c1-300 | sort | uniq | head -n 10
done
exit $rc

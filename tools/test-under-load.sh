#!/bin/sh
# Run pytest while CPU burners keep every core busy, to prove the tests do not depend on timing.
#
#   tools/test-under-load.sh [pytest arguments]        # e.g. tests/test_cli.py -x
#
# LOAD_BURNERS busy-loop processes (default: twice the number of cores) run at normal priority for
# the whole pytest run; each is also bounded by LOAD_MAX_SECONDS, so none outlives a killed script.
set -eu
burners=${LOAD_BURNERS:-$(( 2 * $(nproc) ))}
max_seconds=${LOAD_MAX_SECONDS:-3600}
python=${PYTHON:-.venv/bin/python}
pids=""
stop_burners() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
}
trap stop_burners EXIT INT TERM
i=0
while [ "$i" -lt "$burners" ]; do
    timeout "$max_seconds" "$python" -c 'while True: pass' &
    pids="$pids $!"
    i=$(( i + 1 ))
done
echo "# $burners CPU burners on $(nproc) cores (pids:$pids); load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
status=0
"$python" -m pytest -p no:cacheprovider "$@" || status=$?
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exit "$status"

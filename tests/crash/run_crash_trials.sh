#!/usr/bin/env bash
# Manual crash-safety soak: the loop of tests/e2e/test_crash.py with many more trials.
#
#   tests/crash/run_crash_trials.sh [N] [SEED]
#
# N (default 500) trials in total, split evenly over `dvx add`, `commit`, `checkout`,
# `checkout -f`, `push`, `pull`, `fetch`, `gc -w -f`, `remove` and `move` (each SIGKILLed at a
# random moment, then checked: no corrupt object in cache or remote, `dvx fsck` clean, no
# workspace data lost, the next command succeeds and `dvx status` is clean). SEED makes a run
# repeatable (printed at the end otherwise). DVX_BIN selects the binary (default
# /work/main/build/dvx). Failed trials keep their temp dir and print its path.
set -euo pipefail

n="${1:-500}"
seed="${2:-${DVX_CRASH_SEED:-}}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
per_command=$(( (n + 9) / 10 ))

echo "crash trials: ${per_command} per command (10 commands), binary ${DVX_BIN:-/work/main/build/dvx}"
export DVX_CRASH_TRIALS="${per_command}"
if [[ -n "${seed}" ]]; then export DVX_CRASH_SEED="${seed}"; fi
# Each command may take longer under a heavy soak; keep the per-command timeout generous.
export DVX_TEST_TIMEOUT="${DVX_TEST_TIMEOUT:-120}"
exec python3 "${here}/../e2e/test_crash.py" -v CrashTrials.test_add_killed CrashTrials.test_commit_killed \
  CrashTrials.test_checkout_killed CrashTrials.test_checkout_force_killed CrashTrials.test_push_killed \
  CrashTrials.test_pull_killed CrashTrials.test_fetch_killed CrashTrials.test_gc_killed \
  CrashTrials.test_remove_killed CrashTrials.test_move_killed

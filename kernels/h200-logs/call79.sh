#!/usr/bin/env bash
# call 79: the whole GPU suite (tests/gpu/run.lua, what make test-gpu runs) after the
# skip protocol (check.skip, "N passed, N failed, N skipped") and the audit's fixes.
cd "$(dirname "$0")/tree"
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader
T0=$SECONDS
( timeout 520 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1; echo "rc=$?" >> $OUT/gpu-tests.log )
grep -E "^(FAIL|skip)" -A3 $OUT/gpu-tests.log | head -30; tail -4 $OUT/gpu-tests.log
echo "total $((SECONDS-T0)) s"

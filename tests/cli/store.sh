#!/usr/bin/env bash
# The results store from the outside: kill -9 at 20 random points and resume, two writers on one
# DB, corrupt and foreign DBs refused untouched, best/export/import through the CLI.
# Usage: tests/cli/store.sh build/htune    (prints "N passed, N failed" last)
set -u
HTUNE=${1:-build/htune}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/harness.bash"

# 1. kill -9 at 20 random points, resuming each time, then a run to the end.
N=1000
db=$tmp/kill.db
outs=()
RANDOM=42
for k in $(seq 1 20); do
    "$HTUNE" run "$HERE/store_child.lua" "$db" $N "$k" 7 1 >"$tmp/kill.$k" 2>&1 &
    pid=$!
    sleep "0.0$((RANDOM % 80 + 15))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    outs+=("$tmp/kill.$k")
done
expect kill-final-run 0 'DONE' "$HTUNE" run "$HERE/store_child.lua" "$db" $N 99 7 0.2
expect kill-resume-no-dup-no-loss 0 '^ok 1000 trials' "$HTUNE" run "$HERE/store_check.lua" "$db" $N "${outs[@]}"
killed=$(grep -L DONE "${outs[@]}" | wc -l)
if [ "$killed" -ge 10 ]; then ok; else bad "kill loop: only $killed of 20 children were killed mid-run"; fi

# 2. two processes writing one DB at once both succeed.
db2=$tmp/two.db
"$HTUNE" run "$HERE/store_child.lua" "$db2" 200 1 1 0.1 >"$tmp/w1" 2>&1 & p1=$!
"$HTUNE" run "$HERE/store_child.lua" "$db2" 200 2 2 0.1 >"$tmp/w2" 2>&1 & p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
if [ $r1 -eq 0 ] && [ $r2 -eq 0 ] && grep -q DONE "$tmp/w1" && grep -q DONE "$tmp/w2"; then ok
else bad "concurrent writers: rc $r1 $r2"; tail -3 "$tmp/w1" "$tmp/w2"; fi
expect concurrent-both-complete 0 '^400$' sqlite3 "$db2" 'select count(*) from trials'

# 3. corrupt and foreign databases: clear error, file untouched.
head -c 8192 /dev/urandom >"$tmp/corrupt.db"
sum=$(md5sum <"$tmp/corrupt.db")
expect corrupt-refused 1 'not an SQLite database.*untouched' "$HTUNE" best synthetic --db "$tmp/corrupt.db"
[ "$(md5sum <"$tmp/corrupt.db")" = "$sum" ] && ok || bad "corrupt db was modified"
sqlite3 "$tmp/foreign.db" 'create table notes(x); insert into notes values (1)'
sum=$(md5sum <"$tmp/foreign.db")
expect foreign-refused 1 'another program.*untouched' "$HTUNE" best synthetic --db "$tmp/foreign.db"
[ "$(md5sum <"$tmp/foreign.db")" = "$sum" ] && ok || bad "foreign db was modified"
cp "$db" "$tmp/newer.db"
sqlite3 "$tmp/newer.db" 'pragma user_version=99'
expect newer-schema-refused 1 'schema version 99.*newer htune' "$HTUNE" best synthetic --db "$tmp/newer.db"

# 4. best, export, import.
expect best-finds 0 '"a":1[,}].*latency_us' "$HTUNE" best synthetic --shape 64x64 --db "$db"
expect best-shape-miss 1 'no measured config' "$HTUNE" best synthetic --shape 128x128 --db "$db"
expect export-csv 0 '^run,' "$HTUNE" export --format csv 1 --db "$db"
"$HTUNE" export --format csv 1 --db "$db" >"$tmp/e.csv"
[ "$(wc -l <"$tmp/e.csv")" -eq $((N + 1)) ] && ok || bad "csv export has $(wc -l <"$tmp/e.csv") lines, want $((N + 1))"
"$HTUNE" export --format json 1 --db "$db" >"$tmp/e.json"
expect import-json 0 'imported 1 run.* 1000 trials' "$HTUNE" import "$tmp/e.json" --db "$tmp/copy.db"
expect import-json-again-merges 0 'imported 0 run.*1 merged' "$HTUNE" import "$tmp/e.json" --db "$tmp/copy.db"
expect import-keeps-trials 0 '^1000$' sqlite3 "$tmp/copy.db" 'select count(*) from trials'
expect best-after-import 0 '"a":1[,}]' "$HTUNE" best synthetic --shape 64x64 --db "$tmp/copy.db"
expect import-kerneltuner 0 'imported 1 run.* 3 trials' "$HTUNE" import "$HERE/../data/kt_cache.json" --db "$tmp/kt.db"
expect kt-best 0 '"block_size_x":64' "$HTUNE" best vector_add --db "$tmp/kt.db"
expect import-garbage 1 'not an htune export or Kernel Tuner cache' "$HTUNE" import "$tmp/corrupt.db" --db "$tmp/kt.db"
# short options (-o, -n) reach the commands; bad values are named
expect export-to-file 0 '' "$HTUNE" export --format csv 1 --db "$db" -o "$tmp/o.csv"
[ "$(wc -l <"$tmp/o.csv" 2>/dev/null)" = "$((N + 1))" ] && ok || bad "export -o wrote $(wc -l <"$tmp/o.csv" 2>/dev/null) lines, want $((N + 1))"
expect best-n-2 0 '' "$HTUNE" best synthetic --shape 64x64 --db "$db" -n 2 --json
[ "$("$HTUNE" best synthetic --shape 64x64 --db "$db" -n 2 --json | wc -l)" = 2 ] && ok || bad "best -n 2 did not print 2 configs"
expect best-n-bad 2 "-n takes a count of 1 or more, got 'x'" "$HTUNE" best synthetic --db "$db" -n x
expect best-shape-bad 2 "--shape takes MxNxK or ROWSxCOLS, got 'foo'" "$HTUNE" best synthetic --db "$db" --shape foo
printf '{"format":"htune-export","version":1,"runs":[{"uid":"u1","run_key":"k","trials":[5]}]}' >"$tmp/badtrial.json"
expect import-names-bad-trial 1 'run u1, trial 1: a trial that is not an object' "$HTUNE" import "$tmp/badtrial.json" --db "$tmp/bad.db"
printf '{"format":"htune-export","version":1,"runs":[7]}' >"$tmp/badrun.json"
expect import-names-bad-run 1 'run 1 is not an object but a number' "$HTUNE" import "$tmp/badrun.json" --db "$tmp/bad.db"
expect prompt-names-bad-n 2 "--n takes a whole number, got 'x'" "$HTUNE" prompt render matmul --n x
expect export-format-bad 2 "--format takes csv or json, got 'xml'" "$HTUNE" export --format xml 1 --db "$db"
expect default-db-from-env 0 '' "$HTUNE" export --format json all
[ -f "$HTUNE_DB" ] && ok || bad "HTUNE_DB not used as the default database"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

-- A synthetic tuning run for tests/cli/run_flags.sh. It sets no seed, db, resume or quiet, so
-- `htune run` flags decide them; "own" as the second argument makes it set budget={evals=3}.
-- usage: htune run [FLAGS] run_flags_child.lua [EVAL_MS] [own]   prints "RESULT evals= new= stopped="
local htune = require "htune"
local opts = { problem = require("htune.problems.toy").new(), strategy = "random", backend = "synthetic",
               backend_options = { latency_ms = tonumber(arg[1] or 20) }, rebench_k = 0 }
if arg[2] == "own" then opts.budget = { evals = 3 } end
local res = assert(htune.tune(opts))
print(string.format("RESULT evals=%d new=%d stopped=%s", res.evals, #res.trace, res.stopped_because))

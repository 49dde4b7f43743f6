-- The seed's matmul 1024^3 with pattern search: live on a GPU, else on the recorded H100 data.
--   htune run pattern.lua [live|replay|synthetic]
local htune = require "htune"
local problem = htune.problem("matmul", { M = 1024, N = 1024, K = 1024 })
local want = arg and arg[1]
if not want then
  local devs = htune.cuda.devices()
  want = devs and #devs > 0 and "live" or "replay"
end
local backend = want
if want == "replay" then
  -- The table is a sample of the space: unrecorded configs get their nearest recorded neighbour.
  backend = assert(require("htune.backends.replay").open(problem,
    { path = htune.sys.root .. "/data/matmul.replay.gz", nearest = true }))
elseif want == "synthetic" then
  problem = require("htune.problems.toy").new()
end
print("pattern: " .. want .. " backend")
local res, err = htune.tune {
  problem = problem, strategy = "pattern", backend = backend,
  budget = { evals = 200, seconds = 60 }, seed = 1,
}
if not res then io.stderr:write(err, "\n") return 1 end
print(string.format("%s on %s: best %.2f us, %d evals, %.2f s, stopped: %s", problem.name,
  (res.backend.device or "?") .. (res.backend.backend == "replay" and " (recorded data)" or ""), res.best.latency_us, res.evals, res.wall_s, res.stopped_because))
print(problem.space:to_json(res.best.cfg))

-- The seed's matmul 1024^3 with pattern search (toy problem when the matmul kernel is absent).
local htune = require "htune"
local backend = arg and arg[1] or "synthetic"
local ok, problem = pcall(htune.problem, "matmul", { M = 1024, N = 1024, K = 1024 })
if not ok or backend == "synthetic" then problem = require("htune.problems.toy").new() end
local res, err = htune.tune {
  problem = problem, strategy = "pattern", backend = backend,
  budget = { evals = 200, seconds = 60 }, seed = 1,
  strategy_options = { initial_population = 20, copies = 2 },
}
if not res then io.stderr:write(err, "\n") return 1 end
print(string.format("%s on %s: best %.2f us, %d evals, %.2f s, stopped: %s", problem.name,
  res.backend.backend, res.best.latency_us, res.evals, res.wall_s, res.stopped_because))
print(problem.space:to_json(res.best.cfg))

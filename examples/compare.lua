-- Several strategies on one problem and budget, one table (synthetic toy unless a backend is named).
local htune = require "htune"
local evals = tonumber(arg and arg[1]) or 100
local problem = require("htune.problems.toy").new()
print(string.format("%-10s %10s %8s %8s %9s", "strategy", "best_us", "evals", "wall_s", "think_ms"))
for _, s in ipairs { "random", "pattern", "de", "surrogate", "portfolio" } do
  local res = htune.tune { problem = problem, strategy = s, backend = "synthetic", budget = { evals = evals },
                           seed = 1, quiet = true }
  print(string.format("%-10s %10.2f %8d %8.2f %9.1f", s, res.best.latency_us, res.evals, res.wall_s,
    res.time.strategy_ms))
end

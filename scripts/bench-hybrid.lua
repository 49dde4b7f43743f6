-- htune run scripts/bench-hybrid.lua  (no GPU: replays data/*.replay.gz)
-- Hybrid vs pattern on the recorded H100 matmul/softmax tables: evals hybrid needs to reach
-- pattern's 100-eval best (issue 9 target: no more than pattern's own), 10 seeds, mock LLM 200 ms.
local htune = require "htune"
local mock = assert(dofile(htune.sys.root .. "/tests/mock_llm/mock.lua").start { latency_ms = 200 })
for _, w in ipairs { { "matmul", {} }, { "softmax", {} } } do
  local problem = htune.problem(w[1], w[2])
  local path = htune.sys.root .. "/data/" .. w[1] .. ".replay.gz"
  local wins, n = 0, 0
  local line = {}
  for seed = 1, 10 do
    local function be() return assert(require("htune.backends.replay").open(problem, { path = path, nearest = true, latency_ms = 20 })) end
    local p = htune.tune { problem = problem, strategy = "pattern", backend = be(), budget = { evals = 100 }, seed = seed, quiet = true, rebench_k = 0 }
    local target, pe = p.best.latency_us, nil
    for i, r in ipairs(p.trace) do if r.latency_us and r.latency_us <= target then pe = i break end end
    local h = htune.tune { problem = problem, strategy = "hybrid", backend = be(), budget = { evals = 100 }, seed = seed, quiet = true, rebench_k = 0,
      strategy_options = { base_url = mock.url, model = "mock" } }
    local he
    for i, r in ipairs(h.trace) do if r.latency_us and r.latency_us <= target then he = i break end end
    n = n + 1
    if he and he <= pe then wins = wins + 1 end
    line[#line + 1] = string.format("%d:%s/%d", seed, he or "-", pe)
  end
  print(string.format("%s: hybrid reached pattern's 100-eval best in no more evals in %d of %d seeds (hybrid/pattern evals: %s)", w[1], wins, n, table.concat(line, " ")))
end
mock:stop()

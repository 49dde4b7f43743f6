-- LLM strategy benchmark against the mock server (tests/mock_llm, scripted model): per seed,
-- pattern, llm and hybrid with the same eval budget on the synthetic toy backend (each eval
-- takes --eval-ms). Reports wall time of llm vs pattern at equal evals (target <= 1.2x) and the
-- evals hybrid needs to reach pattern's best (target <= pattern's own), plus LLM call figures:
-- idle% = share of wall time the (one, simulated) GPU had nothing to run = 1 - evals x eval_ms /
-- wall; late_ms = mean LLM call latency seen by htune less the mock's latency (a reply is read
-- only when someone polls the client: the time replies sat unread). --llm-only runs
-- llm with local_fill=false (only LLM configs: the driver must wait on the LLM without spinning).
--   htune run scripts/bench-llm.lua [--llm-ms 8000] [--eval-ms 200] [--evals 100] [--seeds 2]
--                                   [--fault-rate 0] [--quick] [--llm-only]
require("htune.usage").on_help(arg)
local htune = require "htune"
local sys = require "htune.sys"
local mock = dofile(sys.root .. "/tests/mock_llm/mock.lua")

local o = { llm_ms = 8000, eval_ms = 200, evals = 100, seeds = 2, fault_rate = 0 }
local i = 1
while arg[i] do
  local k = arg[i]
  if k == "--quick" then o.llm_ms, o.eval_ms, o.evals, o.seeds = 400, 10, 100, 3 i = i + 1
  elseif k == "--llm-only" then o.llm_only = true i = i + 1
  else
    local key = k:match("^%-%-([%w%-]+)$")
    key = key and key:gsub("%-", "_")
    if not key or o[key] == nil or not tonumber(arg[i + 1]) then io.stderr:write("bench-llm: bad option ", k, "\n") os.exit(2) end
    o[key] = tonumber(arg[i + 1])
    i = i + 2
  end
end

local m = assert(mock.start { latency_ms = o.llm_ms, fault_rate = o.fault_rate, idle_exit_s = 30,
  lifetime_s = 3600 })

local function run(strategy, seed)
  local opts = {}
  if strategy ~= "pattern" then
    opts.client = assert(htune.llm.client { base_url = m.url, model = "mock", max_concurrency = 3, timeout_ms = o.llm_ms * 3 + 5000 })
    opts.local_fill = not o.llm_only
  end
  return htune.tune { problem = require("htune.problems.toy").new(), strategy = strategy, backend = "synthetic",
    backend_options = { latency_ms = o.eval_ms, seed = seed }, budget = { evals = o.evals }, seed = seed,
    quiet = true, rebench_k = 0, strategy_options = opts }
end

-- Evals until the first measured result at or below target_us (nil if never).
local function evals_to(res, target_us)
  for n, r in ipairs(res.trace) do if r.ok and r.latency_us and r.latency_us <= target_us + 1e-9 then return n end end
end

print(string.format("bench-llm: mock %d ms per call, %d ms per eval, %d evals, %d seeds, fault rate %.2f",
  o.llm_ms, o.eval_ms, o.evals, o.seeds, o.fault_rate))
print(string.format("%-5s %-8s %8s %10s %8s %12s %7s %9s %10s %6s %8s", "seed", "strategy", "wall_s", "best_us", "evals",
  "to_pat_best", "calls", "llm_cfgs", "tokens", "idle%", "late_ms"))
local function idle_pct(r) return 100 * math.max(0, 1 - r.evals * o.eval_ms / 1000 / r.wall_s) end
local sum = { llm_ratio = 0, hyb_ok = 0, hyb_evals = 0, pat_evals = 0, idle = {} }
for seed = 1, o.seeds do
  local res = {}
  for _, s in ipairs { "pattern", "llm", "hybrid" } do res[s] = run(s, seed) end
  local target = res.pattern.best.latency_us
  for _, s in ipairs { "pattern", "llm", "hybrid" } do
    local r, rep = res[s], res[s].report or {}
    print(string.format("%-5d %-8s %8.2f %10.3f %8d %12s %7s %9s %10s %6.1f %8s", seed, s, r.wall_s,
      r.best and r.best.latency_us or 0 / 0, r.evals,
      tostring(evals_to(r, target) or "never"), tostring(rep.calls or "-"), tostring(rep.llm_evals or "-"),
      rep.prompt_tokens and tostring(rep.prompt_tokens + rep.completion_tokens) or "-", idle_pct(r),
      (rep.ok_calls or 0) > 0 and string.format("%.0f", rep.mean_llm_ms - o.llm_ms) or "-"))
    if r.stopped_because ~= "evals" then print("      " .. s .. " stopped: " .. tostring(r.stopped_because) .. " " .. tostring(r.message)) end
    sum.idle[s] = (sum.idle[s] or 0) + idle_pct(r)
  end
  local ratio = res.llm.wall_s / res.pattern.wall_s
  local he, pe = evals_to(res.hybrid, target), evals_to(res.pattern, target)
  sum.llm_ratio = sum.llm_ratio + ratio
  if he and he <= pe then sum.hyb_ok = sum.hyb_ok + 1 end
  sum.hyb_evals, sum.pat_evals = sum.hyb_evals + (he or o.evals * 2), sum.pat_evals + pe
  print(string.format("      llm/pattern wall %.3fx (target <= 1.2)   hybrid reached pattern's best at eval %s vs pattern %d",
    ratio, tostring(he or "never"), pe))
end
print(string.format("summary: mean llm/pattern wall %.3fx; hybrid reached pattern's best in <= pattern's evals on %d/%d seeds"
  .. " (mean evals hybrid %.1f vs pattern %.1f; 'never' counted as 2x budget)", sum.llm_ratio / o.seeds, sum.hyb_ok, o.seeds,
  sum.hyb_evals / o.seeds, sum.pat_evals / o.seeds))
print(string.format("idle%% (mean over seeds): pattern %.1f, llm %.1f, hybrid %.1f", (sum.idle.pattern or 0) / o.seeds,
  (sum.idle.llm or 0) / o.seeds, (sum.idle.hybrid or 0) / o.seeds))
local st = m:stats()
print(string.format("mock: %d chat requests, at most %d at once", st.chat_requests, st.max_concurrent))
m:stop()

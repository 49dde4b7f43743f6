-- htune run scripts/bench-hybrid.lua [--seeds 10] [--first 1] [--evals 100] [--eval-ms 20]
--   [--llm-ms 200] [--workloads matmul,softmax] [--opt KEY=VALUE ...] [--verbose]   (no GPU)
-- A workload is a problem name (its table data/NAME.replay.gz) or NAME=TABLE, e.g.
-- softmax=data/softmax-h200.replay.gz.
-- Issue 9's target on the recorded H100 tables (data/*.replay.gz): for each seed, the evals
-- hybrid needs to reach pattern's best of the same budget, against the evals pattern needed.
-- Reports the seeds where hybrid needed no more evals (of them, fewer and equal: equal is mostly
-- hybrid following pattern's own trace), and the median evals of each ('never' counts as
-- budget + 1). Pattern is timing-independent (one worker, FIFO), so it replays with
-- no latency; hybrid replays at --eval-ms per eval against a fresh mock LLM per seed (its
-- --llm-ms per call, seeded by the run's seed, so a seed's result does not depend on the
-- seeds before it). --opt passes hybrid strategy options (numbers, true/false, or strings).
require("htune.usage").on_help(arg)
local htune = require "htune"
local mock_mod = dofile(htune.sys.root .. "/tests/mock_llm/mock.lua")

local o = { seeds = 10, first = 1, evals = 100, eval_ms = 20, llm_ms = 200, workloads = "matmul,softmax", opts = {} }
local i = 1
while arg[i] do
  local k, v = arg[i], arg[i + 1]
  if k == "--verbose" then o.verbose, i = true, i + 1
  elseif k == "--opt" and v and v:match("^[%w_]+=") then
    local key, val = v:match("^([%w_]+)=(.*)$")
    if val == "true" or val == "false" then o.opts[key] = val == "true" else o.opts[key] = tonumber(val) or val end
    i = i + 2
  else
    local key = k:match("^%-%-([%w%-]+)$")
    key = key and key:gsub("%-", "_")
    if not key or o[key] == nil or v == nil or (key ~= "workloads" and not tonumber(v)) then
      io.stderr:write("bench-hybrid: bad option ", k, " ", tostring(v), "\n")
      os.exit(2)
    end
    o[key] = key == "workloads" and v or tonumber(v)
    i = i + 2
  end
end

-- Evals until the first ok result at or below target_us, or nil.
local function evals_to(res, target_us)
  for n, r in ipairs(res.trace) do if r.ok and r.latency_us and r.latency_us <= target_us + 1e-9 then return n end end
end

local function median(t)
  local s = {}
  for k, v in ipairs(t) do s[k] = v end
  table.sort(s)
  local n = #s
  return n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
end

print(string.format("bench-hybrid: %d evals, seeds %d..%d, replay %d ms per eval (hybrid), mock LLM %d ms per call",
  o.evals, o.first, o.first + o.seeds - 1, o.eval_ms, o.llm_ms))
for wl in o.workloads:gmatch("[^,]+") do
  local name, table_path = wl:match("^([%w_]+)=(.+)$")
  local problem = htune.problem(name or wl, {})
  local path = table_path or (htune.sys.root .. "/data/" .. wl .. ".replay.gz")
  local function be(ms) return assert(require("htune.backends.replay").open(problem, { path = path, nearest = true, latency_ms = ms })) end
  local wins, better, fewer, equal, he_all, pe_all, line = 0, 0, 0, 0, {}, {}, {}
  for seed = o.first, o.first + o.seeds - 1 do
    local p = htune.tune { problem = problem, strategy = "pattern", backend = be(0), budget = { evals = o.evals }, seed = seed,
      quiet = true, rebench_k = 0 }
    local target = p.best.latency_us
    local pe = evals_to(p, target)
    local mock = assert(mock_mod.start { latency_ms = o.llm_ms, seed = seed, idle_exit_s = 30 })
    local sopts = { base_url = mock.url, model = "mock" }
    for k, v in pairs(o.opts) do sopts[k] = v end
    local h = htune.tune { problem = problem, strategy = "hybrid", backend = be(o.eval_ms), budget = { evals = o.evals }, seed = seed,
      quiet = true, rebench_k = 0, strategy_options = sopts }
    mock:stop()
    assert(h.stopped_because == "evals", tostring(h.message))
    local he = evals_to(h, target)
    if he and he <= pe then wins = wins + 1 end
    if he and he < pe then fewer = fewer + 1 elseif he == pe then equal = equal + 1 end
    if h.best.latency_us < target - 1e-9 then better = better + 1 end
    he_all[#he_all + 1], pe_all[#pe_all + 1] = he or o.evals + 1, pe
    line[#line + 1] = string.format("%d:%s/%d", seed, he or "-", pe)
    if o.verbose then io.stderr:write(wl, " ", line[#line], "\n") end
  end
  print(string.format("%s: hybrid <= pattern evals in %d of %d seeds (fewer %d, equal %d); median evals hybrid %g, pattern %g; "
    .. "hybrid's final best beat pattern's in %d seeds", wl, wins, o.seeds, fewer, equal, median(he_all), median(pe_all), better))
  print("  seed:hybrid/pattern " .. table.concat(line, " "))
end

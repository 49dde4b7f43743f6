-- The seed's study in one command: each workload (matmul 1024^3, softmax 4096x256/384, the two
-- gemm shapes) x strategy (random pattern de surrogate llm hybrid) x seed, live on a GPU or on
-- replay data, into results/<date>-<device>/: table.md, best-so-far plots (gnuplot), every trial
-- in trials.db + trials-<workload>.csv; --publish (automatic for a full live run) regenerates docs/results.md.
local htune = require "htune"
local sys = require "htune.sys"
local cjson = require "cjson.safe"
local convergence = require "htune.convergence"
local exchange = require "htune.exchange"

local USAGE = [[
usage: scripts/compare [options]

Runs every workload x strategy x seed of the seed's study and writes results/<date>-<device>/
(table.md, <workload>-time.png / -evals.png, trials.db, trials-<workload>.csv, runs.csv,
summary.json, plot-data/<workload>-{t,n}.{dat,gp}: redraw with `cd DIR && gnuplot plot-data/X.gp`).
Plots: best-so-far median over seeds, a seed with no valid result yet counting as +inf (the line
starts once more than half the seeds have one), band = best..worst seed.

  --backend live|replay|auto   auto (default): live when a GPU and NVRTC work, else replay
  --workloads a,b              default: all (replay: those with a replay table)
  --strategies a,b             default: random,pattern,de,surrogate,llm,hybrid
  --seeds N                    seeds per strategy (live 2, replay 3, quick 1)
  --evals N                    eval budget per run (live 1000 cap, replay 100, quick replay 16)
  --seconds S                  wall budget per run (live 3, quick live 2, replay none)
  --eval-ms MS                 replay: simulated time per eval (20; quick 10)
  --llm-latency S              mock LLM seconds per call (live 2, replay 1, quick 0.05)
  --data DIR                   replay tables <problem>.replay.gz (default data/)
  --out DIR                    output directory (default results/<date>-<device>)
  --rebench K                  re-measure the K best configs of each run (live 2, else 3)
  --quick                      the reduced CI set: matmul and softmax_4096x256, 1 seed, 16 evals
                               on replay (2 s per run live)
  --publish / --no-publish     write docs/results.md and docs/results/*.png (default: live full runs)
  --docs DIR                   where --publish writes results.md and results/*.png (default docs/)
  --publish-from DIR           publish a finished live run's directory (e.g. fetched from the GPU
                               machine) into --docs; redraws its plots from its trials.db and
                               runs.csv (else uses its PNGs or plot-data/)
  --help                       this text

Environment: HTUNE = the htune binary (default build/htune); HTUNE_COMMIT = the commit to report
(else the tree's COMMIT file, as an export for the GPU machine writes it, else git).

An LLM endpoint is used instead of the mock when HTUNE_LLM_URL is set (with HTUNE_LLM_MODEL,
HTUNE_LLM_KEY_ENV = the NAME of the variable holding the key, HTUNE_LLM_PROTOCOL).
]]

local WORKLOADS = {
  { name = "matmul", problem = "matmul", shape = { M = 1024, N = 1024, K = 1024 }, title = "matmul 1024x1024x1024 fp16" },
  { name = "softmax_4096x256", problem = "softmax", shape = { rows = 4096, cols = 256 }, title = "softmax 4096x256 fp16" },
  { name = "softmax_4096x384", problem = "softmax", shape = { rows = 4096, cols = 384 }, title = "softmax 4096x384 fp16" },
  { name = "gemm_4096x1024x1024", problem = "matmul", shape = { M = 4096, N = 1024, K = 1024 }, title = "gemm 4096x1024x1024 fp16" },
  { name = "gemm_1024x4096x1024", problem = "matmul", shape = { M = 1024, N = 4096, K = 1024 }, title = "gemm 1024x4096x1024 fp16" },
  -- the Hopper template (kernels/matmul_wgmma): live on a compute capability 9.x GPU only
  { name = "matmul_wgmma", problem = "matmul_wgmma", shape = { M = 1024, N = 1024, K = 1024 },
    title = "matmul 1024x1024x1024 fp16, Hopper wgmma", hopper = true },
}
local QUICK_WORKLOADS = { "matmul", "softmax_4096x256" }
local STRATEGIES = { "random", "pattern", "de", "surrogate", "llm", "hybrid" }
local COLORS = { random = "#7f7f7f", pattern = "#1f77b4", de = "#2ca02c", surrogate = "#9467bd",
                 llm = "#d62728", hybrid = "#ff7f0e" }
local LIVE_OVERHEAD_S, LIVE_SETUP_S = 1.5, 5 -- per run (drain + rebench), per workload (worker, baseline)

local function die(msg) io.stderr:write("compare: ", msg, "\n") os.exit(2) end
local function log(fmt, ...) io.stderr:write(string.format("compare: " .. fmt .. "\n", ...)) end

local function split(s)
  local out = {}
  for w in s:gmatch("[^,%s]+") do out[#out + 1] = w end
  return out
end

local SWITCHES = { quick = true, publish = true, no_publish = true, help = true }
local NUMBERS = { seeds = true, evals = true, seconds = true, eval_ms = true, llm_latency = true, rebench = true }
local STRINGS = { backend = true, workloads = true, strategies = true, data = true, out = true, docs = true, publish_from = true }

local function parse(args)
  local o, i = { backend = "auto", data = sys.root .. "/data", docs = sys.root .. "/docs" }, 1
  while args[i] do
    local k = (args[i]:match("^%-%-([%w%-]+)$") or ""):gsub("%-", "_")
    if SWITCHES[k] then o[k] = true i = i + 1
    elseif NUMBERS[k] or STRINGS[k] then
      local v = args[i + 1]
      if v == nil then die("option --" .. k:gsub("_", "-") .. " needs a value") end
      if NUMBERS[k] then
        o[k] = tonumber(v)
        if not o[k] or o[k] < 0 then die(string.format("--%s: '%s' is not a non-negative number", k:gsub("_", "-"), v)) end
      else o[k] = v end
      i = i + 2
    else die("unknown option '" .. args[i] .. "' (see --help)") end
  end
  if o.no_publish then o.publish = false end
  if not ({ live = 1, replay = 1, auto = 1 })[o.backend] then die("--backend: '" .. o.backend .. "' is not live, replay or auto") end
  return o
end

local function pick(list, names, what)
  if not names then return list end
  local by, out = {}, {}
  for _, x in ipairs(list) do by[type(x) == "table" and x.name or x] = x end
  for _, n in ipairs(split(names)) do
    if not by[n] then
      local known = {}
      for _, x in ipairs(list) do known[#known + 1] = type(x) == "table" and x.name or x end
      die(string.format("--%s: unknown '%s' (known: %s)", what, n, table.concat(known, ", ")))
    end
    out[#out + 1] = by[n]
  end
  return out
end

---------------------------------------------------------------------------------------------
-- Facts about the machine and the tree.

local function sh(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  if not p then return nil end
  local s = p:read("a")
  p:close()
  s = s and s:gsub("%s+$", "")
  return s ~= "" and s or nil
end


local function slug(s) return (s:lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", "")) end

-- The GPU when live tuning works: {device=, cc=, driver=, info=} or nil, reason.
local function gpu()
  local ok, init = htune.cuda.init()
  if not ok then return nil, tostring(init) end
  if init.api == "fake" then return nil, "the CUDA driver is the CPU fake (HTUNE_FAKE_CUDA)" end
  if not htune.nvrtc.available then return nil, "NVRTC unavailable: " .. tostring(htune.nvrtc.unavailable_reason) end
  local dev = init.devices[1]
  if not dev then return nil, "no CUDA device" end
  local v = init.driver_version or 0
  local cuda = string.format("CUDA %d.%d", v // 1000, (v % 1000) // 10)
  local smi = sh("nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1")
  return { device = dev.name, cc = dev.cc, driver = smi and (smi .. " (" .. cuda .. ")") or cuda, info = dev }
end

-- Header fields of a replay table (without reading its rows), or nil.
local function replay_meta(path)
  local f = io.open(path)
  if not f then return nil end
  f:close()
  local p = io.popen((path:match("%.gz$") and "gzip -dc '" or "cat '") .. path .. "' 2>/dev/null | head -40")
  local meta = {}
  for line in p:lines() do
    local k, v = line:match("^#%s*(%S+)%s*(.-)%s*$")
    if k and meta[k] == nil then meta[k] = v end
  end
  p:close()
  return meta
end

local function replay_path(data, problem_name)
  for _, ext in ipairs { ".replay.gz", ".replay" } do
    local p = data .. "/" .. problem_name .. ext
    local f = io.open(p)
    if f then f:close() return p end
  end
  return data .. "/" .. problem_name .. ".replay.gz"
end

---------------------------------------------------------------------------------------------
-- Settings: defaults by mode, the run plan and its time estimate.

local function settings(o, live)
  local d
  if o.quick then d = { seeds = 1, evals = live and 1000 or 16, seconds = live and 2 or nil, eval_ms = 10, llm_latency = 0.05 }
  elseif live then d = { seeds = 2, evals = 1000, seconds = 3, llm_latency = 2, rebench = 2 }
  else d = { seeds = 3, evals = 100, eval_ms = 20, llm_latency = 1 } end
  d.rebench = d.rebench or 3
  for k, v in pairs(d) do if o[k] == nil then o[k] = v end end
  o.seeds = math.max(1, math.tointeger(o.seeds) or math.floor(o.seeds))
  o.evals = math.max(1, math.floor(o.evals))
  if o.seconds == 0 then o.seconds = nil end
  o.eval_ms = o.eval_ms or 0
end

local function per_run_s(o, live)
  if live then return (o.seconds or 10) + LIVE_OVERHEAD_S end
  local s = o.evals * o.eval_ms / 1000 + 0.3
  return o.seconds and math.min(s, o.seconds + 0.3) or s
end

---------------------------------------------------------------------------------------------
-- One tuning run and what the table and plots need from it.

local function llm_endpoint()
  local url = os.getenv("HTUNE_LLM_URL")
  if url and url ~= "" then
    return { url = url, model = os.getenv("HTUNE_LLM_MODEL") or "default", key_env = os.getenv("HTUNE_LLM_KEY_ENV"),
             protocol = os.getenv("HTUNE_LLM_PROTOCOL") }
  end
end

-- An LLM client for one run (and the mock it talks to, started for this run only).
local function llm_client(ctx, seed)
  local ep, mock = ctx.endpoint, nil
  local url, model, timeout = ep and ep.url, ep and ep.model or "mock", nil
  if not ep then
    local lat_ms = ctx.o.llm_latency * 1000
    local merr
    mock, merr = dofile(sys.root .. "/tests/mock_llm/mock.lua").start { seed = seed,
      latency_ms = lat_ms, idle_exit_s = 10, lifetime_s = math.ceil(per_run_s(ctx.o, ctx.live) * 3 + 60) }
    if not mock then return nil, merr end
    url, timeout = mock.url, math.floor(lat_ms * 3 + 5000)
  end
  local c, err = htune.llm.client { base_url = url, model = model, api_key_env = ep and ep.key_env,
    protocol = ep and ep.protocol, max_concurrency = 3, timeout_ms = timeout }
  if not c then
    if mock then mock:stop() end
    return nil, err
  end
  return c, mock
end

local function summarize(ctx, res, busy_ms)
  local s = { best_us = res.best and res.best.ok ~= false and res.best.latency_us or nil, wall_s = res.wall_s,
              evals = res.evals, stopped = res.stopped_because, message = res.message, curve = convergence.curve(res.trace),
              compile_s = 0, bench_s = 0, strategy_s = res.time.strategy_ms / 1000 }
  for _, r in ipairs(res.trace) do
    s.compile_s = s.compile_s + (r.compile_ms or 0) / 1000
    s.bench_s = s.bench_s + (r.bench_ms or 0) / 1000
  end
  local last = s.curve[#s.curve]
  s.to_best_s = last and last.t or nil
  local rep = res.report
  if rep and rep.llm_ms then s.llm_s, s.llm_calls = rep.llm_ms / 1000, (rep.ok_calls or 0) + (rep.errors or 0) end
  s.llm_wait_s = res.time.llm_wait_ms and res.time.llm_wait_ms / 1000 or nil
  -- GPU idle: the live worker's busy time over this run, else simulated eval time per worker.
  local busy = busy_ms or 1000 * s.bench_s / ((ctx.be.info and ctx.be.info.workers) or 1)
  s.idle_pct = res.wall_s > 0 and math.max(0, 100 * (1 - busy / (1000 * res.wall_s))) or nil
  return s
end

local function run_one(ctx, wl, strategy, seed)
  local so, client, mock = { device = ctx.prompt_device }, nil, nil
  if strategy == "llm" or strategy == "hybrid" then
    client, mock = llm_client(ctx, seed)
    if not client then return nil, "LLM client: " .. tostring(mock) end
    so.client = client
  end
  local be = ctx.be
  -- The live backend's early cutoff compares with the best it has seen, and it answers a config
  -- that repeats an experiment it measured: forget both, so that one run neither cuts off nor
  -- speeds up the next.
  if be.forget then be:forget() end
  local busy0 = be.stats and be:stats().worker_busy_ms
  local ok, res, err = pcall(htune.tune, { problem = wl.p, strategy = strategy, backend = be, seed = seed,
    budget = { evals = ctx.o.evals, seconds = ctx.o.seconds }, quiet = true, rebench_k = ctx.o.rebench,
    strategy_options = so, db = ctx.db, resume = false, device = ctx.device })
  local busy = busy0 and (be:stats().worker_busy_ms - busy0) or nil
  if client then client:close() end
  if mock then mock:stop() end
  if not ok then return nil, tostring(res) end
  if not res then return nil, tostring(err) end
  return summarize(ctx, res, busy)
end

---------------------------------------------------------------------------------------------
-- Opening each workload's backend (once, shared by its runs).

-- Whether a workload can run: its problem loads and (replay) a table recorded for its shape exists.
local function prepare(ctx, wl)
  local ok, p = pcall(htune.problem, wl.problem, wl.shape)
  if not ok or not p then return nil, "problem " .. wl.problem .. ": " .. tostring(p) end
  wl.p = p
  if wl.hopper and not (ctx.live and tostring(ctx.device and ctx.device.cc or ""):match("^9%.")) then
    return nil, "needs a live Hopper GPU (compute capability 9.x), has no replay table"
  end
  if ctx.live then return true end
  wl.path = replay_path(ctx.o.data, wl.problem)
  local meta = replay_meta(wl.path)
  if not meta then return nil, "no replay table " .. wl.path end
  if meta.problem ~= p.key then
    return nil, string.format("replay table %s is for %s, not %s", wl.path, tostring(meta.problem), p.key)
  end
  wl.meta = meta
  return true
end

local function open_workload(ctx, wl)
  local p = wl.p
  if ctx.live then return require("htune.backends.live").open(p, {}) end
  -- nearest-neighbour answers scan the whole table: memoised by config for all runs
  return require("htune.backends.replay").open(p, { path = wl.path, nearest = true, memo = true,
    latency_ms = ctx.o.eval_ms, workers = 1 })
end

---------------------------------------------------------------------------------------------
-- Aggregation over seeds.

local function median(xs)
  local t = {}
  for _, x in ipairs(xs) do if x then t[#t + 1] = x end end
  if #t == 0 then return nil end
  table.sort(t)
  local m = #t // 2
  return #t % 2 == 1 and t[m + 1] or (t[m] + t[m + 1]) / 2
end

local function field(runs, k)
  local out = {}
  for _, r in ipairs(runs) do out[#out + 1] = r[k] end
  return out
end

local function aggregate(runs)
  local a = { n = #runs }
  for _, k in ipairs { "best_us", "wall_s", "evals", "to_best_s", "llm_wait_s", "llm_s", "llm_calls", "compile_s", "bench_s",
                       "strategy_s", "idle_pct" } do
    a[k] = median(field(runs, k))
  end
  for _, r in ipairs(runs) do
    if r.best_us and (not a.min_us or r.best_us < a.min_us) then a.min_us = r.best_us end
    if r.stopped == "error" then a.errors = (a.errors or 0) + 1 a.message = r.message end
  end
  return a
end

---------------------------------------------------------------------------------------------
-- table.md

local function f(fmt, v) return v and string.format(fmt, v) or "—" end

local function secs(v)
  if not v then return "—" end
  return v < 10 and string.format("%.2f", v) or string.format("%.1f", v)
end

local function us_fmt(v)
  if not v then return "—" end
  return v >= 100 and string.format("%.1f", v) or string.format("%.2f", v)
end

local function table_rows(ctx)
  local out = { "| workload | strategy | best µs: median (min) | wall s | evals | speedup vs random | % of ref |"
    .. " to best s | LLM wait s | LLM calls (s) | compile s | bench s | strategy s | GPU idle |",
    "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" }
  for _, wl in ipairs(ctx.done) do
    local rnd = wl.agg.random and wl.agg.random.best_us
    for _, s in ipairs(ctx.strategies) do
      local a = wl.agg[s]
      if a then
        local ref = wl.baseline_us and a.best_us and string.format("%.0f%% of %s", 100 * wl.baseline_us / a.best_us, wl.baseline_name)
          or "n/a"
        local llm = a.llm_s and string.format("%d (%s)", math.floor(a.llm_calls + 0.5), secs(a.llm_s)) or "—"
        local wait = a.llm_s and secs(a.llm_wait_s) or "—"
        local best = a.best_us and string.format("%s (%s)", us_fmt(a.best_us), us_fmt(a.min_us)) or "no valid config"
        if a.errors then best = best .. string.format(" ⚠ %d error(s)", a.errors) end
        out[#out + 1] = string.format("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |",
          wl.name, s, best, secs(a.wall_s), f("%.0f", a.evals),
          (rnd and a.best_us) and string.format("%.2fx", rnd / a.best_us) or "—", ref, secs(a.to_best_s), wait, llm,
          secs(a.compile_s), secs(a.bench_s), secs(a.strategy_s), f("%.0f%%", a.idle_pct))
      end
    end
  end
  return table.concat(out, "\n")
end

local NOTES = [[
Columns: medians over seeds. *best µs* is the run's best after re-measuring its top configs
(median over seeds, fastest seed in brackets); *speedup vs random* = random's median best / this
one's; *% of ref* = the reference's time / best (cuBLAS for matmul/gemm, the device copy of the
input for softmax; n/a when none was measured); *to best s* = wall time when the run found its
final best. Time breakdown: *LLM wait s* = time the driver sat waiting on LLM replies with
nothing else to measure, *LLM calls (s)* = calls finished and their summed latency (calls run
concurrently with each other and with compiling and timing), *compile s* = NVRTC time summed over
trials (on a thread pool, overlapped; cache hits count their lookup only), *bench s* = GPU worker
time summed over trials, *strategy s* = time in the strategy's Lua code, *GPU idle* = share of the
run's wall time with no kernel check or timing in flight.

Plots: best-so-far latency of each strategy, the median over seeds (line) and the best to the
worst seed (band). A seed with no valid result yet counts as +inf, never as the value it finds
later, so the median starts once more than half the seeds have a result and the band reaches the
highest value any seed found until every seed has one; both only fall. The table's best µs is the
median over seeds that found a valid config (the ⚠/no valid config marks say when one did not).]]

local function markdown(ctx, img_prefix)
  local o, lines = ctx.o, {}
  local function add(s) lines[#lines + 1] = s end
  add("# htune: the seed's study, reproduced")
  add("")
  add(string.format("- device: %s; driver: %s", ctx.device.name, ctx.device.driver))
  add("- commit: " .. ctx.commit)
  add("- date: " .. ctx.date)
  add("- backend: " .. ctx.backend_text)
  add(string.format("- budget per run: %s%d evals; %d seed(s); rebench top %d", o.seconds and (o.seconds .. " s or ") or "",
    o.evals, o.seeds, o.rebench))
  add("- LLM: " .. ctx.llm_text)
  add("- command: `" .. ctx.command .. "`")
  add(string.format("- total wall time: %.0f s", ctx.total_s or 0))
  add("")
  add(table_rows(ctx))
  add("")
  add(NOTES)
  if #ctx.skipped > 0 then
    add("")
    add("Skipped:")
    for _, s in ipairs(ctx.skipped) do add(string.format("- %s: %s", s.name, s.reason)) end
  end
  for _, wl in ipairs(ctx.done) do
    add("")
    add("## " .. wl.title)
    add("")
    add(wl.baseline_us and string.format("Reference (%s): %s µs.", wl.baseline_name, us_fmt(wl.baseline_us))
      or "Reference: not measured (n/a).")
    add("")
    for _, png in ipairs(wl.pngs or {}) do add(string.format("![%s](%s%s)", png, img_prefix, png)) end
    if not wl.pngs then add("(no plot: " .. tostring(wl.plot_error) .. ")") end
  end
  add("")
  return table.concat(lines, "\n")
end

---------------------------------------------------------------------------------------------
-- Plots: best-so-far vs wall time and vs evals, median and min-max band over seeds.

-- Plot data rows "x median lo hi" (NaN: no median yet, see htune.convergence) and the range.
local function series(runs, axis)
  local rows, lo_all, hi_all = {}, math.huge, -math.huge
  for _, r in ipairs((convergence.series(runs, axis))) do
    rows[#rows + 1] = string.format("%.4f %s %.5f %.5f", r.x, r.median and string.format("%.5f", r.median) or "NaN", r.lo, r.hi)
    lo_all, hi_all = math.min(lo_all, r.lo), math.max(hi_all, r.hi)
  end
  return rows, lo_all, hi_all
end

-- Explicit tics on the log axis: a narrow range would otherwise get no labelled decade.
local function log_tics(lo, hi)
  if not (lo < math.huge) then return "" end
  if hi <= lo then hi = lo * 1.1 end
  local t = {}
  for i = 0, 5 do t[#t + 1] = string.format("%.3g", lo * (hi / lo) ^ (i / 5)) end
  return "set ytics (" .. table.concat(t, ", ") .. ")"
end

-- Data and script go to plot-data/ with paths relative to the results directory, so the plot
-- can be redrawn wherever that directory is copied (cd DIR && gnuplot plot-data/X.gp).
local function plot_one(ctx, wl, axis, png)
  local base = "plot-data/" .. wl.name .. "-" .. axis
  local dat, gp = base .. ".dat", base .. ".gp"
  local blocks, plots, lo, hi = {}, {}, math.huge, -math.huge
  for _, s in ipairs(ctx.strategies) do
    local rows, l, h = {}, math.huge, -math.huge
    if wl.runs[s] then rows, l, h = series(wl.runs[s], axis) end
    lo, hi = math.min(lo, l), math.max(hi, h)
    if #rows > 0 then
      local idx = #blocks
      blocks[#blocks + 1] = "# " .. s .. "\n" .. table.concat(rows, "\n")
      local color = COLORS[s] or "#000000"
      plots[#plots + 1] = string.format("'%s' index %d using 1:3:4 with filledcurves fs transparent solid 0.15 noborder lc rgb '%s' notitle",
        dat, idx, color)
      plots[#plots + 1] = string.format("'%s' index %d using 1:2 with steps lw 2 lc rgb '%s' title '%s'", dat, idx, color, s)
    end
  end
  if #plots == 0 then return nil, "no valid result to plot" end
  assert(sys.write_atomic(ctx.out .. "/" .. dat, table.concat(blocks, "\n\n\n") .. "\n"))
  local script = table.concat({
    "set terminal pngcairo size 900,560 noenhanced",
    string.format("set output '%s'", png),
    string.format("set title \"%s: best-so-far latency, median over %d seed(s)\\n(%s)\" font ',10'", wl.title, ctx.o.seeds,
      convergence.RULE),
    axis == "t" and "set xlabel 'wall time (s)'" or "set xlabel 'evaluations'",
    "set ylabel 'best latency (us)'", "set logscale y", "set autoscale yfix", "set offsets 0, 0, graph 0.05, graph 0.05",
    log_tics(lo, hi), "set grid", "set key top right", "set xrange [0:*]",
    "plot " .. table.concat(plots, ", \\\n  "), "" }, "\n")
  assert(sys.write_atomic(ctx.out .. "/" .. gp, script))
  local ok = os.execute(string.format("cd '%s' && gnuplot '%s' 2>'%s.err'", ctx.out, gp, gp))
  if not ok then
    local e = io.open(ctx.out .. "/" .. gp .. ".err")
    local msg = e and e:read("a") or ""
    if e then e:close() end
    return nil, "gnuplot failed: " .. msg:sub(1, 300)
  end
  return true
end

local function plot(ctx, wl)
  sys.mkdirs(ctx.out .. "/plot-data")
  local pngs = {}
  for _, axis in ipairs { "t", "n" } do
    local png = wl.name .. (axis == "t" and "-time.png" or "-evals.png")
    -- Every axis writes its plot data even when gnuplot is missing, so --publish-from can draw it.
    local ok, err = plot_one(ctx, wl, axis, png)
    if ok then pngs[#pngs + 1] = png else wl.plot_error = wl.plot_error or err end
  end
  wl.pngs = #pngs > 0 and pngs or nil
end

---------------------------------------------------------------------------------------------
-- Raw trials: the store the runs wrote, exported as CSV, and one line per run.

local function export(ctx)
  local st, err = require("htune.store").open(ctx.db)
  if not st then return nil, err end
  local runs = exchange.select_runs(st, "all") or {}
  -- One CSV per workload: the cfg.* columns are one problem's parameters.
  local ok, eerr = true, nil
  for _, wl in ipairs(ctx.done) do
    local mine = {}
    for _, run in ipairs(runs) do if run.problem_key == wl.p.key then mine[#mine + 1] = run end end
    local out = assert(io.open(ctx.out .. "/trials-" .. wl.name .. ".csv", "w"))
    local wok, werr = exchange.export_csv(st, mine, out)
    out:close()
    if not wok then ok, eerr = nil, werr end
  end
  local lines = { "run,workload,problem,shape,strategy,seed,best_us,wall_s,evals,stopped_because" }
  for _, run in ipairs(runs) do
    local s = ctx.by_key[table.concat({ run.problem_key or "", run.strategy or "", tostring(run.seed) }, "|")] or {}
    local row = { run.id, s.workload, run.problem, run.shape, run.strategy, run.seed, s.best_us, s.wall_s, s.evals, s.stopped }
    for i = 1, 10 do row[i] = exchange.csv_cell(row[i]) end
    lines[#lines + 1] = table.concat(row, ",", 1, 10)
  end
  st:close()
  assert(sys.write_atomic(ctx.out .. "/runs.csv", table.concat(lines, "\n") .. "\n"))
  return ok, eerr
end

---------------------------------------------------------------------------------------------
-- docs/results.md

local function copy(src, dst)
  local i = assert(io.open(src, "rb"))
  local data = i:read("a")
  i:close()
  assert(sys.write_atomic(dst, data))
end

-- The run's raw trials packed beside the plots (trials-<results dir name>.tar.gz), or nil.
local function pack_trials(ctx, docs)
  local abs = docs:sub(1, 1) == "/" and docs or (os.getenv("PWD") or ".") .. "/" .. docs
  local name = "trials-" .. (ctx.out:gsub("/+$", ""):match("[^/]+$") or "run") .. ".tar.gz"
  local ok = os.execute(string.format("cd '%s' && tar czf '%s/results/%s' runs.csv summary.json table.md trials-*.csv 2>/dev/null",
    ctx.out, abs, name))
  return ok and name or nil
end

local function publish(ctx)
  local docs = ctx.docs
  sys.mkdirs(docs .. "/results")
  for _, wl in ipairs(ctx.done) do
    for _, png in ipairs(wl.pngs or {}) do copy(ctx.out .. "/" .. png, docs .. "/results/" .. png) end
  end
  local text = markdown(ctx, "results/"):gsub("^# [^\n]*", "# Results: the seed's study on " .. ctx.device.name
    .. "\n\nRegenerated by `scripts/compare` from a live GPU run (numbers below are measured, not edited).", 1)
  local tarball = pack_trials(ctx, docs)
  if tarball then
    text = text .. string.format("\nRaw trials of this run (every trial's config, status, latency statistics, compile and "
      .. "bench time; `runs.csv`, `summary.json`, `table.md`): [results/%s](results/%s).\n", tarball, tarball)
  end
  assert(sys.write_atomic(docs .. "/results.md", text))
  log("published %s/results.md and its plots in %s/results/%s", docs, docs, tarball and (" with " .. tarball) or "")
end

---------------------------------------------------------------------------------------------

local function clean_outputs(out)
  for _, name in ipairs { "trials.db", "trials.db-wal", "trials.db-shm", "runs.csv", "table.md" } do
    os.remove(out .. "/" .. name)
  end
  for _, wl in ipairs(WORKLOADS) do
    for _, name in ipairs { "trials-%s.csv", "%s-time.png", "%s-evals.png" } do os.remove(out .. "/" .. name:format(wl.name)) end
  end
end

local function skip(ctx, wl, why)
  ctx.skipped[#ctx.skipped + 1] = { name = wl.name, reason = tostring(why) }
  log("skip %s: %s", wl.name, tostring(why))
end

local function setup(o)
  local g, why = nil, nil
  if o.backend ~= "replay" then g, why = gpu() end
  if o.backend == "live" and not g then die("--backend live: no GPU to tune on: " .. tostring(why)) end
  local live = g ~= nil
  settings(o, live)
  local ctx = { o = o, live = live, docs = o.docs, skipped = {}, done = {}, by_key = {}, endpoint = llm_endpoint(),
                date = os.date("!%Y-%m-%d %H:%M UTC"), commit = htune.commit(),
                command = os.getenv("HTUNE_COMPARE_CMD") or ("htune run scripts/compare.lua " .. table.concat(arg, " ")) }
  ctx.strategies = pick(STRATEGIES, o.strategies, "strategies")
  ctx.workloads = pick(WORKLOADS, o.workloads or (o.quick and table.concat(QUICK_WORKLOADS, ",")), "workloads")
  if live then
    ctx.device = { name = g.device, cc = g.cc, driver = g.driver }
    local d = g.info
    ctx.prompt_device = { name = d.name, sm_count = d.sms, smem_per_sm_bytes = d.smem_per_sm,
      smem_per_block_bytes = d.smem_per_block_optin, l2_bytes = d.l2_bytes, bandwidth_gbs = d.peak_bandwidth_gbs, cc = d.cc }
    ctx.backend_text = "live (NVRTC compile pool + GPU worker; NVRTC cache shared by all runs)"
  elseif o.backend == "auto" then
    log("no GPU (%s): using replay data from %s", tostring(why), o.data)
  end
  ctx.runnable = {}
  for _, wl in ipairs(ctx.workloads) do
    local ok, err = prepare(ctx, wl)
    if ok then ctx.runnable[#ctx.runnable + 1] = wl
    else skip(ctx, wl, err) end
  end
  if not live then
    local meta = (ctx.runnable[1] or {}).meta or {}
    ctx.device = { name = meta.device or "unknown", driver = meta.driver or "unknown", cc = meta.cc }
    ctx.backend_text = string.format("replay (tables in %s recorded on %s, commit %s; nearest recorded config answers "
      .. "misses; %g ms simulated per eval, so wall times are not GPU times)", o.data, ctx.device.name,
      meta.commit or "?", o.eval_ms)
  end
  local ep = ctx.endpoint
  ctx.llm_text = ep and string.format("endpoint %s, model %s", ep.url, ep.model)
    or string.format("mock server (tests/mock_llm, scripted model) answering after %g s per call", o.llm_latency)
  ctx.out = o.out or string.format("%s/results/%s-%s%s", sys.root, os.date("!%Y-%m-%d"), live and "" or "replay-", slug(ctx.device.name))
  assert(sys.mkdirs(ctx.out))
  clean_outputs(ctx.out)
  ctx.db = ctx.out .. "/trials.db"
  return ctx
end

local function run_workload(ctx, wl)
  local be, err = open_workload(ctx, wl)
  if not be then return skip(ctx, wl, err) end
  ctx.be = be
  wl.baseline_us, wl.baseline_name = be.info.baseline_us, be.info.baseline_name
  wl.runs, wl.agg = {}, {}
  for _, s in ipairs(ctx.strategies) do
    wl.runs[s] = {}
    for seed = 1, ctx.o.seeds do
      local r, rerr = run_one(ctx, wl, s, seed)
      if not r then r = { stopped = "error", message = rerr, curve = {}, wall_s = 0, evals = 0 } end
      r.workload = wl.name
      wl.runs[s][#wl.runs[s] + 1] = r
      ctx.by_key[table.concat({ wl.p.key, s, tostring(seed) }, "|")] = r
      io.stderr:write(string.format("compare: %-20s %-9s seed %d: best %s us, %d evals, %.1f s%s\n", wl.name, s, seed,
        us_fmt(r.best_us), r.evals or 0, r.wall_s or 0, r.stopped == "error" and ("  ERROR " .. tostring(r.message)) or ""))
    end
    wl.agg[s] = aggregate(wl.runs[s])
  end
  be:close()
  ctx.be = nil
  ctx.done[#ctx.done + 1] = wl
  return true
end

-- What markdown() needs, saved so --publish-from can publish a run fetched from another machine.
local function save_summary(ctx)
  local done = {}
  for i, wl in ipairs(ctx.done) do
    done[i] = { name = wl.name, title = wl.title, baseline_us = wl.baseline_us, baseline_name = wl.baseline_name,
                agg = wl.agg, pngs = wl.pngs, plot_error = wl.plot_error }
  end
  local keep = { "device", "commit", "date", "backend_text", "llm_text", "command", "total_s", "skipped", "strategies", "live" }
  local t = { format = "htune-compare", version = 1, done = done, o = { seconds = ctx.o.seconds, evals = ctx.o.evals,
              seeds = ctx.o.seeds, rebench = ctx.o.rebench } }
  for _, k in ipairs(keep) do t[k] = ctx[k] end
  assert(sys.write_atomic(ctx.out .. "/summary.json", cjson.encode(t)))
end

-- Each run of a results directory as plot() needs it ({curve=, wall_s=, evals=} by workload
-- and strategy), from runs.csv (workload, wall_s, evals per run id) and trials.db, so a run
-- fetched from elsewhere is drawn with this version's plots. nil, why when either is missing.
local function runs_from_dir(dir)
  local f, db = io.open(dir .. "/runs.csv"), io.open(dir .. "/trials.db")
  if db then db:close() end -- opening a missing store would create an empty one
  local st = f and db and require("htune.store").open(dir .. "/trials.db")
  if not st then
    if f then f:close() end
    return nil, "no runs.csv and trials.db"
  end
  local by_wl = {}
  f:read("l")
  for line in f:lines() do
    local c = {}
    for cell in (line .. ","):gmatch("([^,]*),") do c[#c + 1] = cell end
    local id, wl, strategy = math.tointeger(tonumber(c[1])), c[2], c[5]
    local rows = id and st:trials(id)
    if rows and wl ~= "" then
      local trace = {}
      for i, r in ipairs(rows) do trace[i] = { ok = r.ok == 1, latency_us = r.latency_us, wall_ms = r.wall_ms } end
      by_wl[wl] = by_wl[wl] or {}
      by_wl[wl][strategy] = by_wl[wl][strategy] or {}
      table.insert(by_wl[wl][strategy], { curve = convergence.curve(trace), wall_s = tonumber(c[8]) or 0,
                                          evals = tonumber(c[9]) or #rows, seed = tonumber(c[6]) or 0 })
    end
  end
  f:close()
  st:close()
  for _, per in pairs(by_wl) do
    for _, runs in pairs(per) do table.sort(runs, function(x, y) return x.seed < y.seed end) end
  end
  return by_wl
end

-- A workload's plots for --publish-from: redrawn from the run's trials when it has them, else
-- the PNGs there, else drawn from its plot-data/ (gnuplot was missing where it ran).
local function publish_plots(ctx, wl, by_wl)
  if by_wl and by_wl[wl.name] then
    wl.runs, wl.plot_error = by_wl[wl.name], nil
    return plot(ctx, wl)
  end
  local pngs = {}
  for _, axis in ipairs { "t", "n" } do
    local png = wl.name .. (axis == "t" and "-time.png" or "-evals.png")
    local have = io.open(ctx.out .. "/" .. png)
    if have then have:close() pngs[#pngs + 1] = png
    elseif os.execute(string.format("cd '%s' && gnuplot 'plot-data/%s-%s.gp' 2>/dev/null", ctx.out, wl.name, axis)) then
      pngs[#pngs + 1] = png
    end
  end
  wl.pngs = #pngs > 0 and pngs or nil
  wl.plot_error = #pngs < 2 and string.format("%d of 2 plots: the rest had no plot data and gnuplot could not draw them", #pngs) or nil
end

-- --publish-from DIR: docs/results.md from a live run's results directory (its summary.json,
-- runs.csv and trials.db), e.g. one fetched from the GPU machine; its plots are redrawn here.
local function publish_from(o)
  local f = io.open(o.publish_from .. "/summary.json")
  local t = f and cjson.decode(f:read("a"))
  if f then f:close() end
  if type(t) ~= "table" or t.format ~= "htune-compare" then die("--publish-from: no compare summary.json in " .. o.publish_from) end
  if not t.live then log("--publish-from: refused, docs/results.md holds live GPU runs only (%s was not)", o.publish_from) return 1 end
  local ctx = t
  ctx.out, ctx.docs = o.publish_from, o.docs
  if type(ctx.skipped) ~= "table" or next(ctx.skipped) == nil then ctx.skipped = {} end
  local by_wl, why = runs_from_dir(ctx.out)
  if not by_wl then log("--publish-from: plots not redrawn from trials (%s)", why) end
  for _, wl in ipairs(ctx.done) do publish_plots(ctx, wl, by_wl) end
  publish(ctx)
  return 0
end

local function main(args)
  local o = parse(args)
  if o.help then io.stdout:write(USAGE) return 0 end
  if o.publish_from then return publish_from(o) end
  local ctx = setup(o)
  if o.publish and not ctx.live then
    log("--publish: refused, docs/results.md holds live GPU runs only (this would be a replay run)")
    return 1
  end
  local nw = #ctx.runnable
  local n = nw * #ctx.strategies * o.seeds
  local est = n * per_run_s(o, ctx.live) + (ctx.live and nw * LIVE_SETUP_S or 0)
  log("%s backend on %s: %d runs (%d workloads x %d strategies x %d seeds), about %.1f s each; estimate %d:%02d",
    ctx.live and "live" or "replay", ctx.device.name, n, nw, #ctx.strategies, o.seeds, per_run_s(o, ctx.live),
    math.floor(est) // 60, math.floor(est) % 60)
  log("writing %s", ctx.out)
  local t0 = sys.now_ms()
  -- Outputs are rewritten after each workload, so a run cut short still leaves its results.
  for _, wl in ipairs(ctx.runnable) do
    if run_workload(ctx, wl) then
      ctx.total_s = (sys.now_ms() - t0) / 1000
      plot(ctx, wl)
      local eok, eerr = export(ctx)
      if not eok then log("CSV export failed: %s", tostring(eerr)) end
      assert(sys.write_atomic(ctx.out .. "/table.md", markdown(ctx, "")))
      save_summary(ctx)
    end
  end
  ctx.total_s = (sys.now_ms() - t0) / 1000
  assert(sys.write_atomic(ctx.out .. "/table.md", markdown(ctx, "")))
  save_summary(ctx)
  log("done in %.0f s: %s/table.md", ctx.total_s, ctx.out)
  io.stdout:write(table_rows(ctx), "\n")
  local want_publish = o.publish
  if want_publish == nil then want_publish = ctx.live and not o.quick and not o.workloads and not o.strategies end
  if want_publish then publish(ctx) end
  if #ctx.done == 0 then log("no workload could run") return 1 end
  return 0
end

return main(arg)

-- Strategy quality harness: each strategy x seeds x budgets on replay data (or the toy problem's
-- full synthetic table when no data is given) -> fraction of the best-known latency reached.
-- Prints a table per data file and writes a PNG per file with gnuplot. A sampled table (the
-- file's `how` is "sampled", e.g. matmul) resolves configs outside it to their nearest recorded
-- neighbour (as `--nearest`); `--exact` turns that off (then such configs are misses);
-- `--sample-nearest` resolves them among the table's random-sample rows only (its header's
-- sample_rows): a table enriched near its optimum answers random configs too well otherwise.
--   htune run scripts/eval-strategies.lua [--data FILE]... [--problem NAME] [--exact] [--seeds 50] [--first-seed 1]
--       [--budgets 25,50,100,200] [--strategies random,pattern,de,surrogate,portfolio]
--       [--png results/eval-strategies.png] [--opt strategy.key=value]...
--   htune run scripts/eval-strategies.lua --replays   (data/matmul, data/softmax and, when present, data/matmul-h200, data/softmax-h200)
--   htune run scripts/eval-strategies.lua --overhead  (driver cost at 100 configs/s)
local htune = require "htune"
local replay = require "htune.backends.replay"

local USAGE = "usage: eval-strategies [--data FILE]... [--replays] [--problem NAME] [--nearest|--exact|--sample-nearest] [--seeds N] [--first-seed S]\n" ..
  "  [--budgets 25,50,100,200] [--strategies a,b,...] [--png FILE] [--opt strategy.key=value]... [--overhead]\n"

local function add_opt(o, spec)
  local s, k, v = spec:match("^([%w_]+)%.([%w_]+)=(.+)$")
  if not s then io.stderr:write("eval-strategies: --opt wants strategy.key=value, got '", spec, "'\n") os.exit(2) end
  o.opts[s] = o.opts[s] or {}
  o.opts[s][k] = tonumber(v) or (v == "true" and true) or (v ~= "false" and v) or false
end

local function parse(args)
  local o = { seeds = 50, first_seed = 1, budgets = { 25, 50, 100, 200 }, strategies = { "random", "pattern", "de", "surrogate", "portfolio" },
              png = "results/eval-strategies.png", data = {}, opts = {} }
  local flags = { ["--nearest"] = "nearest", ["--exact"] = "exact", ["--overhead"] = "overhead", ["--replays"] = "replays",
                  ["--sample-nearest"] = "sample_nearest" }
  local i = 1
  while args[i] do
    local k, v = args[i], args[i + 1]
    if flags[k] then o[flags[k]] = true; i = i - 1
    elseif k == "--help" or k == "-h" then io.write(USAGE) os.exit(0)
    elseif v == nil then io.stderr:write("eval-strategies: option '", k, "' needs a value\n", USAGE) os.exit(2)
    elseif k == "--data" then o.data[#o.data + 1] = v
    elseif k == "--problem" then o.problem = v
    elseif k == "--seeds" then o.seeds = tonumber(v)
    elseif k == "--first-seed" then o.first_seed = tonumber(v)  -- held-out checks: e.g. 101 with --seeds 50
    elseif k == "--png" then o.png = v
    elseif k == "--opt" then add_opt(o, v)
    elseif k == "--budgets" then o.budgets = {} for b in v:gmatch("%d+") do o.budgets[#o.budgets + 1] = tonumber(b) end
    elseif k == "--strategies" then o.strategies = {} for s in v:gmatch("[^,]+") do o.strategies[#o.strategies + 1] = s end
    else io.stderr:write("eval-strategies: unknown option '", k, "'\n", USAGE) os.exit(2) end
    i = i + 2
  end
  if o.replays then
    -- the H100 tables, then the H200 tables (median of 3 passes) when present
    local optional = { ["matmul-h200"] = true, ["softmax-h200"] = true }
    for _, name in ipairs { "matmul", "softmax", "matmul-h200", "softmax-h200" } do
      local path = htune.sys.root .. "/data/" .. name .. ".replay.gz"
      local f = io.open(path, "rb")
      if f then f:close(); o.data[#o.data + 1] = path
      elseif not optional[name] then o.data[#o.data + 1] = path end -- missing: run_one says so
    end
  end
  return o
end

local function plot(o, results, path, title)
  local dat = path:gsub("%.png$", "") .. ".dat"
  local f = assert(io.open(dat, "w"))
  for _, s in ipairs(o.strategies) do
    for _, b in ipairs(o.budgets) do f:write(string.format("%d %.5f %.5f\n", b, results[s][b].mean, results[s][b].hit)) end
    f:write("\n\n")
  end
  f:close()
  local lines = {}
  for i, s in ipairs(o.strategies) do
    lines[i] = string.format("'%s' index %d using 1:2 with linespoints title '%s'", dat, i - 1, s)
  end
  local gp = io.popen("gnuplot 2>/dev/null", "w")
  if not gp then return nil end
  gp:write("set terminal pngcairo size 800,500\nset output '", path, "'\nset logscale x 2\n",
    "set title '", title:gsub("'", ""), "' noenhanced\n",
    "set xlabel 'evals'\nset ylabel 'mean fraction of best-known latency'\nset key bottom right\nset grid\n",
    "plot ", table.concat(lines, ", "), "\n")
  return gp:close()
end

-- Driver + strategy cost at 100 configs/s: 200 evals on the synthetic backend at 10 ms per eval
-- on one worker (ideal wall 2.0 s). CPU% = strategy + driver time over wall time (it overlaps
-- with the backend); lost% = wall time beyond the ideal.
local function overhead(o)
  local p = require("htune.problems.toy").new()
  print(string.format("%-10s %7s %7s %11s %9s %6s %6s", "strategy", "wall_s", "cfg/s", "strategy_ms", "driver_ms", "cpu%", "lost%"))
  for _, s in ipairs(o.strategies) do
    local r = htune.tune { problem = p, strategy = s, backend = "synthetic", budget = { evals = 200 }, seed = 1, quiet = true,
                          backend_options = { latency_ms = 10, workers = 1 }, rebench_k = 0, strategy_options = o.opts[s] }
    local t = r.time
    print(string.format("%-10s %7.3f %7.1f %11.1f %9.1f %6.2f %6.2f", s, r.wall_s, r.evals / r.wall_s, t.strategy_ms,
      t.driver_ms, t.overhead_pct, 100 * (r.wall_s - 2.0) / r.wall_s))
  end
  return 0
end

-- The problem a replay file was recorded for: --problem, else the name in its `problem` header.
local function problem_for(o, path)
  if o.problem then return htune.problem(o.problem, {}) end
  local data = assert(replay.read(path))
  local name = (data.meta.problem or ""):match("^([^/]+)") or path:match("([^/]-)%.replay")
  return assert(htune.problem(name, {}))
end

-- Opens the replay backend, lookups memoised so that 50 seeds do not repeat the nearest scan.
local function open_backend(problem, path, nearest)
  local be, err = replay.open(problem, { path = path, nearest = nearest, memo = true })
  if not be then io.stderr:write("eval-strategies: ", err, "\n") os.exit(2) end
  return be
end

-- Fraction of the best-known latency reached by one run (0 when nothing succeeded).
local function fraction(res, best_known)
  return res.best and res.best.ok and res.best.latency_us and best_known / res.best.latency_us or 0
end

local function evaluate(o, problem, be, best_known)
  local results = {}
  io.write(string.format("%-10s", "strategy"))
  for _, b in ipairs(o.budgets) do io.write(string.format("  %6d evals (>=98%%)", b)) end
  io.write("\n")
  for _, s in ipairs(o.strategies) do
    results[s] = {}
    io.write(string.format("%-10s", s))
    for _, b in ipairs(o.budgets) do
      local sum, hit = 0, 0
      for seed = o.first_seed, o.first_seed + o.seeds - 1 do
        local res = htune.tune { problem = problem, strategy = s, backend = be, budget = { evals = b },
                                 seed = seed, quiet = true, rebench_k = 0, strategy_options = o.opts[s] }
        if res.message then error(s .. " seed " .. seed .. ": " .. res.message) end
        local frac = fraction(res, best_known)
        sum = sum + frac
        if frac >= 0.98 then hit = hit + 1 end
      end
      results[s][b] = { mean = sum / o.seeds, hit = hit / o.seeds }
      io.write(string.format("  %6.3f (%5.1f%%)     ", sum / o.seeds, 100 * hit / o.seeds))
      io.flush()
    end
    io.write("\n")
  end
  return results
end

local function run_one(o, path, png)
  local problem, label
  if path then
    -- data/... rather than the checkout's absolute path, in the table and the plot's title
    local root = htune.sys.root .. "/"
    problem, label = problem_for(o, path), path:sub(1, #root) == root and path:sub(#root + 1) or path
  else
    path, label = os.tmpname() .. ".replay", "toy synthetic table"
    problem = require("htune.problems.toy_table").write(path)
  end
  local meta = assert(replay.read(path)).meta
  local nearest = o.nearest or (tostring(meta.how):match("^sampled") ~= nil and not o.exact)
  if nearest and o.sample_nearest then nearest = "sample" end
  local be = open_backend(problem, path, nearest)
  local best_known = be.info.best_known_us
  print(string.format("data: %s (%s, %d configs %s, device %s, commit %s), %d experiments (configs of one kernel and launch pool their readings), best known %.3f us, seeds %d..%d, misses %s",
    label, problem.key or problem.name, be.info.rows, meta.how or "?", be.info.device, meta.commit or "?",
    be.info.experiments or be.info.rows, best_known, o.first_seed, o.first_seed + o.seeds - 1,
    nearest == "sample" and "-> nearest config of the table's random sample (" .. meta.sample_rows .. " rows)"
    or nearest and "-> nearest recorded config" or "are failures"))
  local t0 = htune.sys.now_ms()
  local results = evaluate(o, problem, be, best_known)
  print(string.format("(%.1f s)", (htune.sys.now_ms() - t0) / 1000))
  if plot(o, results, png, label) then print("plot: " .. png) else print("plot: gnuplot failed or missing") end
  if label == "toy synthetic table" then os.remove(path) end
  return results
end

local function main(args)
  local o = parse(args)
  if o.overhead then return overhead(o) end
  htune.sys.mkdirs(o.png:match("(.*)/") or ".")
  if #o.data == 0 then run_one(o, nil, o.png) return 0 end
  for i, path in ipairs(o.data) do
    local png = #o.data == 1 and o.png or o.png:gsub("%.png$", "") .. "-" .. path:match("([^/]-)%.replay") .. ".png"
    if i > 1 then print() end
    run_one(o, path, png)
  end
  return 0
end

return main(arg)

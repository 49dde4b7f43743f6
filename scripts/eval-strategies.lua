-- Strategy quality harness: each strategy x seeds x budgets on replay data (or the toy problem's
-- full synthetic table when no data is given) -> fraction of the best-known latency reached.
-- Prints a table and writes a PNG with gnuplot. For a sampled table, --nearest lets configs
-- outside it be answered by their nearest recorded neighbour (else they are misses).
--   htune run scripts/eval-strategies.lua [--data FILE --problem NAME [--nearest]] [--seeds 50]
--       [--budgets 25,50,100,200] [--strategies random,pattern,de,surrogate,portfolio] [--png out.png]
--   htune run scripts/eval-strategies.lua --overhead     (driver cost at 100 configs/s)
local htune = require "htune"
local replay = require "htune.backends.replay"

local function parse(args)
  local o = { seeds = 50, budgets = { 25, 50, 100, 200 }, strategies = { "random", "pattern", "de", "surrogate", "portfolio" },
              png = "results/eval-strategies.png" }
  local i = 1
  while args[i] do
    local k, v = args[i], args[i + 1]
    if k == "--data" then o.data = v
    elseif k == "--problem" then o.problem = v
    elseif k == "--seeds" then o.seeds = tonumber(v)
    elseif k == "--png" then o.png = v
    elseif k == "--nearest" then o.nearest = true; i = i - 1
    elseif k == "--overhead" then o.overhead = true; i = i - 1
    elseif k == "--budgets" then o.budgets = {} for b in v:gmatch("%d+") do o.budgets[#o.budgets + 1] = tonumber(b) end
    elseif k == "--strategies" then o.strategies = {} for s in v:gmatch("[^,]+") do o.strategies[#o.strategies + 1] = s end
    else io.stderr:write("eval-strategies: unknown option '", k, "'\n") os.exit(2) end
    i = i + 2
  end
  return o
end

-- Every valid config of the toy problem measured by the synthetic backend, as a replay file.
local function toy_table(path)
  local p = require("htune.problems.toy").new()
  local be = require("htune.backends.synthetic").open(p, {})
  local rows = {}
  for i = 0, p.space:size() - 1 do
    local c = p.space:at(i)
    if c and p.space:validate(c) then rows[#rows + 1] = be:measure(c, 10, 0) end
  end
  assert(replay.write(path, p, rows, { device = "synthetic (toy landscape)", driver = "none", commit = "n/a" }))
  return p
end

local function plot(o, results, path)
  local dat = path:gsub("%.png$", "") .. ".dat"
  local f = assert(io.open(dat, "w"))
  for _, s in ipairs(o.strategies) do
    for _, b in ipairs(o.budgets) do f:write(string.format("%d %.5f\n", b, results[s][b].mean)) end
    f:write("\n\n")
  end
  f:close()
  local lines = {}
  for i, s in ipairs(o.strategies) do
    lines[i] = string.format("'%s' index %d with linespoints title '%s'", dat, i - 1, s)
  end
  local gp = io.popen("gnuplot", "w")
  if not gp then return nil end
  gp:write("set terminal pngcairo size 800,500\nset output '", path, "'\nset logscale x 2\n",
    "set xlabel 'evals'\nset ylabel 'fraction of best-known latency'\nset key bottom right\nset grid\n",
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
                          backend_options = { latency_ms = 10, workers = 1 }, rebench_k = 0 }
    local t = r.time
    print(string.format("%-10s %7.3f %7.1f %11.1f %9.1f %6.2f %6.2f", s, r.wall_s, r.evals / r.wall_s, t.strategy_ms,
      t.driver_ms, t.overhead_pct, 100 * (r.wall_s - 2.0) / r.wall_s))
  end
  return 0
end

local function main(args)
  local o = parse(args)
  if o.overhead then return overhead(o) end
  htune.sys.mkdirs("results")
  local problem, path
  if o.data then
    problem, path = htune.problem(o.problem or o.data:match("([^/]-)%.replay"), {}), o.data
  else
    path = os.tmpname() .. ".replay"
    problem = toy_table(path)
  end
  local be0 = assert(replay.open(problem, { path = path, nearest = o.nearest }))
  local best_known = be0.info.best_known_us
  print(string.format("data: %s (%d configs, device %s), best known %.3f us, %d seeds",
    o.data or "toy synthetic table", be0.info.rows, be0.info.device, best_known, o.seeds))
  local results, t0 = {}, htune.sys.now_ms()
  io.write(string.format("%-10s", "strategy"))
  for _, b in ipairs(o.budgets) do io.write(string.format("  %6d evals (>=98%%)", b)) end
  io.write("\n")
  for _, s in ipairs(o.strategies) do
    results[s] = {}
    io.write(string.format("%-10s", s))
    for _, b in ipairs(o.budgets) do
      local sum, hit = 0, 0
      for seed = 1, o.seeds do
        local res = htune.tune { problem = problem, strategy = s, backend = be0, budget = { evals = b },
                                 seed = seed, quiet = true, rebench_k = 0 }
        local frac = res.best and res.best.latency_us and best_known / res.best.latency_us or 0
        sum = sum + frac
        if frac >= 0.98 then hit = hit + 1 end
      end
      results[s][b] = { mean = sum / o.seeds, hit = hit / o.seeds }
      io.write(string.format("  %6.3f (%5.1f%%)     ", sum / o.seeds, 100 * hit / o.seeds))
      io.flush()
    end
    io.write("\n")
  end
  print(string.format("(%.1f s)", (htune.sys.now_ms() - t0) / 1000))
  if plot(o, results, o.png) then print("plot: " .. o.png) else print("plot: gnuplot failed or missing") end
  if not o.data then os.remove(path) end
  return 0
end

return main(arg)

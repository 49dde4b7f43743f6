-- Records a replay table: measures every valid config of a problem when there are at most
-- --all-max of them, else --count (>= 20000) distinct samples, on the live backend (or
-- --backend synthetic for a dry run), and writes data/<problem>.replay.gz with metadata.
-- --seconds S stops submitting after S seconds and writes what was measured (the GPU time one
-- call may use is limited; a partial sample of a shuffled list is still a uniform sample);
-- configs still compiling --grace seconds (default 30) after that are left out.
-- --around FILE densifies a sampled table where it matters: it measures the one-step neighbours
-- (space:neighbors) of FILE's --top K fastest rows, then of the new top K, for --rounds R rounds,
-- re-measures the top K rows themselves (the header records the median new/old ratio, the drift
-- between the two sessions), and writes FILE's rows plus the new ones.
-- --close-over FILE makes FILE exact for eval-strategies' runs of --strategies x --budgets x
-- --seeds (see close_over below): what those runs visit and FILE lacks is measured and merged
-- (its top rows are re-measured for the drift figure only: FILE's readings stand).
-- --repeats N measures the list N times, each pass in a new shuffled order (compiles are cached
-- after the first), and keeps each config's median, its spread across passes as noise_pct
-- (htune.backends.replay.median_rows): a short kernel's single reading can be an outlier.
local USAGE = [[
usage: htune run scripts/record.lua --problem matmul|softmax [options]
  --backend live|synthetic   (live)
  --count N                  samples when the space has more than --all-max valid configs (20000)
  --all-max N                record every valid config up to this many (50000)
  --seconds S                stop submitting after S seconds; --grace G waits G more (30)
  --checkpoint S             a plain sample writes what it has every S seconds (60)
  --latency-ms N             with --backend synthetic: each eval takes N ms (a dry run's timing)
  --around FILE              measure one-step neighbours of FILE's fastest rows and merge
  --top K  --rounds R        with --around: rows per round (40) and rounds (2)
  --configs-from FILE        re-measure exactly FILE's configs (after a kernel change)
  --close-over FILE          measure the configs FILE lacks that replayed strategy runs visit,
                             until those runs read recorded rows only (exact replay for them)
  --strategies a,b --budgets 100 --seeds 50 --first-seed 1   with --close-over: the runs
  --repeats N                without --around: N passes, each config's median kept (1)
  --define NAME=VALUE        a macro in every config program (a template variant; repeatable)
  --out FILE                 (data/<problem>.replay.gz)
  --commit SHA               commit recorded in the header (git HEAD when omitted)
  --M --N --K | --rows --cols  problem shape (the problem's default)
  --seed N                   sampling and shuffle seed (1)]]
local htune = require "htune"
local replay = require "htune.backends.replay"
local problem_mod = require "htune.problem"

local o = { problem = "matmul", backend = "live", count = 20000, all_max = 50000, batch = 64, grace = 30, checkpoint = 60,
            top = 40, rounds = 2, repeats = 1,
            strategies = "pattern,surrogate", budgets = "100", seeds = 50, first_seed = 1 }
for i = 1, #arg, 2 do
  local k = arg[i]:gsub("^%-%-", ""):gsub("-", "_")
  if k == "help" or k == "h" then print(USAGE) os.exit(0) end
  if arg[i + 1] == nil then io.stderr:write("record: option --", k, " needs a value\n", USAGE, "\n") os.exit(2) end
  if k == "define" then
    local name, v = require("htune.problem").parse_define(arg[i + 1])
    if not name then io.stderr:write("record: --define wants NAME=VALUE, got '", arg[i + 1], "'\n") os.exit(2) end
    o.defines = o.defines or {}
    o.defines[name] = v
  else
    o[k] = tonumber(arg[i + 1]) or arg[i + 1]
  end
end

local function configs(space)
  local size = space:size()
  local out = {}
  -- size() counts valid configs; at() indexes the unconstrained product of the parameters.
  local full = 1
  for _, d in ipairs(space:params()) do full = full * d.count end
  if size <= o.all_max and full <= 100 * o.all_max then
    for i = 0, full - 1 do
      local c = space:at(i)
      if c and space:validate(c) then out[#out + 1] = c end
    end
    return out, "all valid"
  end
  local seen, r = {}, htune.rng(o.seed or 1)
  for _ = 1, o.count * 50 do
    if #out >= o.count then break end
    local c = space:sample(r)
    local h = space:hash(c)
    if not seen[h] then seen[h] = true; out[#out + 1] = c end
  end
  return out, "sampled"
end


local shape = {}
for _, k in ipairs { "M", "N", "K", "rows", "cols" } do shape[k] = tonumber(o[k]) end
shape.defines = o.defines
-- "580.95.05 (CUDA 13.0)": the kernel driver from nvidia-smi and the driver API version.
local function driver_string(be)
  if be.info.backend ~= "live" then return be.info.driver or be.info.backend end
  local p = io.popen("nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null")
  local kd = p and p:read("l")
  if p then p:close() end
  local ok, _, c = pcall(function() return require("htune.cuda").init {} end)
  local v = ok and type(c) == "table" and c.driver_version
  local api = v and string.format("CUDA %d.%d", v // 1000, v % 1000 // 10)
  return (kd or "unknown") .. (api and " (" .. api .. ")" or "")
end

local problem = o.problem == "toy" and require("htune.problems.toy").new() or htune.problem(o.problem, shape)
-- Cutoff off: every row needs its full latency, not "cannot beat the best so far". Twins off:
-- every row is its own reading (a twin would copy its lead's, and --repeats would time each
-- config once for all passes); replay pools the readings of one experiment afterwards.
local be = assert(require("htune.backends." .. o.backend).open(problem, { cutoff = false, twins = false,
  latency_ms = o.backend == "synthetic" and tonumber(o.latency_ms) or nil }))
-- Shuffle (seeded) so that a run cut short by --seconds is a uniform sample of the list.
local shuffle = htune.rng(o.seed or 1)
local function shuffled(cfgs)
  for i = #cfgs, 2, -1 do
    local j = shuffle:int(1, i)
    cfgs[i], cfgs[j] = cfgs[j], cfgs[i]
  end
  return cfgs
end

local t0, last = htune.sys.now_ms(), htune.sys.now_ms()
local deadline = o.seconds and t0 + 1000 * tonumber(o.seconds)
local total, done_before = 0, 0
local function progress(n, final)
  local s = (htune.sys.now_ms() - t0) / 1000
  io.stderr:write(string.format("%srecord: %d/%d measured, %.1f s, %.1f configs/s%s", final and "" or "\r",
    done_before + n, total, s, (done_before + n) / math.max(s, 1e-3), final and "\n" or ""))
end

-- A mode whose partial rows are a table of their own (a uniform sample cut short) sets this to
-- function(rows) that writes them; measure() calls it every --checkpoint seconds, so that a run
-- killed from outside (a device call's time limit) keeps what it measured.
local checkpoint, last_checkpoint = nil, t0

-- measure(cfgs) -> rows (results in completion order); stops submitting at the deadline.
local function measure(cfgs)
  total = total + #cfgs
  local rows, next_i = {}, 1
  while #rows < next_i - 1 or next_i <= #cfgs do
    local open = not deadline or htune.sys.now_ms() < deadline
    while open and next_i <= #cfgs and be:pending() < o.batch do
      be:submit { { id = next_i, cfg = cfgs[next_i], hash = problem.space:hash(cfgs[next_i]) } }
      next_i = next_i + 1
    end
    if not open and (be:pending() == 0 or htune.sys.now_ms() > deadline + 1000 * o.grace) then break end
    for _, r in ipairs(be:poll(100)) do rows[#rows + 1] = r end
    if htune.sys.now_ms() - last > 5000 then last = htune.sys.now_ms(); progress(#rows) end
    if checkpoint and #rows > 0 and htune.sys.now_ms() - last_checkpoint >= 1000 * o.checkpoint then
      last_checkpoint = htune.sys.now_ms()
      checkpoint(rows)
    end
  end
  progress(#rows, true)
  done_before = done_before + #rows
  return rows
end

-- The --around FILE table as result rows (cfg, ok, latency_us, reason), checked against the space.
local function read_table(path)
  local t, err = replay.read(path)
  if not t then io.stderr:write("record: ", err, "\n") os.exit(2) end
  local sig = replay.space_signature(problem.space)
  local want = problem.space:name() .. " " .. sig
  if t.meta.space ~= want then
    io.stderr:write(string.format("record: %s holds space '%s', this space is '%s'\n", path, tostring(t.meta.space), want))
    os.exit(2)
  end
  local rows = {}
  for _, r in ipairs(t.rows) do
    local in_range, cfg = pcall(problem.space.at, problem.space, r.index)
    if not in_range or not cfg then
      io.stderr:write(string.format("record: %s: row index %s is not a config of this space\n", path, tostring(r.index)))
      os.exit(2)
    end
    rows[#rows + 1] = { cfg = cfg, ok = r.latency_us ~= nil, latency_us = r.latency_us,
                        reason = r.reason, stats = { noise_pct = r.noise_pct } }
  end
  return rows, t.meta
end

-- Writes rows to the --out table (default data/<problem>.replay.gz) with the run's header: to a
-- temporary file beside it, then renamed over it, so a reader (or a run killed mid-write) never
-- sees half a table. close_over also calls it after every round, so that a run stopped from
-- outside (a device call's time limit) leaves its last round's rows, marked as a checkpoint.
local function write_out(rows, how, extra)
  local out = o.out or (htune.sys.root .. "/data/" .. problem.name .. ".replay.gz")
  htune.sys.mkdirs(out:match("(.*)/") or ".")
  local tmp = out:gsub("%.gz$", "") .. ".tmp" .. (out:match("%.gz$") and ".gz" or "")
  assert(replay.write(tmp, problem, rows, {
    device = be.info.device, driver = driver_string(be), commit = o.commit or htune.commit(), how = how,
    created = os.date("!%Y-%m-%dT%H:%M:%SZ"), seconds = string.format("%.0f", (htune.sys.now_ms() - t0) / 1000),
    baseline_us = be.info.baseline_us, baseline_name = be.info.baseline_name, drift = extra and extra.drift,
    baseline_timing = be.info.baseline_us and be.info.backend == "live" and "gated" or nil,
    sample_rows = extra and extra.sample_rows, closed = extra and extra.closed,
  }))
  local ok, err = os.rename(tmp, out)
  if not ok then
    io.stderr:write("record: cannot rename ", tmp, " to ", out, ": ", tostring(err), "\n")
    os.exit(1)
  end
  return out
end

local function fastest(rows, k)
  local ok = {}
  for _, r in ipairs(rows) do if r.ok and r.latency_us then ok[#ok + 1] = r end end
  table.sort(ok, function(a, b) return a.latency_us < b.latency_us end)
  return { table.unpack(ok, 1, math.min(k, #ok)) }
end

-- Drift between the sessions: re-measures the --top fastest rows of old (by_hash indexes them)
-- and keeps the new values unless keep_old -> the drift header field (median new/old latency), or nil.
local function remeasure_top(old, by_hash, path, keep_old)
  local sp = problem.space
  local again = {}
  for _, r in ipairs(fastest(old, o.top)) do again[#again + 1] = r.cfg end
  io.stderr:write(string.format("record: re-measuring the %d fastest rows of %s\n", #again, path))
  local ratios = {}
  for _, r in ipairs(measure(again)) do
    local h = sp:hash(r.cfg)
    if r.ok and r.latency_us and by_hash[h].latency_us then ratios[#ratios + 1] = r.latency_us / by_hash[h].latency_us end
    if not keep_old then
      by_hash[h].ok, by_hash[h].latency_us, by_hash[h].reason, by_hash[h].stats = r.ok, r.latency_us, r.reason, r.stats
    end
  end
  table.sort(ratios)
  local drift = #ratios > 0 and ratios[(#ratios + 1) // 2] or nil
  return drift and string.format("%.4f median new/old latency of %d re-measured top rows%s", drift, #ratios,
    keep_old and " (not kept: the table's readings stand)" or "")
end

-- The table at path to add rows to: its rows, header, rows by config hash, and the drift of its
-- re-measured top rows (remeasure_top; keep_old keeps the table's readings).
local function open_base(path, keep_old)
  local old, meta = read_table(path)
  local by_hash = {}
  for _, r in ipairs(old) do by_hash[problem.space:hash(r.cfg)] = r end
  return old, meta, by_hash, remeasure_top(old, by_hash, path, keep_old)
end

-- around(path) -> merged rows, how, extra header fields
local function around(path)
  local sp = problem.space
  local old, meta, by_hash, drift = open_base(path)
  local added = 0
  for round = 1, o.rounds do
    local fresh = {}
    for _, r in ipairs(fastest(old, o.top)) do
      for _, c in ipairs(sp:neighbors(r.cfg)) do
        local h = sp:hash(c)
        if not by_hash[h] then by_hash[h] = false; fresh[#fresh + 1] = c end
      end
    end
    io.stderr:write(string.format("record: round %d: %d unmeasured neighbours of the %d fastest rows\n", round, #fresh, o.top))
    for _, r in ipairs(measure(shuffled(fresh))) do
      by_hash[sp:hash(r.cfg)] = r
      old[#old + 1] = r
      added = added + 1
    end
    if deadline and htune.sys.now_ms() >= deadline then break end
  end
  local how = string.format("%s; plus %d one-step neighbours of the %d fastest rows (%d rounds, commit %s)",
    meta.how or "?", added, o.top, o.rounds, o.commit or htune.commit())
  return old, how, { drift = drift, sample_rows = meta.sample_rows }
end

-- close_over(path) -> merged rows, how, extra header fields. Makes a table exact for the runs
-- eval-strategies makes: each --strategies x --budgets x seed run replays on the table (a config
-- it lacks answered by its nearest row, as eval-strategies does); every config a run found
-- missing is measured live while the next runs replay, and the runs that missed are replayed
-- again on the larger table, until no run misses (it then reads recorded rows only, so its
-- replay is what those measurements give) or --seconds is up. A run that missed nothing is
-- final: no reading it used changes, because the table's readings stand (the re-measured top
-- rows only give the drift; keeping them moved 97 runs that call 15-17 had closed) and a config
-- is measured only when no recorded config is the same experiment (replay answers it with that
-- experiment's pooled readings: problem.experiment_key), so no pooled value changes either.
local function close_over(path)
  local sp = problem.space
  local old, meta, by_hash, drift = open_base(path, true)
  local function ekey(cfg) return problem_mod.experiment_key(problem, cfg) end
  local by_key = {} -- experiment key -> true (recorded) or false (queued)
  for _, r in ipairs(old) do
    local k = ekey(r.cfg)
    if k then by_key[k] = true end
  end
  local runs = {}
  for s in tostring(o.strategies):gmatch("[^,]+") do
    for b in tostring(o.budgets):gmatch("%d+") do
      for seed = o.first_seed, o.first_seed + o.seeds - 1 do runs[#runs + 1] = { s = s, b = tonumber(b), seed = seed } end
    end
  end
  local tmp = os.tmpname()
  local queue, qi, added = {}, 1, 0
  -- submits queued misses while the compile threads have room and takes finished ones, waiting
  -- at most wait_ms
  local function pump(wait_ms)
    while qi <= #queue and be:pending() < o.batch do
      local c = queue[qi]
      be:submit { { id = qi, cfg = c, hash = sp:hash(c) } }
      qi = qi + 1
    end
    for _, r in ipairs(be:poll(wait_ms)) do
      by_hash[sp:hash(r.cfg)] = r
      local k = ekey(r.cfg)
      if k then by_key[k] = true end
      old[#old + 1] = r
      added = added + 1
    end
  end
  local round, open_runs = 0, runs
  -- the header's how and closed fields after `round` rounds
  local function summary(rounds, note)
    local closed = string.format("%d of %d runs (%s x budgets %s x seeds %d-%d) replay on recorded rows only, after %d rounds%s",
      #runs - #open_runs, #runs, o.strategies, o.budgets, o.first_seed, o.first_seed + o.seeds - 1, rounds, note)
    local how = string.format("%s; plus %d configs the strategies visit (commit %s): %s", meta.how or "?", added,
      o.commit or htune.commit(), closed)
    return how, { drift = drift, sample_rows = meta.sample_rows, closed = closed }
  end
  while #open_runs > 0 and not (deadline and htune.sys.now_ms() >= deadline) do
    round = round + 1
    assert(replay.write(tmp, problem, old, { device = meta.device }))
    local rbe = assert(replay.open(problem, { path = tmp, nearest = true, memo = true }))
    local land, missed = rbe.landscape, false
    rbe.landscape = function(cfg)
      local h, k = sp:hash(cfg), ekey(cfg)
      if not by_hash[h] and not (k and by_key[k]) then
        missed = true
        if by_hash[h] == nil and not (k and by_key[k] == false) then -- false: queued
          by_hash[h] = false
          if k then by_key[k] = false end
          queue[#queue + 1] = cfg
        end
      end
      return land(cfg)
    end
    local still, round_start, skipped = {}, added, 0
    for _, run in ipairs(open_runs) do
      if deadline and htune.sys.now_ms() >= deadline then -- out of time: the rest stay open, unreplayed
        still[#still + 1], skipped = run, skipped + 1
      else
        missed = false
        local res = htune.tune { problem = problem, strategy = run.s, backend = rbe, budget = { evals = run.b },
                                 seed = run.seed, quiet = true, rebench_k = 0 }
        if res.message then error(run.s .. " seed " .. run.seed .. ": " .. res.message) end
        if missed then still[#still + 1] = run end
        pump(0)
      end
    end
    while be:pending() > 0 or qi <= #queue do
      pump(100)
      if deadline and htune.sys.now_ms() > deadline + 1000 * o.grace then break end
    end
    io.stderr:write(string.format("record: closure round %d: %d of %d runs missed%s, %d configs measured (%d in all), %.0f s\n",
      round, #still, #open_runs, skipped > 0 and string.format(" or were not replayed (%d, --seconds)", skipped) or "",
      added - round_start, added, (htune.sys.now_ms() - t0) / 1000))
    open_runs = still
    if #open_runs > 0 then write_out(old, summary(round, " (checkpoint: the run had not finished)")) end
  end
  os.remove(tmp)
  local how, extra = summary(round, "")
  io.stderr:write("record: " .. extra.closed .. "\n")
  return old, how, extra
end

local repeats = math.tointeger(o.repeats)
if not repeats or repeats < 1 then
  io.stderr:write("record: --repeats must be a whole number >= 1, got ", tostring(o.repeats), "\n")
  os.exit(2)
end
if repeats > 1 and (o.around or o.close_over) then
  io.stderr:write("record: --repeats does not go with --", o.around and "around" or "close-over", "\n")
  os.exit(2)
end
for _, k in ipairs { "seeds", "first_seed" } do
  if not math.tointeger(o[k]) or o[k] < 1 then
    io.stderr:write("record: --", k:gsub("_", "-"), " must be a whole number >= 1, got ", tostring(o[k]), "\n")
    os.exit(2)
  end
end
if type(o.checkpoint) ~= "number" or o.checkpoint < 0 then
  io.stderr:write("record: --checkpoint must be a number of seconds >= 0, got '", tostring(o.checkpoint), "'\n")
  os.exit(2)
end
if not tostring(o.budgets):match("^%d+[%d,]*$") then
  io.stderr:write("record: --budgets wants numbers like 50,100, got '", tostring(o.budgets), "'\n")
  os.exit(2)
end
-- measure() over `repeats` passes in fresh orders, folded to one median row per config.
local function measure_passes(cfgs)
  if repeats == 1 then return measure(cfgs) end
  local passes = {}
  for k = 1, repeats do
    io.stderr:write(string.format("record: pass %d of %d\n", k, repeats))
    passes[k] = measure(shuffled(cfgs))
    if deadline and htune.sys.now_ms() >= deadline then break end
  end
  return replay.median_rows(problem.space, passes), #passes
end
local function passes_note(n) return repeats > 1 and string.format("; median of %d passes, noise_pct = spread across them", n) or "" end

local rows, how, extra
if o.around then
  rows, how, extra = around(o.around)
elseif o.close_over then
  rows, how, extra = close_over(o.close_over)
elseif o.configs_from then
  local old, meta = read_table(o.configs_from)
  -- a config read several times in FILE (merged sessions) is measured once a pass
  local cfgs, seen = {}, {}
  for _, r in ipairs(old) do
    local h = problem.space:hash(r.cfg)
    if not seen[h] then seen[h] = true; cfgs[#cfgs + 1] = r.cfg end
  end
  io.stderr:write(string.format("record: re-measuring the %d configs of %s on %s\n", #cfgs, o.configs_from, be.info.device))
  local npass
  rows, npass = measure_passes(shuffled(cfgs))
  -- Kept first: readers (eval-strategies) tell a sampled table by how's first word.
  how = string.format("%s; all %d re-measured (commit %s)%s", meta.how or "?", #rows, o.commit or htune.commit(), passes_note(npass))
  if #rows < #cfgs then how = how .. string.format(" (%d of %d re-measured, --seconds %s)", #rows, #cfgs, o.seconds) end
else
  local cfgs
  cfgs, how = configs(problem.space)
  io.stderr:write(string.format("record: %s: %d configs (%s) on %s\n", problem.key or problem.name, #cfgs, how, be.info.device))
  if repeats == 1 then
    local base = how
    checkpoint = function(part)
      write_out(part, string.format("%s, %d of %d measured (checkpoint: the run had not finished)", base, #part, #cfgs))
    end
  end
  local npass
  rows, npass = measure_passes(shuffled(cfgs))
  if #rows < #cfgs then how = string.format("%s, %d of %d measured (--seconds %s)", how, #rows, #cfgs, o.seconds) end
  how = how .. passes_note(npass)
end
local left = be:pending()
if left == 0 and be.retime_baseline then be:retime_baseline() end -- the GPU is warm now
local out = write_out(rows, how, extra)
print(string.format("record: wrote %d rows to %s in %.1f s%s", #rows, out, (htune.sys.now_ms() - t0) / 1000,
  left > 0 and string.format(" (%d still compiling after --grace %d s left out)", left, o.grace) or ""))
if left == 0 then be:close() end -- else the worker sees its pipe close and exits
-- Without closing the Lua state: its collector would wait for compiles still running.
os.exit(0, false)

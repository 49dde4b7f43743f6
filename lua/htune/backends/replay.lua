-- Replay backend: answers trials from a recorded table (config -> latency or failure reason)
-- instead of a GPU. Owns the replay file format ("htune-replay 1": a '#' metadata header, then
-- one line per config `index<TAB>latency_us<TAB>noise_pct` or `index<TAB>!reason`, where index
-- is space:index_of(cfg); gzip'd when the name ends in .gz). A config not in the table is a
-- "miss", or with nearest=true the nearest recorded config by a per-field distance.
local sys = require "htune.sys"
local synthetic = require "htune.backends.synthetic"
local problem_mod = require "htune.problem"

local M = {}

-- A signature of the space's parameters, so a file recorded for another space is refused.
function M.space_signature(space)
  local parts = {}
  for _, p in ipairs(space:params()) do parts[#parts + 1] = p.name .. ":" .. tostring(p.count) end
  return sys.hash(table.concat(parts, ","))
end

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function open_text(path, mode)
  if not path:match("%.gz$") then return io.open(path, mode) end
  if mode == "r" then
    if not io.open(path, "r") then return nil, path .. ": No such file or directory" end
    return io.popen("gzip -dc " .. shell_quote(path), "r")
  end
  return io.popen("gzip -9c > " .. shell_quote(path), "w")
end

-- write_indexed(path, problem_key, space_header, rows, meta) -> true or nil, msg. rows:
-- {index=, latency_us=, noise_pct=} or {index=, reason=} (as read() returns them); space_header:
-- "<name> <signature>"; meta: extra header fields (device, driver, commit, ...).
function M.write_indexed(path, problem_key, space_header, rows, meta)
  local f, err = open_text(path, "w")
  if not f then return nil, "replay: cannot write '" .. path .. "': " .. tostring(err), "EIO" end
  f:write("# htune-replay 1\n", "# problem ", problem_key, "\n", "# space ", space_header, "\n")
  local keys = {}
  for k in pairs(meta or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do f:write("# ", k, " ", tostring(meta[k]):gsub("\n", " "), "\n") end
  f:write("# columns index latency_us noise_pct | index !reason\n")
  for _, r in ipairs(rows) do
    if r.latency_us then
      f:write(string.format("%d\t%.4f\t%.2f\n", r.index, r.latency_us, r.noise_pct or 0))
    else
      f:write(string.format("%d\t!%s\n", r.index, r.reason or "fault"))
    end
  end
  local ok, cerr = f:close()
  if not ok then return nil, "replay: writing '" .. path .. "' failed: " .. tostring(cerr), "EIO" end
  return true
end

-- write(path, problem, rows, meta) -> true or nil, msg. rows: results {cfg=, ok=, latency_us=,
-- reason=, stats=}; meta: extra header fields (device, driver, commit, ...).
function M.write(path, problem, rows, meta)
  local sp, out = problem.space, {}
  for i, r in ipairs(rows) do
    local ok = r.ok and r.latency_us
    out[i] = { index = sp:index_of(r.cfg), latency_us = ok and r.latency_us or nil, reason = not ok and (r.reason or "fault") or nil,
               noise_pct = r.stats and r.stats.noise_pct }
  end
  return M.write_indexed(path, problem.key or problem.name, sp:name() .. " " .. M.space_signature(sp), out, meta)
end

-- median_rows(space, passes) -> rows: several measuring passes over (some of) the same configs
-- (each a list of result rows as write() takes) folded into one row per config, in first-seen
-- order. A config ok in at least half of its passes gets the median of its ok latencies and, as
-- noise_pct, their spread across passes ((max - min) / median, in %; a single ok pass keeps its
-- own noise_pct); otherwise it is a failure with its first pass's reason. stats.passes counts them.
function M.median_rows(space, passes)
  local order, by = {}, {}
  for _, pass in ipairs(passes) do
    for _, r in ipairs(pass) do
      local h = space:hash(r.cfg)
      local e = by[h]
      if not e then
        e = { cfg = r.cfg, us = {}, n = 0, noise = nil, reason = nil }
        by[h], order[#order + 1] = e, h
      end
      e.n = e.n + 1
      if r.ok and r.latency_us then
        e.us[#e.us + 1] = r.latency_us
        e.noise = e.noise or (r.stats and r.stats.noise_pct)
      else
        e.reason = e.reason or r.reason or "fault"
      end
    end
  end
  local rows = {}
  for i, h in ipairs(order) do
    local e = by[h]
    local k = #e.us
    if 2 * k >= e.n and k > 0 then
      table.sort(e.us)
      local med = k % 2 == 1 and e.us[(k + 1) // 2] or (e.us[k // 2] + e.us[k // 2 + 1]) / 2
      local noise = k > 1 and 100 * (e.us[k] - e.us[1]) / med or e.noise
      rows[i] = { cfg = e.cfg, ok = true, latency_us = med, stats = { noise_pct = noise, passes = e.n } }
    else
      rows[i] = { cfg = e.cfg, ok = false, reason = e.reason, stats = { passes = e.n } }
    end
  end
  return rows
end

local function parse_line(line, meta, rows, lineno)
  local key, value = line:match("^#%s*(%S+)%s*(.-)%s*$")
  if key then
    if meta[key] == nil then meta[key] = value end
    return true
  end
  local idx, rest = line:match("^(%d+)\t(.*)$")
  if not idx then return nil, "line " .. lineno .. ": expected 'index<TAB>latency' or '#', got '" .. line:sub(1, 40) .. "'" end
  local reason = rest:match("^!(%S+)")
  local us, noise = rest:match("^([%d.eE+-]+)\t?([%d.]*)")
  local v = tonumber(us)
  if not reason and not (v and v > 0 and v < math.huge) then
    return nil, "line " .. lineno .. ": bad latency '" .. rest:sub(1, 40) .. "' (want a positive finite number of us, or !reason)"
  end
  rows[#rows + 1] = { index = tonumber(idx), latency_us = v, noise_pct = tonumber(noise), reason = reason }
  return true
end

-- read(path) -> {meta=, rows={{index=, latency_us=|reason=}}} or nil, msg, code
function M.read(path)
  local f, err = open_text(path, "r")
  if not f then return nil, "replay: cannot read '" .. path .. "': " .. tostring(err), "ENOENT" end
  local meta, rows, n, perr = {}, {}, 0, nil
  for line in f:lines() do
    n = n + 1
    if line ~= "" then
      local ok, e = parse_line(line, meta, rows, n)
      if not ok then
        perr = e
        f:read("a") -- to the end, so that gzip's status below is about the file, not a closed pipe
        break
      end
    end
  end
  -- a .gz file is read through gzip: a truncated or corrupt one ends early, and only gzip's
  -- exit status says so (the rows read so far would pass for the whole table; a cut inside a
  -- line reads as a bad last line, so this comes before perr)
  if not f:close() then
    return nil, "replay: " .. path .. ": gzip could not read it to the end (truncated or corrupt?)", "EFORMAT"
  end
  if perr then return nil, "replay: " .. path .. ": " .. perr, "EFORMAT" end
  if meta["htune-replay"] ~= "1" then return nil, "replay: " .. path .. ": not an htune-replay 1 file", "EFORMAT" end
  return { meta = meta, rows = rows }
end

function M.default_path(problem)
  local base = sys.root .. "/data/" .. (problem.name or "problem")
  for _, ext in ipairs { ".replay.gz", ".replay" } do
    local f = io.open(base .. ext, "r")
    if f then f:close() return base .. ext end
  end
  return base .. ".replay.gz"
end

-- Table hash -> row, with configs for nearest-neighbour lookup, and experiment key -> row. A
-- config read several times (tables merged from sessions: 464 configs of the H100 matmul table
-- have 2 to 5 rows) is one row, folded as median_rows folds passes; keeping the last reading
-- while best_known_us took the minimum over all readings made that best unreachable (13.244 us
-- recorded, 13.301 served). With pool, configs that are one experiment (problem.experiment_key:
-- the same kernel, launch and arguments) fold their readings together the same way, and each
-- answers with the folded value: single readings of identical kernels differ by noise alone,
-- and the table's best was the luckiest of them (H200 matmul: 13.063 us, one of four
-- l2_grouping values that run one kernel, while pattern's usual end read 13.362).
local function index_rows(problem, data, pool)
  local space = problem.space
  local groups, order = {}, {}
  for _, row in ipairs(data.rows) do
    local in_range, cfg = pcall(space.at, space, row.index)
    if not in_range then return nil, string.format("row index %s is outside the space", tostring(row.index)) end
    if cfg then
      local h = space:hash(cfg)
      local g = groups[h]
      if not g then g = { cfg = cfg, index = row.index }; groups[h], order[#order + 1] = g, h end
      g[#g + 1] = row
    end
  end
  local classes, class_of = {}, {}
  for _, h in ipairs(order) do
    local g = groups[h]
    local k = pool and problem_mod.experiment_key(problem, g.cfg) or ("#" .. h)
    local cl = classes[k]
    if not cl then cl = { key = k, cfg = g.cfg, configs = 0 }; classes[k] = cl end
    cl.configs = cl.configs + 1
    for _, r in ipairs(g) do cl[#cl + 1] = r end
    class_of[h] = cl
  end
  local by_hash, entries, by_key, nkeys = {}, {}, {}, 0
  for _, h in ipairs(order) do
    local g, cl = groups[h], class_of[h]
    if not cl.folded then
      local f = cl[1]
      if #cl > 1 then
        local passes = {}
        for i, r in ipairs(cl) do
          passes[i] = { { cfg = cl.cfg, ok = r.latency_us ~= nil, latency_us = r.latency_us, reason = r.reason,
                          stats = { noise_pct = r.noise_pct } } }
        end
        local m = M.median_rows(space, passes)[1]
        f = { latency_us = m.ok and m.latency_us or nil, reason = not m.ok and m.reason or nil, noise_pct = m.stats.noise_pct }
      end
      cl.folded = { latency_us = f.latency_us, reason = f.reason, noise_pct = f.noise_pct, readings = #cl }
    end
    local f = cl.folded
    local row = { index = g.index, cfg = g.cfg, latency_us = f.latency_us, reason = f.reason, noise_pct = f.noise_pct,
                  readings = f.readings, twins = cl.configs - 1 }
    by_hash[h] = row
    entries[#entries + 1] = row
    if not by_key[cl.key] then by_key[cl.key], nkeys = row, nkeys + 1 end
  end
  return by_hash, entries, by_key, nkeys
end

-- Nearest-neighbour distance, per field: an ordinal parameter (pow2, int) counts its index
-- distance over (count - 1), an enum (choice, bool) 1 on a mismatch, a list or perm the mean of
-- its elements' distances; every parameter weighs at most 1. (Squared distance on space:encode
-- made one enum mismatch cost 2 -- one-hot -- and one step of a 5-value tile size 1/16, so the
-- nearest row matched every enum and differed freely in tile sizes, which dominate latency; on
-- the H100 matmul table, leave-one-out prediction of log latency by the nearest other row has
-- mean error 0.341 per field vs 0.383 by encoding, 1,200 of its 5,453 rows.) Columns: {ordinal=, weight=}.
local function field_columns(space)
  local cols = {}
  for _, q in ipairs(space:params()) do
    local n = (q.kind == "list" or q.kind == "perm") and q.n or 1
    local kind = q.kind == "list" and q.elem or q.kind
    local ordinal = (kind == "pow2" or kind == "int") and q.values ~= nil
    local pos = {}
    for i, v in ipairs(q.values or {}) do pos[v] = i end
    for k = 1, n do
      cols[#cols + 1] = { name = q.name, elem = (q.kind == "list" or q.kind == "perm") and k or nil, weight = 1 / n,
                          ordinal = ordinal, pos = pos, scale = 1 / math.max(1, (q.count or 2) - 1) }
    end
  end
  return cols
end

-- A config as one number (ordinal index) or value (enum) per column.
local function field_coords(cols, cfg)
  local x = {}
  for j, c in ipairs(cols) do
    local v = cfg[c.name]
    if c.elem then v = v[c.elem] end
    x[j] = c.ordinal and (c.pos[v] or 0) * c.scale or v
  end
  return x
end

local function field_distance(cols, x, y, limit)
  local d = 0
  for j, c in ipairs(cols) do
    local a, b = x[j], y[j]
    if a ~= b then d = d + c.weight * (c.ordinal and math.abs(a - b) or 1) end
    if d > limit then return d end
  end
  return d
end

-- The nearest recorded config; ties go to the lower index, so the answer does not depend on
-- the order of the file's rows.
local function nearest(cols, entries, cfg)
  local x, best, best_d = field_coords(cols, cfg), nil, math.huge
  for _, e in ipairs(entries) do
    e.fx = e.fx or field_coords(cols, e.cfg)
    local d = field_distance(cols, x, e.fx, best_d)
    if d < best_d - 1e-12 or (d <= best_d + 1e-12 and best and e.index < best.index) then best, best_d = e, d end
  end
  return best, best_d
end

-- The lookup used as the synthetic backend's landscape: the config's own row, else (by_key) a
-- recorded config of the same experiment, else with allow_nearest the nearest recorded config.
local function lookup_fn(problem, by_hash, entries, allow_nearest, by_key)
  local space = problem.space
  local cols = field_columns(space)
  return function(cfg)
    local row = by_hash[space:hash(cfg)]
    local note
    if not row and by_key then
      local k = problem_mod.experiment_key(problem, cfg)
      row = k and by_key[k]
      if row then note = string.format("same kernel and launch as recorded config %d", row.index) end
    end
    if not row and allow_nearest and #entries > 0 then
      local d
      row, d = nearest(cols, entries, cfg)
      note = string.format("nearest recorded config (index %d, distance %.3f fields)", row.index, d)
    end
    if not row then return nil, "miss", "config not in the replay table" end
    if row.reason then return nil, row.reason, note or ("recorded " .. row.reason) end
    return row.latency_us, nil, note
  end
end

-- The recorded device for prompts: header keys device, sm_count, smem_per_sm_bytes,
-- smem_per_block_bytes, l2_bytes, bandwidth_gbs, tensor_tflops, cc, clock_mhz (numbers where numeric).
local SPEC_KEYS = { "sm_count", "smem_per_sm_bytes", "smem_per_block_bytes", "l2_bytes", "bandwidth_gbs",
                    "tensor_tflops", "cc", "clock_mhz" }
function M.specs_of(meta)
  local s = { name = meta.device or "unknown (recorded)" }
  for _, k in ipairs(SPEC_KEYS) do
    if meta[k] and meta[k] ~= "" then s[k] = k ~= "cc" and tonumber(meta[k]) or meta[k] end
  end
  s.note = "figures recorded with this replay table; latencies are replayed, not measured now"
  return s
end

-- The rows a miss may resolve to. nearest=true: every row. nearest="sample": only the rows of
-- the table's random-sample phase, its first `sample_rows` distinct configs (the header says how
-- many; record --around rounds added rows near the fastest configs after them). Why: a sampled
-- table enriched near its optimum answers random configs too well. On the H200 matmul table 26
-- of 1,000 random configs resolve within 2% of its best through all rows, while 2 of its 3,684
-- sample rows are that fast; pattern at 100 evals gets within 2% in 30/30 seeds through all
-- rows, 5/30 through the sample rows, and live 5-s runs on the H200 in 1 of 10.
local function nearest_pool(entries, meta, mode, path)
  if mode ~= "sample" then return entries end
  if meta.sample_rows == nil then
    return nil, "replay: " .. path .. ": nearest='sample' needs a '# sample_rows N' header (this table has none)"
  end
  local n = math.tointeger(tonumber(meta.sample_rows))
  if not n or n < 1 then
    return nil, "replay: " .. path .. ": sample_rows must be a whole number >= 1, got '" .. tostring(meta.sample_rows) .. "'"
  end
  local pool = {}
  for i = 1, math.min(n, #entries) do pool[i] = entries[i] end
  return pool
end

-- A lookup memoised by config hash: a nearest-neighbour answer scans the whole table, and
-- harnesses ask for the same configs over many seeds (the answers are identical, only faster).
local function memoised(space, lookup)
  local memo = {}
  return function(cfg)
    local h = space:hash(cfg)
    local m = memo[h]
    if not m then m = table.pack(lookup(cfg)); memo[h] = m end
    return table.unpack(m, 1, m.n)
  end
end

-- open(problem, {path=, nearest=false|true|"sample", pool=true, memo=, latency_ms=, workers=, noise_pct=})
-- -> backend or nil, msg, code. memo=true memoises lookups by config hash (see memoised);
-- pool=false answers every config with its own readings only (see index_rows).
function M.open(problem, opts)
  opts = opts or {}
  local path = opts.path or M.default_path(problem)
  local data, err, code = M.read(path)
  if not data then return nil, err, code end
  local sig = M.space_signature(problem.space)
  local file_sig = (data.meta.space or ""):match("(%S+)$")
  if file_sig ~= sig then
    return nil, string.format("replay: %s was recorded for space '%s', not this problem's space (%s %s)",
      path, data.meta.space or "?", problem.space:name(), sig), "EMISMATCH"
  end
  local pool_rows = opts.pool ~= false
  local by_hash, entries, by_key, nexp = index_rows(problem, data, pool_rows)
  if not by_hash then return nil, "replay: " .. path .. ": " .. entries, "EFORMAT" end
  local best
  for _, e in ipairs(entries) do if e.latency_us and (not best or e.latency_us < best) then best = e.latency_us end end
  local pool, perr = nearest_pool(entries, data.meta, opts.nearest, path)
  if not pool then return nil, perr, "EINVAL" end
  local lookup = lookup_fn(problem, by_hash, pool, opts.nearest, pool_rows and by_key or nil)
  if opts.memo then lookup = memoised(problem.space, lookup) end
  -- A baseline recorded before the bench loop gated its rounds (htune 4d9ab19) was timed at the
  -- host's launch rate where a vendor call costs the host more than its kernel (cuBLAS 1024^3
  -- read 10.23 us ungated, 6.25 gated on the H200): such a table's baseline is kept as
  -- baseline_ungated_us and gives no "% of" figure. record marks its tables baseline_timing gated.
  local bl_us = tonumber(data.meta.baseline_us)
  local ungated
  if bl_us and data.meta.baseline_timing ~= "gated" then bl_us, ungated = nil, bl_us end
  local be = synthetic.open(problem, {
    landscape = lookup, latency_ms = opts.latency_ms,
    workers = opts.workers, noise_pct = opts.noise_pct or 0, seed = opts.seed,
    baseline_us = bl_us or problem.baseline_us,
  })
  be.info.baseline_ungated_us = ungated
  be.info.backend, be.info.device, be.info.path = "replay", data.meta.device or "unknown (recorded)", path
  be.info.driver, be.info.commit, be.info.best_known_us, be.info.rows = data.meta.driver, data.meta.commit, best, #entries
  be.info.baseline_name = data.meta.baseline_name or problem.baseline_name
  be.info.experiments = nexp -- distinct experiments among the rows (= rows without pool)
  be.info.specs = M.specs_of(data.meta)
  return be
end

return M

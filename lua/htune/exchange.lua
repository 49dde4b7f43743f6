-- Moving results between databases and tools: export runs as JSON (the format documented in
-- docs/lua-api.md, read back by `htune import` and the replay backend) or CSV, and import an
-- htune export or a Kernel Tuner cache file (JSON cachefile, possibly cut short by a crash).
local cjson = require "cjson.safe"
local sys = require "htune.sys"

local M = {}
local RUN_FIELDS = { "uid", "run_key", "problem", "problem_key", "source_hash", "shape", "dtype", "device", "cc",
                     "driver", "htune_version", "strategy", "seed", "host", "started", "finished", "status" }
local STAT_FIELDS = { "median_us", "min_us", "mean_us", "stddev_us", "reps", "noise_pct" }

-- select_runs(st, sel) -> runs (newest first) | nil, msg. sel: id, "latest", "all", or a problem name.
function M.select_runs(st, sel)
  local f = {}
  if math.tointeger(tonumber(sel)) then f.id = math.tointeger(tonumber(sel))
  elseif sel == "latest" then f.limit = 1
  elseif sel ~= "all" then f.problem = sel end
  local runs, err = st:runs(f)
  if not runs then return nil, err end
  if #runs == 0 and sel ~= "all" then return nil, "no run matches '" .. tostring(sel) .. "'" end
  return runs
end

local function trial_json(row)
  local t = { seq = row.seq, hash = row.hash, ok = row.ok == 1, reason = row.reason, latency_us = row.latency_us,
              stats = {}, compile_ms = row.compile_ms, bench_ms = row.bench_ms, wall_ms = row.wall_ms,
              log = row.log, created = row.created }
  for _, k in ipairs(STAT_FIELDS) do t.stats[k] = row[k] end
  local body = cjson.encode(t)
  return '{"cfg":' .. row.cfg .. ',"facts":' .. (row.facts or "null") .. "," .. body:sub(2)
end

-- export_json(st, runs, out): one object {"format":"htune-export","version":1,"runs":[...]}.
function M.export_json(st, runs, out)
  out:write('{"format":"htune-export","version":1,"runs":[\n')
  for i, run in ipairs(runs) do
    local rows, err = st:trials(run.id)
    if not rows then return nil, err end
    local head = {}
    for _, k in ipairs(RUN_FIELDS) do head[k] = run[k] end
    head.id = run.id
    out:write(i > 1 and ",\n" or "", cjson.encode(head):sub(1, -2), ',"trials":[\n')
    for j, row in ipairs(rows) do out:write(j > 1 and ",\n" or "", trial_json(row)) end
    out:write("]}")
  end
  out:write("\n]}\n")
  return true
end

-- A number as the shortest text that reads back equal (64.0 from JSON prints 64); nil and JSON
-- null as an empty cell; a cell with a comma, quote, CR or LF quoted, its quotes doubled.
function M.csv_cell(v)
  if v == nil or v == cjson.null then return "" end
  if math.type(v) == "float" then
    local i = math.tointeger(v)
    if i and math.abs(v) < 2 ^ 53 then v = i
    else
      local s = string.format("%.15g", v)
      v = tonumber(s) == v and s or string.format("%.17g", v)
    end
  end
  v = tostring(v)
  if v:find('[,"\n\r]') then return '"' .. v:gsub('"', '""') .. '"' end
  return v
end

local RUN_COLS = { run = "id", problem = "problem", shape = "shape", dtype = "dtype", device = "device", strategy = "strategy" }
local CSV_COLS = { "run", "problem", "shape", "dtype", "device", "strategy", "seq", "hash", "ok", "reason",
                   "latency_us", "median_us", "min_us", "mean_us", "stddev_us", "reps", "noise_pct",
                   "compile_ms", "bench_ms", "wall_ms", "cfg" }

-- Every trial of runs with its decoded config, and the sorted union of the configs' scalar
-- field names (the cfg.* columns: fixed for the whole file, whatever one trial lacks).
local function gather(st, runs)
  local all, params, seen = {}, {}, {}
  for _, run in ipairs(runs) do
    local rows, err = st:trials(run.id)
    if not rows then return nil, err end
    for _, row in ipairs(rows) do
      local cfg = cjson.decode(row.cfg)
      row.cfg_t = type(cfg) == "table" and cfg or {}
      for k, v in pairs(row.cfg_t) do
        if type(v) ~= "table" and not seen[k] then seen[k] = true params[#params + 1] = tostring(k) end
      end
      row.run_row = run
      all[#all + 1] = row
    end
  end
  table.sort(params)
  return all, params
end

-- One trial's cells by column position: a missing value is an empty cell, never a shift.
local function csv_row(row, params)
  local cells, n = {}, #CSV_COLS
  for i, c in ipairs(CSV_COLS) do
    if RUN_COLS[c] then cells[i] = M.csv_cell(row.run_row[RUN_COLS[c]])
    elseif c == "ok" then cells[i] = row.ok == 1 and "true" or "false"
    else cells[i] = M.csv_cell(row[c]) end
  end
  for j, p in ipairs(params) do
    local v = row.cfg_t[p]
    cells[n + j] = type(v) == "table" and "" or M.csv_cell(v)
  end
  return table.concat(cells, ",")
end

-- export_csv(st, runs, out): one row per trial; scalar config fields also get their own columns
-- (cfg.<name>, sorted by name, the union over all trials).
function M.export_csv(st, runs, out)
  local all, params = gather(st, runs)
  if not all then return nil, params end
  local header = {}
  for i, c in ipairs(CSV_COLS) do header[i] = c end
  for _, p in ipairs(params) do header[#header + 1] = M.csv_cell("cfg." .. p) end
  out:write(table.concat(header, ","), "\n")
  for _, row in ipairs(all) do out:write(csv_row(row, params), "\n") end
  return true
end

-- Imported values of the wrong type are dropped (the file is another tool's, or damaged).
local function num(v) return type(v) == "number" and v == v and v > -math.huge and v < math.huge and v or nil end
local function str(v) return type(v) == "string" and v or nil end

local function trial_row(run_id, t)
  if type(t) ~= "table" then return nil, "a trial that is not an object" end
  local s = type(t.stats) == "table" and t.stats or {}
  local cfg = type(t.cfg) == "table" and cjson.encode(t.cfg) or t.cfg
  if type(cfg) ~= "string" then return nil, "trial without a cfg" end
  local row = { run_id = run_id, seq = math.tointeger(num(t.seq)) or 0, cfg = cfg, hash = str(t.hash) or sys.hash(cfg),
                ok = t.ok == true, reason = str(t.reason), latency_us = num(t.latency_us), compile_ms = num(t.compile_ms),
                bench_ms = num(t.bench_ms), wall_ms = num(t.wall_ms), log = str(t.log), created = num(t.created),
                facts = type(t.facts) == "table" and cjson.encode(t.facts) or nil }
  for _, k in ipairs(STAT_FIELDS) do row[k] = num(s[k]) end
  row.reps = math.tointeger(row.reps)
  return row
end

-- Adds runs {run fields..., trials={...}}; counts new runs, merged runs and trials.
local function add_runs(st, runs)
  local n = { runs = 0, merged = 0, trials = 0 }
  if type(runs) ~= "table" then return nil, "\"runs\" is not a list" end
  for r, run in ipairs(runs) do
    if type(run) ~= "table" then return nil, string.format("run %d is not an object but a %s", r, type(run)) end
    local head = {}
    for _, k in ipairs(RUN_FIELDS) do head[k] = str(run[k]) end -- the store's run fields are text
    head.seed = math.tointeger(num(run.seed))
    head.started, head.finished = num(run.started), num(run.finished)
    if not head.uid or not head.run_key then return nil, string.format("run %d has no \"uid\" and \"run_key\"", r) end
    if type(run.trials) ~= "table" and run.trials ~= nil then
      return nil, string.format("run %s: \"trials\" is not a list but a %s", head.uid, type(run.trials))
    end
    head.status = head.status == "running" and "imported" or head.status
    local id, existed = st:add_run(head)
    if not id then return nil, existed end
    if existed then n.merged = n.merged + 1 else n.runs = n.runs + 1 end
    for i, t in ipairs(run.trials or {}) do
      local row, why = trial_row(id, t)
      if not row then return nil, string.format("run %s, trial %d: %s", head.uid, i, why) end
      local ok, err = st:add_trial(row)
      if not ok then return nil, err end
      n.trials = n.trials + 1
    end
  end
  local ok, err = st:flush()
  if not ok then return nil, err end
  return n
end

local KT_REASONS = { InvalidConfig = "invalid", CompilationFailedConfig = "compile", RuntimeFailedConfig = "fault" }

local function kt_stats(times)
  if type(times) ~= "table" or #times == 0 then return {} end
  local us, sum = {}, 0
  for i, t in ipairs(times) do
    if not num(t) then return {} end
    us[i] = t * 1000
    sum = sum + us[i]
  end
  table.sort(us)
  local mean, var = sum / #us, 0
  for _, v in ipairs(us) do var = var + (v - mean) ^ 2 end
  local mid = #us // 2
  local median = #us % 2 == 1 and us[mid + 1] or (us[mid] + us[mid + 1]) / 2
  local sd = #us > 1 and math.sqrt(var / (#us - 1)) or 0
  return { median_us = median, min_us = us[1], mean_us = mean, stddev_us = sd, reps = #us,
           noise_pct = mean > 0 and 100 * sd / mean or nil }
end

-- One Kernel Tuner cache entry -> a trial (times in ms become us; failure strings become reasons).
local function kt_trial(keys, entry, seq)
  if type(entry) ~= "table" then entry = {} end
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = cjson.encode(k) .. ":" .. (cjson.encode(entry[k]) or "null") end
  local cfg = "{" .. table.concat(parts, ",") .. "}"
  local ok = num(entry.time) ~= nil
  return { seq = seq, cfg = cfg, hash = sys.hash(cfg), ok = ok,
           reason = not ok and (KT_REASONS[str(entry.time) or ""] or "invalid") or nil,
           latency_us = ok and entry.time * 1000 or nil, stats = ok and kt_stats(entry.times) or {},
           compile_ms = tonumber(entry.compile_time), bench_ms = tonumber(entry.benchmark_time) }
end

local function kt_runs(doc)
  local keys = doc.tune_params_keys
  for i, k in ipairs(keys) do
    if type(k) ~= "string" then return nil, "tune_params_keys[" .. i .. "] is not a name" end
  end
  local ps = doc.problem_size
  local dims = {}
  for i, d in ipairs(type(ps) == "table" and ps or { ps or "default" }) do
    dims[i] = type(d) == "table" and "?" or tostring(math.tointeger(d) or d)
  end
  local shape = table.concat(dims, "x")
  local uid = sys.hash(table.concat({ "kerneltuner", tostring(doc.device_name), tostring(doc.kernel_name),
                                      shape, table.concat(keys, ",") }, "\0"))
  local names = {}
  for k in pairs(doc.cache) do names[#names + 1] = k end
  table.sort(names)
  local trials = {}
  for i, k in ipairs(names) do trials[i] = kt_trial(keys, doc.cache[k], i) end
  return { { uid = uid, run_key = uid, problem = str(doc.kernel_name), problem_key = tostring(doc.kernel_name) .. "/" .. shape,
             shape = shape, dtype = "unknown", device = str(doc.device_name), strategy = "kerneltuner",
             status = "imported", trials = trials } }
end

-- Parses text as JSON, also a Kernel Tuner cache cut off before its closing "}}".
local function decode(text)
  local doc = cjson.decode(text)
  if doc then return doc end
  local trimmed = text:gsub("[%s,]+$", "")
  return cjson.decode(trimmed .. "}}") or cjson.decode(trimmed .. "}")
end

-- import(st, text) -> {runs=, merged=, trials=, kind=} | nil, msg
function M.import(st, text)
  local doc = decode(text)
  if type(doc) ~= "table" then return nil, "not an htune export or Kernel Tuner cache (not JSON)" end
  if doc.format == "htune-export" then
    if doc.version ~= 1 then return nil, "htune export version " .. tostring(doc.version) .. " (this htune reads 1)" end
    local n, err = add_runs(st, doc.runs or {})
    if n then n.kind = "htune export" end
    return n, err
  end
  if type(doc.cache) == "table" and type(doc.tune_params_keys) == "table" then
    local runs, why = kt_runs(doc)
    if not runs then return nil, "Kernel Tuner cache: " .. why end
    local n, err = add_runs(st, runs)
    if n then n.kind = "Kernel Tuner cache" end
    return n, err
  end
  return nil, "not an htune export or Kernel Tuner cache (no \"format\":\"htune-export\" nor \"cache\"/\"tune_params_keys\")"
end

-- parse_args(args, flags) -> options, positionals | nil, msg. flags: {["--db"]=true (takes a
-- value), ["--json"]=false (a switch)}.
function M.parse_args(args, flags)
  local o, pos, i = {}, {}, 1
  while i <= #args do
    local a = args[i]
    local name, val = a:match("^(%-%-[%w%-]+)=(.*)$")
    name = name or a
    if flags[name] == nil and a:sub(1, 1) == "-" and #a > 1 then return nil, "unknown option '" .. a .. "'" end
    if flags[name] == true then
      if not val then i = i + 1 val = args[i] end
      if val == nil then return nil, "option " .. name .. " needs a value" end
      o[(name:gsub("^%-%-?", ""))] = val
    elseif flags[name] == false then o[(name:gsub("^%-%-?", ""))] = true
    else pos[#pos + 1] = a end
    i = i + 1
  end
  return o, pos
end

return M

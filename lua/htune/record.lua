-- The recorder the tuning driver calls: opens the store, finds or starts the run for a run key
-- (resuming an unfinished one), replays its trials, writes each new one, and answers
-- htune.best(problem) from every run of the (kernel source, shape, dtype, device) key.
local sys = require "htune.sys"
local cjson = require "cjson.safe"
local storemod = require "htune.store"

local M = {}
local LOG_KEEP = 4096

-- $HTUNE_DB, else $XDG_DATA_HOME/htune/htune.db, else ~/.local/share/htune/htune.db.
function M.default_path()
  local env = os.getenv("HTUNE_DB")
  if env and env ~= "" then return env end
  local data = os.getenv("XDG_DATA_HOME")
  if not data or data == "" then data = (os.getenv("HOME") or ".") .. "/.local/share" end
  return data .. "/htune/htune.db"
end

-- open_store(db) -> store, owned (true when this call opened it) | nil, msg, code.
-- db: a Store, a path, or true/nil for the default path.
function M.open_store(db, store_opts)
  if type(db) == "userdata" then return db, false end
  local path = type(db) == "string" and db or M.default_path()
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then sys.mkdirs(dir) end
  local st, err, code = storemod.open(path, store_opts)
  if not st then return nil, err, code end
  return st, true
end

local function device_of(opts)
  local d = type(opts.device) == "table" and opts.device or {}
  return { name = d.name or "cpu", cc = d.cc and tostring(d.cc) or "unknown", driver = d.driver and tostring(d.driver) or "unknown" }
end

-- The shape part of a key: problem.key_shape, else the middle of "name/shape/dtype", else
-- the shape table's fields sorted ("K=64,M=32").
function M.shape_of(problem)
  if problem.key_shape then return tostring(problem.key_shape) end
  local mid = type(problem.key) == "string" and problem.key:match("^[^/]+/(.+)/[^/]+$")
  if mid then return mid end
  local parts = {}
  for k, v in pairs(problem.shape or {}) do parts[#parts + 1] = k .. "=" .. tostring(v) end
  table.sort(parts)
  return #parts > 0 and table.concat(parts, ",") or nil
end

-- A signature of the space's parameters, so a changed space does not resume an old run.
local function space_sig(sp)
  if not (sp and sp.params) then return "" end
  local out = {}
  for _, p in ipairs(sp:params()) do out[#out + 1] = p.name .. ":" .. tostring(p.kind) .. ":" .. tostring(p.count) end
  return table.concat(out, ";")
end

function M.run_key(problem, strategy_name, seed, device)
  return sys.hash(table.concat({ problem.key or problem.name or "?", problem.source_hash or "",
    device.name, tostring(strategy_name), tostring(seed), space_sig(problem.space) }, "\0"))
end

local Recorder = {}
Recorder.__index = Recorder

local function num(v) return type(v) == "number" and v or nil end

local function log_excerpt(log)
  if type(log) ~= "string" or #log <= LOG_KEEP then return log end
  return log:sub(1, LOG_KEEP // 2) .. "\n[... " .. (#log - LOG_KEEP) .. " bytes cut ...]\n" .. log:sub(-LOG_KEEP // 2)
end

-- A stored trial row -> the Trial result shape of docs/lua-api.md.
function M.result_of(row, space)
  local cfg = space and space.from_json and space:from_json(row.cfg) or cjson.decode(row.cfg)
  return {
    id = row.seq, hash = row.hash, cfg = cfg, ok = row.ok == 1, reason = row.reason,
    latency_us = row.latency_us,
    stats = { median_us = row.median_us, min_us = row.min_us, mean_us = row.mean_us,
              stddev_us = row.stddev_us, reps = row.reps, noise_pct = row.noise_pct },
    compile_ms = row.compile_ms, bench_ms = row.bench_ms, wall_ms = row.wall_ms,
    facts = row.facts and cjson.decode(row.facts) or nil, log = row.log, resumed = true, cfg_json = row.cfg,
  }
end

-- A Trial result -> the fields of st:add_trial.
function M.row_of(result, space, run_id, seq)
  local cfg = result.cfg
  local json = type(cfg) == "string" and cfg or (space and space.to_json and space:to_json(cfg)) or cjson.encode(cfg)
  local s = type(result.stats) == "table" and result.stats or {}
  return {
    run_id = run_id, seq = seq, cfg = json,
    hash = result.hash or (space and space.hash and space:hash(cfg)) or sys.hash(json),
    ok = result.ok == true, reason = result.reason and tostring(result.reason) or nil,
    latency_us = num(result.latency_us), median_us = num(s.median_us), min_us = num(s.min_us),
    mean_us = num(s.mean_us), stddev_us = num(s.stddev_us), reps = math.type(s.reps) == "integer" and s.reps or nil,
    noise_pct = num(s.noise_pct), compile_ms = num(result.compile_ms), bench_ms = num(result.bench_ms),
    wall_ms = num(result.wall_ms), facts = type(result.facts) == "table" and cjson.encode(result.facts) or nil,
    log = log_excerpt(result.log),
  }
end

-- The run to continue: resume=false never; resume=true the newest run of the key; nil the
-- newest unfinished one. A run still being written by a live process here is never taken.
local function pick_run(st, key, resume, host)
  if resume == false then return nil end
  local runs, err, code = st:runs { run_key = key, limit = 20 }
  if not runs then return nil, err, code end
  for _, r in ipairs(runs) do
    local live = r.status == "running" and r.host == host and r.pid ~= sys.pid and storemod.pid_alive(r.pid or 0)
    if not live and (resume == true or r.status == "running") then return r end
  end
  return nil
end

local function new_run(st, key, problem, strategy_name, seed, dev, host)
  local started = storemod.now()
  local row = {
    uid = sys.hash(table.concat({ host, sys.pid, started, key, math.random() }, "\0")), run_key = key,
    problem = problem.name, problem_key = problem.key, source_hash = problem.source_hash,
    shape = M.shape_of(problem), dtype = problem.dtype, device = dev.name, cc = dev.cc, driver = dev.driver,
    htune_version = sys.version, strategy = tostring(strategy_name), seed = math.tointeger(seed) or 0,
    host = host, pid = sys.pid, started = started, status = "running",
  }
  local id, err, code = st:add_run(row)
  if not id then return nil, err, code end
  return id
end

-- open(opts, problem, strategy_name, seed) -> recorder | nil, msg, code
function M.open(opts, problem, strategy_name, seed)
  local st, owned_or_err, code = M.open_store(opts.db, opts.store_options)
  if not st then return nil, owned_or_err, code end
  local dev, host = device_of(opts), storemod.hostname()
  local key = M.run_key(problem, strategy_name, seed, dev)
  local run, err
  run, err, code = pick_run(st, key, opts.resume, host)
  if err then return nil, err, code end
  local self = setmetatable({ store = st, owned = owned_or_err, space = problem.space, key = key,
                              prev = {}, seq = 0 }, Recorder)
  if run then
    self.run_id = run.id
    local ok, e, c = st:set_run(run.id, "running", sys.pid, host)
    if not ok then return nil, e, c end
    local rows, e2, c2 = st:trials(run.id)
    if not rows then return nil, e2, c2 end
    for i, row in ipairs(rows) do
      self.prev[i] = M.result_of(row, self.space)
      self.seq = math.max(self.seq, row.seq or 0)
    end
    self.resumed = true
  else
    self.run_id, err, code = new_run(st, key, problem, strategy_name, seed, dev, host)
    if not self.run_id then return nil, err, code end
  end
  return self
end

function Recorder:previous() return self.prev end

-- trial(result) -> true | nil, msg, code (the trial joins the batch that commits within batch_ms)
function Recorder:trial(result)
  self.seq = self.seq + 1
  return self.store:add_trial(M.row_of(result, self.space, self.run_id, self.seq))
end

-- Trials durably committed by this recorder's connection.
function Recorder:committed() return self.store:committed() end

-- finish(summary) -> true | nil, msg, code; status from summary.stopped_because.
function Recorder:finish(summary)
  local why = type(summary) == "table" and summary.stopped_because or "done"
  local status = (why == "error" or why == "interrupted") and "stopped" or "done"
  local ok, err, code = self.store:set_run(self.run_id, status, sys.pid, storemod.hostname(), storemod.now())
  if self.owned then self.store:close() end
  return ok, err, code
end

-- best(problem, opts) -> {cfg=, latency_us=, stats=, hash=, run=, problem=, shape=, dtype=,
-- device=, source_hash=} | nil, reason. opts: db=, device= (any device when absent), n= (top n).
function M.best(problem, opts)
  opts = opts or {}
  local st, owned, code = M.open_store(opts.db, opts.store_options)
  if not st then return nil, owned, code end
  local dev = type(opts.device) == "table" and opts.device.name or opts.device
  local rows, err
  -- problem_key too: the same source and shape with other defines or kernels (matmul's loads)
  -- is another problem
  rows, err, code = st:best { problem = problem.name, source_hash = problem.source_hash, problem_key = problem.key,
    shape = problem.shape_text or M.shape_of(problem), dtype = problem.dtype, device = dev, limit = opts.n or 1 }
  if owned then st:close() end
  if not rows then return nil, err, code end
  if #rows == 0 then
    return nil, string.format("no measured config for %s shape %s dtype %s%s%s", tostring(problem.name),
      tostring(problem.shape_text or M.shape_of(problem)), tostring(problem.dtype),
      dev and (" on " .. dev) or "", problem.source_hash and (" with kernel source " .. problem.source_hash) or "")
  end
  local out = {}
  for i, row in ipairs(rows) do
    local r = M.result_of(row, problem.space)
    r.run, r.problem, r.shape, r.dtype, r.device, r.source_hash = row.run_id, row.problem, row.shape, row.dtype, row.device, row.source_hash
    r.cc, r.strategy, r.resumed = row.cc, row.strategy, nil
    out[i] = r
  end
  if opts.n then return out end
  return out[1]
end

return M

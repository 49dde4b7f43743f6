-- htune.tune: the tuning driver. Asks a strategy for configs, drops duplicates (by hash) and
-- invalid ones, keeps the backend's queue full while the strategy thinks, feeds results back,
-- enforces the budget, re-benchmarks the top-k and returns the best with a trace.
-- Every strategy call runs under an instruction budget and a wall-clock check. One event loop
-- waits on the backend and on the strategy's LLM requests (its optional waits/poll).
local sys = require "htune.sys"

local M = {}

M.defaults = {
  strategy_instructions = 200000000, -- VM instructions per strategy call (~1 s of Lua)
  strategy_call_ms = 10000,          -- wall time per strategy call (catches slow C calls)
  max_empty_rounds = 100,            -- rounds with nothing new and nothing pending
  rebench_k = 3,
  poll_ms = 50,
  llm_slice_ms = 5,                  -- backend wait slices while LLM requests are in flight
  max_wait_ms = 300000,              -- idle backend, strategy waiting on its requests: give up after
}

-- Run-wide values `htune run` flags put in htune.defaults (seed, quiet, db, resume, budget):
-- used where a call gives none; budget fields are filled one by one.
local function apply_defaults(opts)
  local h = package.loaded["htune"]
  local d = type(h) == "table" and rawget(h, "defaults")
  if type(d) ~= "table" or next(d) == nil then return opts end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  for k, v in pairs(d) do
    if k == "budget" and type(v) == "table" then
      local b = {}
      for bk, bv in pairs(v) do b[bk] = bv end
      for bk, bv in pairs(opts.budget or {}) do b[bk] = bv end
      o.budget = b
    elseif o[k] == nil then o[k] = v end
  end
  return o
end

-- Trials kept in flight: what the backend says it can use at once (info.queue; live: its compile
-- lookahead plus the GPU's two), else twice its workers, at least 8. A queue of 8 on the 16-CPU
-- H200 host kept half its compile threads idle: a 5-s pattern run measured 58 configs.
local function queue_depth(info)
  info = info or {}
  return math.max(8, info.queue or 2 * (info.workers or 1))
end

local function opt(opts, k) if opts[k] ~= nil then return opts[k] end return M.defaults[k] end

-- A strategy given by name, path or table; raises on misuse.
local function load_strategy(s)
  if type(s) == "string" then
    if s:match("%.lua$") then
      s = dofile(s)
    else
      local ok, mod = pcall(require, "htune.strategies." .. s)
      if not ok then error("tune: unknown strategy '" .. s .. "': " .. tostring(mod), 3) end
      s = mod
    end
  end
  if type(s) ~= "table" then error("tune: 'strategy' must be a name, a .lua path or a table, got " .. type(s), 3) end
  for _, f in ipairs { "propose", "observe" } do
    if type(s[f]) ~= "function" then
      error("tune: strategy '" .. tostring(s.name or "?") .. "' has no function '" .. f .. "'", 3)
    end
  end
  return s
end

local function load_problem(p, opts)
  if type(p) == "string" then p = require("htune").problem(p, opts.shape) end
  if type(p) ~= "table" or p.space == nil then
    error("tune: 'problem' must be a problem table with a space, got " .. type(p), 3)
  end
  return p
end

-- The backend object and whether we opened it (then we close it).
local function open_backend(b, problem, opts)
  if type(b) == "table" and b.submit then return b, false end
  local name = b or "live"
  if type(name) ~= "string" then error("tune: 'backend' must be a name or a backend object, got " .. type(name), 3) end
  local ok, mod = pcall(require, "htune.backends." .. name)
  if not ok then return nil, "tune: backend '" .. name .. "' is not available: " .. tostring(mod), "ENOBACKEND" end
  local be, err, code = mod.open(problem, opts.backend_options or {})
  if not be then return nil, err, code end
  return be, true
end

-- Calls strategy[fname](...) under the budget; returns ok, results... or false, message.
local function call_strategy(run, fname, ...)
  local fn = run.strategy[fname]
  if not fn then return true end
  local t0 = sys.now_ms()
  local res = table.pack(pcall(sys.with_budget, run.instructions, "strategy " .. run.name, fn, ...))
  local dt = sys.now_ms() - t0
  run.time.strategy_ms = run.time.strategy_ms + dt
  if not res[1] then
    local msg = tostring(res[2])
    if not msg:find("exceeded its budget", 1, true) then msg = "strategy " .. run.name .. ": " .. fname .. " failed: " .. msg
    else msg = msg .. " of " .. run.instructions .. " instructions in " .. fname end
    return false, msg
  end
  if dt > run.call_ms then
    return false, string.format("strategy %s took %.0f ms in %s (limit %d ms)", run.name, dt, fname, run.call_ms)
  end
  return true, table.unpack(res, 2, res.n)
end

-- The device's specs for prompts (state.device): the backend's info.specs, else its name.
local function device_specs(info)
  if type(info) ~= "table" then return nil end
  if type(info.specs) == "table" then return info.specs end
  if info.device then return { name = tostring(info.device) } end
  return nil
end

local function new_state(problem, opts, seed)
  return {
    space = problem.space, rng = require("htune.rng")(seed), problem = problem, history = {},
    best = nil, evals = 0, options = opts.strategy_options or {}, budget = opts.budget or {},
    seen = {}, -- hash -> true while in flight, the result once measured
  }
end

local function shallow(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function is_better(a, b)
  return a.ok and a.latency_us and (not b or not b.latency_us or a.latency_us < b.latency_us)
end

-- Records a finished result in state, trace, recorder.
local function absorb(run, r, measured_now)
  local st = run.state
  st.seen[r.hash] = r
  st.history[#st.history + 1] = r
  st.evals = st.evals + 1
  if is_better(r, st.best) then st.best = r end
  if measured_now then
    r.wall_ms = sys.now_ms() - run.t0
    run.trace[#run.trace + 1] = r
    if run.rec then run.rec:trial(r) end
  end
end

-- Filters a proposal: returns accepted trials, cached results, or nil + message.
local function filter(run, cfgs, limit)
  if type(cfgs) ~= "table" then
    return nil, "strategy " .. run.name .. ": propose returned " .. type(cfgs) .. " (" .. tostring(cfgs):sub(1, 60)
      .. "), expected an array of configs"
  end
  local sp, st = run.state.space, run.state
  local accepted, cached, batch = {}, {}, {}
  for i, cfg in ipairs(cfgs) do
    local ok, why = sp:validate(cfg)
    if not ok then
      return nil, string.format("strategy %s proposed an invalid config (#%d of %d): %s", run.name, i, #cfgs, why)
    end
    local h = sp:hash(cfg)
    local known = st.seen[h]
    if type(known) == "table" then
      local c = shallow(known)
      c.cached = true
      cached[#cached + 1] = c
    elseif not known and not batch[h] and #accepted < limit then
      batch[h] = true
      accepted[#accepted + 1] = { id = run.next_id + #accepted, cfg = cfg, hash = h }
    end
  end
  run.next_id = run.next_id + #accepted
  return accepted, cached
end

local function submit(run, trials)
  if #trials == 0 then return end
  local t0 = sys.now_ms()
  for _, t in ipairs(trials) do
    run.state.seen[t.hash] = true
    run.inflight[t.id] = t
  end
  run.backend:submit(trials)
  run.time.backend_submit_ms = run.time.backend_submit_ms + sys.now_ms() - t0
end

-- Why the run should stop now, or nil.
local function stop_reason(run)
  local b, st, pending = run.budget, run.state, run.backend:pending()
  if b.target_us and st.best and st.best.latency_us <= b.target_us then return "target" end
  if b.seconds and (sys.now_ms() - run.t0) / 1000 >= b.seconds then return "seconds" end
  if b.evals and st.evals >= b.evals and pending == 0 then return "evals" end
  if run.strategy_done and pending == 0 then return "strategy done" end
  return nil
end

-- The strategy's LLM requests in flight (its optional waits(state) -> handles [, wake_in_ms]):
-- sets run.waits (nil when none) and run.wake_ms; returns an error message or nil.
local function refresh_waits(run)
  run.waits, run.wake_ms = nil, nil
  if not run.strategy.waits then return nil end
  local ok, hs, wake = call_strategy(run, "waits", run.state)
  if not ok then return hs end
  if hs ~= nil and type(hs) ~= "table" then
    return "strategy " .. run.name .. ": waits returned " .. type(hs) .. ", expected an array of LLM requests"
  end
  if hs and #hs > 0 then run.waits = hs end
  if type(wake) == "number" and wake > 0 then run.wake_ms = wake end
  return nil
end

-- Hands finished LLM replies to the strategy at once (its optional poll(state) -> configs now
-- ready). Returns an error message or nil, and the number ready.
local function strategy_poll(run)
  if not run.strategy.poll then return nil, 0 end
  local ok, ready = call_strategy(run, "poll", run.state)
  if not ok then return ready end
  local err = refresh_waits(run)
  if err then return err end
  return nil, math.type(ready) and ready or 0
end

-- One round: ask for configs if there is room, then collect results. Returns nil or an error.
local function propose_round(run)
  local st, pending = run.state, run.backend:pending()
  local room = run.queue - pending
  local left = (run.budget.evals or math.huge) - st.evals - pending
  local n = math.min(room, left)
  if n <= 0 or run.strategy_done then return refresh_waits(run), 0 end
  local ok, cfgs = call_strategy(run, "propose", st, n)
  if not ok then return cfgs end
  local accepted, cached = filter(run, cfgs or {}, n)
  if not accepted then return cached end
  submit(run, accepted)
  run.cached = cached
  local werr = refresh_waits(run)
  if werr then return werr end
  if #accepted > 0 then
    run.empty_rounds, run.idle_since = 0, nil
  elseif pending == 0 and (run.waits or run.wake_ms) then
    -- Nothing to measure while the strategy waits on its LLM requests: a bounded wait, not a spin.
    run.idle_since = run.idle_since or sys.now_ms()
    if sys.now_ms() - run.idle_since > run.max_wait_ms then
      return string.format("strategy %s proposed nothing for %.1f s while waiting on %d LLM request(s)",
        run.name, (sys.now_ms() - run.idle_since) / 1000, run.waits and #run.waits or 0)
    end
  elseif pending == 0 then
    run.empty_rounds = run.empty_rounds + 1
    if run.empty_rounds >= run.max_empty then
      return string.format("strategy %s proposed no new configs in %d rounds", run.name, run.empty_rounds)
    end
  end
  return nil, #accepted
end

local function budget_left_ms(run, t)
  if not run.budget.seconds then return t end
  return math.max(0, math.min(t, run.budget.seconds * 1000 - (sys.now_ms() - run.t0)))
end

local function poll_timeout(run, submitted)
  if run.backend:pending() == 0 then return 0 end
  local room = run.queue - run.backend:pending()
  if submitted > 0 and room > 0 then return 0 end
  return budget_left_ms(run, run.poll_ms)
end

local function backend_poll(run, ms)
  local t0 = sys.now_ms()
  local results = run.backend:poll(math.floor(ms))
  run.time.backend_wait_ms = run.time.backend_wait_ms + sys.now_ms() - t0
  return results
end

-- Whether one of the strategy's requests finished within ms (0: a non-blocking poll through
-- h:ready(), which drives the transfers; wait_any with a zero timeout returns before polling),
-- or nil + a message naming the strategy when waits() gave something that is not a request.
local function waited_any(run, ms)
  local ok, got = pcall(function()
    if ms >= 1 then return require("htune.llm").wait_any(run.waits, math.floor(ms)) ~= nil end
    local any = false
    for _, h in ipairs(run.waits) do any = h:ready() or any end
    return any
  end)
  if not ok then
    run.waits = nil
    return nil, "strategy " .. run.name .. ": waits returned a bad request list: " .. tostring(got)
  end
  return got
end

-- Waits up to timeout_ms for backend results. With LLM requests in flight the wait is cut into
-- llm_slice_ms slices; a reply that arrives meanwhile goes to the strategy's poll at once, and
-- the wait ends early when it made configs ready and the queue has room for them.
local function wait_backend(run, timeout_ms)
  if not run.waits or timeout_ms <= 0 then return backend_poll(run, timeout_ms) end
  local deadline = sys.now_ms() + timeout_ms
  while true do
    local left = deadline - sys.now_ms()
    local results = backend_poll(run, math.max(0, math.min(run.slice_ms, left)))
    if #results > 0 or left <= 0 then return results end
    local got, werr = false, nil
    if run.waits then got, werr = waited_any(run, 0) end
    if werr then return nil, werr end
    if got then
      local err, ready = strategy_poll(run)
      if err then return nil, err end
      if ready > 0 and run.backend:pending() < run.queue then return results end
    end
    if not run.waits then return backend_poll(run, math.max(0, deadline - sys.now_ms())) end
  end
end

-- The backend is idle and the strategy has nothing to measure: wait for whichever of its LLM
-- requests finishes first (or its wake time), within the seconds budget.
local function wait_strategy(run)
  local cap = budget_left_ms(run, math.min(1000, run.wake_ms or 1000))
  local got = false
  if run.waits then
    local t0 = sys.now_ms()
    local werr
    got, werr = waited_any(run, cap)
    run.time.llm_wait_ms = run.time.llm_wait_ms + sys.now_ms() - t0
    if werr then return werr end
  else
    sys.sleep_ms(cap)
  end
  local err, ready = strategy_poll(run)
  if err then return err end
  -- A reply that yields nothing counts as an empty round, so finished requests never spin.
  if got and ready == 0 then
    run.empty_rounds = run.empty_rounds + 1
    if run.empty_rounds >= run.max_empty then
      return string.format("strategy %s: %d LLM replies in a row gave no config to measure", run.name, run.empty_rounds)
    end
  end
  return nil
end

-- Collects finished results and feeds them (plus cached duplicates) to the strategy.
local function collect(run, timeout_ms)
  local results, werr = wait_backend(run, timeout_ms)
  if not results then return werr end
  local feed = run.cached or {}
  run.cached = nil
  for _, r in ipairs(results) do
    local t = run.inflight[r.id]
    run.inflight[r.id] = nil
    r.cfg = r.cfg or (t and t.cfg)
    r.hash = r.hash or (t and t.hash)
    absorb(run, r, true)
    feed[#feed + 1] = r
  end
  if #feed == 0 then return nil end
  local ok, err = call_strategy(run, "observe", run.state, feed)
  if not ok then return err end
  if run.strategy.done then
    local ok2, d = call_strategy(run, "done", run.state)
    if not ok2 then return d end
    run.strategy_done = d and true or false
  end
  if #results > 0 then run.progress:update(run) end
  return nil
end

-- Careful re-measurement of the k best distinct configs; returns the new best.
local function rebench_top(run, k)
  local ranked = require("htune.strategies.util").ranked(run.state.history)
  if k <= 0 or #ranked == 0 or not run.backend.rebench then return run.state.best end
  local cfgs, top = {}, {}
  for i = 1, math.min(k, #ranked) do cfgs[i] = ranked[i].cfg; top[i] = ranked[i] end
  local t0 = sys.now_ms()
  local ok, rb = pcall(run.backend.rebench, run.backend, cfgs)
  run.time.rebench_ms = sys.now_ms() - t0
  if not ok or type(rb) ~= "table" then
    run.message = (run.message and run.message .. "; " or "") .. "rebench failed: " .. tostring(rb)
    return run.state.best
  end
  local best
  for i, r in ipairs(rb) do
    if r.ok and r.latency_us and (not best or r.latency_us < best.latency_us) then
      best = shallow(top[i])
      best.screen_us, best.latency_us, best.stats, best.rebench = top[i].latency_us, r.latency_us, r.stats, r
    end
  end
  return best or run.state.best
end

-- A borrowed backend is handed back with nothing in flight (bounded wait), so a later run
-- on it does not receive this run's results.
local function drain(run)
  local t0 = sys.now_ms()
  while run.backend:pending() > 0 and sys.now_ms() - t0 < 5000 do
    for _, r in ipairs(run.backend:poll(run.poll_ms)) do
      local t = run.inflight[r.id]
      run.inflight[r.id] = nil
      if t then
        r.cfg, r.hash = r.cfg or t.cfg, r.hash or t.hash
        absorb(run, r, true)
      end
    end
  end
end

local function open_recorder(run, opts, seed)
  if not (opts.db or opts.resume) then return true end
  local ok, record = pcall(require, "htune.record")
  if not ok then
    return nil, "tune: db/resume need the store hooks (htune.record), which are not available: " .. tostring(record), "ENOSTORE"
  end
  local ropts = shallow(opts)
  local info = run.backend.info or {}
  if ropts.device == nil then
    local di = type(info.device_info) == "table" and info.device_info or {}
    ropts.device = { name = info.device, cc = di.cc or info.cc, driver = info.driver or di.driver_version }
  end
  local rec, err, code = record.open(ropts, run.state.problem, run.name, seed)
  if not rec then return nil, err, code end
  run.rec = rec
  for _, r in ipairs(rec:previous() or {}) do absorb(run, r, false) end
  return true
end

local function summary(run, reason)
  local wall_ms = sys.now_ms() - run.t0
  local t = run.time
  t.driver_ms = math.max(0, wall_ms - t.strategy_ms - t.backend_wait_ms - t.backend_submit_ms - t.llm_wait_ms
    - (t.rebench_ms or 0))
  t.overhead_pct = wall_ms > 0 and 100 * (t.strategy_ms + t.driver_ms) / wall_ms or 0
  local twins = 0 -- evals the backend answered from a measured config of the same experiment
  for _, r in ipairs(run.trace) do if r.twin_of ~= nil then twins = twins + 1 end end
  return {
    best = run.best or run.state.best, trace = run.trace, evals = run.state.evals, wall_s = wall_ms / 1000, twins = twins,
    stopped_because = reason, message = run.message, strategy = run.name, cancelled = run.cancelled or 0,
    backend = run.backend.info, time = t, history = run.state.history,
    report = run.strategy.report and run.strategy.report(run.state) or nil,
  }
end

local function loop(run)
  while true do
    local reason = stop_reason(run)
    if reason then return reason end
    local err, submitted = propose_round(run)
    if err then run.message = err return "error" end
    if run.backend:pending() == 0 and (submitted or 0) == 0 and (run.waits or run.wake_ms) then
      err = wait_strategy(run) or collect(run, 0)
    else
      err = collect(run, poll_timeout(run, submitted or 0))
    end
    if err then run.message = err return "error" end
  end
end

-- htune.tune{problem=, strategy=, budget={evals=, seconds=, target_us=}, seed=, backend=,
--   backend_options=, strategy_options=, quiet=, db=, resume=, queue=, rebench_k=}
function M.tune(opts)
  if type(opts) ~= "table" then error("tune: expected an options table, got " .. type(opts), 2) end
  opts = apply_defaults(opts)
  local problem = load_problem(opts.problem, opts)
  local strategy = load_strategy(opts.strategy or "pattern")
  local budget = opts.budget or { evals = 100 }
  local seed = opts.seed or 1
  local backend, err, code = open_backend(opts.backend, problem, opts)
  if not backend then return nil, err, code end
  local run = {
    strategy = strategy, name = tostring(strategy.name or "custom"), budget = budget, backend = backend,
    state = new_state(problem, opts, seed), trace = {}, inflight = {}, next_id = 1, t0 = sys.now_ms(),
    time = { strategy_ms = 0, backend_wait_ms = 0, backend_submit_ms = 0, llm_wait_ms = 0 }, empty_rounds = 0,
    instructions = opt(opts, "strategy_instructions"), call_ms = opt(opts, "strategy_call_ms"),
    max_empty = opt(opts, "max_empty_rounds"), poll_ms = opt(opts, "poll_ms"),
    slice_ms = opt(opts, "llm_slice_ms"), max_wait_ms = opt(opts, "max_wait_ms"),
    queue = opts.queue or queue_depth(backend.info),
  }
  run.state.budget = budget
  run.state.device = device_specs(backend.info)
  local ok, rerr, rcode = open_recorder(run, opts, seed)
  if not ok then
    if opts.backend ~= backend then backend:close() end
    return nil, rerr, rcode
  end
  run.progress = require("htune.progress").new { quiet = opts.quiet, total = budget.evals, strategy = run.name,
    baseline_us = backend.info and backend.info.baseline_us, baseline_name = backend.info and backend.info.baseline_name }
  local reason = "error"
  local iok, ierr = call_strategy(run, "init", run.state)
  if not iok then run.message = ierr
  else
    if #run.state.history > 0 then
      local fok, ferr = call_strategy(run, "observe", run.state, run.state.history)
      if not fok then run.message = ferr end
    end
    if not run.message then reason = loop(run) end
  end
  -- A budget that ran out (or a target met, or an error) ends the run now: trials still waiting
  -- to compile or to run are dropped instead of stretching the wall time past the budget.
  if reason ~= "evals" and reason ~= "strategy done" and backend.cancel then run.cancelled = backend:cancel() end
  if opts.backend == backend then drain(run) end
  run.best = rebench_top(run, opt(opts, "rebench_k"))
  local res = summary(run, reason)
  run.progress:finish(res)
  if run.rec then run.rec:finish(res) end
  if opts.backend ~= backend then backend:close() end
  return res
end

return M

-- The live backend: compiles configs on the NVRTC pool (htune.nvrtc.submit) while the GPU
-- worker (htune.bench) checks and times earlier ones, so compile and measurement overlap.
-- Results stream back through poll(). Interface: docs/lua-api.md "Backends".
local sys = require "htune.sys"
local job_key = require("htune.problem").job_key
local experiment_key = require("htune.problem").experiment_key

local M = {}
local B = {}
B.__index = B

local DEFAULTS = { time_cap_ms = 200, target_rse = 0.01, watchdog_floor_ms = 2000, watchdog_mult = 10,
                   cutoff = true, cutoff_margin = 0.10, twins = true }

-- Plain-data buffer specs and the output index (1-based) from the problem's buffers.
local function buffer_specs(problem)
  local specs, index, output = {}, {}, nil
  for i, b in ipairs(problem.buffers) do
    specs[i] = { dtype = b.dtype, count = b.count, init = b.init or (b.output and "zero") or "zero",
                 seed = b.seed, value = b.value }
    index[b.name] = i
    if b.output then output = i end
  end
  if not output then error("htune live backend: problem " .. problem.name .. " marks no buffer output=true", 3) end
  return specs, index, output
end

-- Problem args ("A", {i32=M}, {tmap="A", rows=, ...}, ...) to worker args ({buf=1}, {i32=M},
-- {tmap=1, rows=, ...}, ...); htune.bench checks a tensor map's fields against the buffers.
local function worker_args(list, index)
  local out = {}
  for i, a in ipairs(list) do
    if type(a) == "string" then
      if not index[a] then error(string.format("args[%d]: no buffer named '%s'", i, a), 3) end
      out[i] = { buf = index[a] }
    elseif type(a) == "table" and a.tmap ~= nil then
      if not index[a.tmap] then error(string.format("args[%d].tmap: no buffer named '%s'", i, tostring(a.tmap)), 3) end
      out[i] = { tmap = index[a.tmap], rows = a.rows, cols = a.cols, box_rows = a.box_rows, box_cols = a.box_cols,
                 swizzle = a.swizzle }
    else
      out[i] = a
    end
  end
  return out
end
M._worker_args = worker_args   -- for tests

local function job_for(problem, name_expr, ce, arch)
  return { source = problem.source, name = problem.name .. ".cu", name_exprs = { name_expr },
           options = ce.options, defines = ce.defines, include_dirs = { problem.dir }, arch = arch }
end

-- Starts the worker while the reference compiles (both take a while: a process with its CUDA
-- context, an NVRTC program), then sets the problem up. Each phase's wall ms goes to phases.
local function open_worker(self, problem, opts, phases)
  local bench = require "htune.bench"
  local ref = problem.reference
  local rjob = job_for(problem, ref.name_expr, problem.compile(problem.space:default()), self.arch)
  rjob.options, rjob.defines = ref.options or rjob.options, ref.defines or {}
  local t = sys.now_ms()
  local rhandle = self.compiler.submit(rjob)
  local w, err, code = bench.worker { fake = opts.fake }
  phases.worker_ms, t = sys.now_ms() - t, sys.now_ms()
  if not w then
    if rhandle.cancel then rhandle:cancel() end
    return nil, err, code
  end
  self.worker = w
  local specs, index, output = buffer_specs(problem)
  self.index = index
  local res = rhandle:wait()
  phases.reference_ms, t = sys.now_ms() - t, sys.now_ms()
  if not res.ok then
    return nil, "reference " .. ref.name_expr .. " does not compile: " .. (res.log or res.error or "compile failed"), "ECOMPILE"
  end
  local l = ref.launch()
  local tol = problem.tolerance or {}
  local ok, serr, scode = w:setup { device = opts.device or 0, buffers = specs, output = output, atol = tol.atol, rtol = tol.rtol,
    reference = { image = res.cubin, name = res.lowered[ref.name_expr], grid = l.grid, block = l.block,
                  smem = l.smem, args = worker_args(ref.args(), index) } }
  phases.setup_ms = sys.now_ms() - t
  return ok, serr, scode
end

-- Dense fp16 tensor-core FLOP per clock per SM by compute capability (A100: 312 TFLOP/s at 108
-- SMs x 1.41 GHz; H100 SXM: 989 at 132 x 1.83 GHz); other parts leave tensor_tflops out.
local TENSOR_FLOP_PER_CLK_SM = { ["8.0"] = 2048, ["9.0"] = 4096 }

-- The device query as prompt specs (prompt.device_text's keys).
function M.specs_of(dev)
  if type(dev) ~= "table" then return nil end
  local k = TENSOR_FLOP_PER_CLK_SM[tostring(dev.cc)]
  return { name = dev.name, sm_count = dev.sms, smem_per_sm_bytes = dev.smem_per_sm,
    smem_per_block_bytes = dev.smem_per_block_optin or dev.smem_per_block, l2_bytes = dev.l2_bytes,
    bandwidth_gbs = dev.peak_bandwidth_gbs, cc = dev.cc, clock_mhz = dev.clock_mhz,
    tensor_tflops = k and dev.sms and dev.clock_mhz and math.floor(k * dev.sms * dev.clock_mhz / 1e6 + 0.5) or nil }
end

-- open(problem, opts) -> backend | nil, msg, code.
-- opts: fake (CPU fake driver), compiler (an object with submit(job) like htune.nvrtc),
-- lookahead (compiles in flight, default 2 x CPUs), time_cap_ms, target_rse, cutoff,
-- cutoff_margin, watchdog_floor_ms, watchdog_mult, arch, device, baseline={name=, params=},
-- twins (default true: a config that is the same experiment as one already measured or in
-- flight -- problem.experiment_key: same kernel, launch and arguments -- takes that result,
-- with twin_of = its trial id, instead of being compiled and timed again), check (default true;
-- false times a kernel without comparing its output to the reference: for diagnostic variants
-- that are wrong by design, never for a search).
function M.open(problem, opts)
  opts = opts or {}
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(opts) do o[k] = v end
  local cuda = require "htune.cuda"
  local t0 = sys.now_ms()
  local devs, err, code = cuda.devices { fake = o.fake }
  local phases = { devices_ms = sys.now_ms() - t0 }
  if not devs then return nil, err, code end
  local dev = devs[(o.device or 0) + 1]
  local self = setmetatable({ problem = problem, opts = o, queue = {}, compiling = {}, compiling_by_key = {},
    nfollowers = 0, ready = {}, measured = {}, running = {}, lead_key = {}, nparked = 0,
    done = {}, inflight = nil, npending = 0, best_us = nil, evals = 0, t_open = sys.now_ms(),
    arch = o.arch or problem.arch or (dev and dev.arch), lookahead = o.lookahead or 2 * sys.ncpus }, B)
  self.compiler = o.compiler or require "htune.nvrtc"
  local ok, serr, scode = open_worker(self, problem, o, phases)
  if not ok then
    if self.worker then self.worker:close() end
    return nil, serr, scode
  end
  -- open_phases_ms: where open's time went (devices, worker start, reference compile still
  -- running after it, setup, baseline timing), for benchmarks such as bench-tune to report.
  self.info = { backend = "live", device = dev and dev.name or "?", device_info = dev, arch = self.arch,
                specs = M.specs_of(dev), open_phases_ms = phases,
                -- trials it can use at once: the compiles in flight, one compiled and one timing
                queue = self.lookahead + 2 }
  -- The problem's own vendor baseline (cuBLAS for matmul) unless the caller names one or false.
  local bl = o.baseline
  if bl == nil then bl = problem.baseline end
  local tb = sys.now_ms()
  if bl then self:_baseline(bl) end
  phases.baseline_ms = sys.now_ms() - tb
  return self
end

function B:_watchdog_ms()
  return math.max(self.opts.watchdog_floor_ms, self.opts.watchdog_mult * self.opts.time_cap_ms)
end

function B:_bench_opts(extra)
  local o = { time_cap_ms = self.opts.time_cap_ms, target_rse = self.opts.target_rse,
              cutoff_margin = self.opts.cutoff_margin }
  if self.opts.cutoff and self.best_us then o.best_us = self.best_us end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

function B:_baseline(spec)
  self.baseline_spec = spec
  self.worker:submit { kind = "baseline", name = spec.name, params = spec.params, opts = self:_bench_opts { best_us = 0 },
                       timeout_ms = self:_watchdog_ms() }
  local r
  repeat r = self.worker:poll(50) until r
  local us = r.ok and r.stats.median_us or nil
  self.info.baseline_name = spec.name
  self.info.baseline_status = r.status
  self.info.baseline_message = r.message
  -- Timed at open the GPU may still be clocking up from idle. (The 7.75-13.64 us that one
  -- cuBLAS 1024^3 call read across H100 runs was likely the host's launch rate, before bench.c
  -- gated its rounds: on the H200 it read 8.51-12.29 us ungated and 6.23-6.28 gated, call 27.)
  -- retime_baseline() times it again once the GPU has been busy; the vendor keeps its best
  -- (median) of the timings, all listed in baseline_times_us.
  self.info.baseline_times_us = self.info.baseline_times_us or {}
  if us then self.info.baseline_times_us[#self.info.baseline_times_us + 1] = us end
  if us and (not self.info.baseline_us or us < self.info.baseline_us) then self.info.baseline_us = us end
end

-- retime_baseline(): the problem's baseline timed again (the driver calls it with the final
-- re-benchmark, when the GPU is warm); info.baseline_us becomes the best of the timings.
function B:retime_baseline()
  if not self.baseline_spec or not self.worker then return end
  while self.inflight do self:_collect(50) end
  self:_baseline(self.baseline_spec)
end

function B:submit(trials)
  for _, t in ipairs(trials) do
    self.queue[#self.queue + 1] = t
    self.npending = self.npending + 1
  end
  self:_pump()
end

-- forget(): a later run on this backend starts afresh: no early cutoff against an earlier run's
-- best, no twin answered from an earlier run's measurement (compare runs strategies in turn on
-- one backend; what one measured must not make the next one faster). Compiles stay cached.
function B:forget()
  self.best_us, self.measured = nil, {}
end

-- Trials submitted and not yet returned by poll (a twin or a compile failure can finish inside
-- submit; it stays pending until a poll hands it over).
function B:pending() return self.npending + #self.done end

-- cancel() -> n dropped: every trial not yet on the GPU (queued, compiling, compiled) leaves
-- pending; compiles no thread has started are withdrawn, one already running ends in the cache.
-- The trial the GPU is timing stays pending (it ends within the watchdog).
function B:cancel()
  local n = #self.queue + #self.compiling + self.nfollowers + #self.ready + self.nparked
  for _, c in ipairs(self.compiling) do if c.handle.cancel then c.handle:cancel() end end
  self.queue, self.compiling, self.compiling_by_key, self.nfollowers, self.ready = {}, {}, {}, 0, {}
  -- twins parked on a dropped lead go with it; the timing one's result is still kept for later twins
  self.running, self.nparked = {}, 0
  self.npending = self.npending - n
  return n
end

function B:_finish(rec)
  self.npending = self.npending - 1
  self.evals = self.evals + 1
  self.done[#self.done + 1] = rec
  local lead = self.lead_key[rec.id]
  if lead and lead.hash == rec.hash then
    local key = lead.key
    self.lead_key[rec.id] = nil
    self.measured[key] = rec
    local run = self.running[key]
    self.running[key] = nil
    for _, t in ipairs(run or {}) do
      self.nparked = self.nparked - 1
      self:_finish(self:_twin(rec, t))
    end
  end
end

-- The result of trial t, the same experiment as the measured lead: its outcome, no cost of its own.
function B:_twin(lead, t)
  return { id = t.id, hash = t.hash, cfg = t.cfg, ok = lead.ok, reason = lead.reason, stats = lead.stats,
           latency_us = lead.latency_us, compile_ms = 0, bench_ms = 0, log = lead.log, check = lead.check,
           facts = lead.facts, twin_of = lead.twin_of or lead.id }
end

-- Takes the next queued trial unless it is the twin of one measured (finished now) or in flight
-- (parked until that one finishes) -> trial or nil.
function B:_next_trial()
  while #self.queue > 0 do
    local t = table.remove(self.queue, 1)
    local key = self.opts.twins and experiment_key(self.problem, t.cfg)
    if not key then return t end
    if self.measured[key] then
      self:_finish(self:_twin(self.measured[key], t))
    elseif self.running[key] then
      local run = self.running[key]
      run[#run + 1] = t
      self.nparked = self.nparked + 1
    else
      self.running[key], self.lead_key[t.id] = {}, { key = key, hash = t.hash }
      return t
    end
  end
end

-- Starts compiles up to the lookahead (a trial whose job equals one in flight follows it and
-- takes no slot), collects finished ones, feeds the idle worker.
function B:_pump()
  while #self.compiling < self.lookahead and #self.queue > 0 do
    local t = self:_next_trial()
    if not t then break end
    local ce = self.problem.compile(t.cfg)
    local key = job_key(ce)
    local lead = self.compiling_by_key[key]
    if lead then
      lead.followers[#lead.followers + 1] = { trial = t, expr = ce.name_expr }
      self.nfollowers = self.nfollowers + 1
    else
      local h = self.compiler.submit(job_for(self.problem, ce.name_expr, ce, self.arch))
      local c = { trial = t, handle = h, expr = ce.name_expr, key = key, followers = {} }
      self.compiling[#self.compiling + 1], self.compiling_by_key[key] = c, c
    end
  end
  local i = 1
  while i <= #self.compiling do
    local c = self.compiling[i]
    if c.handle:ready() then
      table.remove(self.compiling, i)
      self.compiling_by_key[c.key] = nil
      local res = c.handle:wait()
      self:_compiled(c, res)
      -- a follower's compile cost nothing of its own (as a cache hit's)
      local shared = setmetatable({ compile_ms = 0, shared = true }, { __index = res })
      for _, f in ipairs(c.followers) do self:_compiled(f, res.ok and shared or res) end
      self.nfollowers = self.nfollowers - #c.followers
    else
      i = i + 1
    end
  end
  if not self.inflight and #self.ready > 0 then self:_start(table.remove(self.ready, 1)) end
end

function B:_compiled(c, res)
  local t = c.trial
  if not res.ok then
    return self:_finish { id = t.id, hash = t.hash, cfg = t.cfg, ok = false, reason = "compile",
                          log = res.log or res.error, compile_ms = res.compile_ms }
  end
  c.res = res
  self.ready[#self.ready + 1] = c
end

-- The worker's task for cfg's kernel from its compile result res (expr: its name expression).
local function kernel_task(self, cfg, res, expr)
  local l = self.problem.launch(cfg)
  return { image = res.cubin, name = res.lowered[expr] or expr, grid = l.grid, block = l.block, smem = l.smem or 0,
           args = worker_args(self.problem.args(cfg), self.index) }
end

function B:_start(c)
  local cfg = c.trial.cfg
  local t = kernel_task(self, cfg, c.res, c.expr)
  t.check, t.opts, t.timeout_ms = self.opts.check ~= false, self:_bench_opts(c.opts), self:_watchdog_ms()
  c.t_start = sys.now_ms()
  local ok, err = self.worker:submit(t)
  if not ok then
    return self:_finish { id = c.trial.id, hash = c.trial.hash, cfg = cfg, ok = false, reason = "fault", log = err }
  end
  self.inflight = c
end

local function record(c, r)
  local t, facts = c.trial, (c.res.facts or {})[c.expr] or {}
  local rec = { id = t.id, hash = t.hash, cfg = t.cfg, ok = r.ok, reason = (not r.ok) and r.status or nil,
    stats = r.stats, latency_us = r.stats and r.stats.median_us or nil, compile_ms = c.res.compile_ms,
    bench_ms = r.worker_ms, log = r.message, check = r.check, restart_ms = r.restart_ms,
    facts = { regs = r.facts and r.facts.regs or facts.regs, spills = (facts.spill_stores or 0) + (facts.spill_loads or 0),
              smem_bytes = facts.smem_bytes or (r.facts and r.facts.smem_bytes), local_bytes = r.facts and r.facts.local_bytes } }
  if rec.reason == "wrong" and r.check then
    rec.log = string.format("%s", r.message or "wrong result")
  end
  return rec
end

function B:_collect(wait_ms)
  local r = self.worker:poll(wait_ms)
  if not r then return end
  local c = self.inflight
  self.inflight = nil
  local rec = record(c, r)
  if rec.ok and (not self.best_us or rec.latency_us < self.best_us) then self.best_us = rec.latency_us end
  if c.on_result then c.on_result(rec) else self:_finish(rec) end
end

-- poll(timeout_ms) -> array of finished results (possibly empty).
function B:poll(timeout_ms)
  local deadline = sys.now_ms() + (timeout_ms or 0)
  repeat
    self:_pump()
    if self.inflight then
      self:_collect(math.max(0, math.min(2, deadline - sys.now_ms())))
      self:_pump()
    elseif #self.compiling > 0 then
      local hs = {}
      for i, c in ipairs(self.compiling) do hs[i] = c.handle end
      if self.compiler.wait_any then self.compiler.wait_any(hs, math.floor(math.max(0, math.min(2, deadline - sys.now_ms()))))
      else sys.sleep_ms(1) end
    end
  until #self.done > 0 or self.npending == 0 or sys.now_ms() >= deadline
  local out = self.done
  self.done = {}
  return out
end

-- rebench(cfgs) -> results in order: cold timing, L2 flush between samples, tighter target.
function B:rebench(cfgs)
  self:retime_baseline()
  local out = {}
  for i, cfg in ipairs(cfgs) do
    local ce = self.problem.compile(cfg)
    local res = self.compiler.submit(job_for(self.problem, ce.name_expr, ce, self.arch)):wait()
    local t = { id = "rebench" .. i, cfg = cfg, hash = self.problem.space:hash(cfg) }
    if not res.ok then
      out[i] = { id = t.id, hash = t.hash, cfg = cfg, ok = false, reason = "compile", log = res.log }
    else
      while self.inflight do self:_collect(50) end
      local c = { trial = t, res = res, expr = ce.name_expr,
                  -- The screen's method (batched launches under 100 us, L2 as the kernel leaves it) with a
                  -- tighter error and no cutoff: L2 flush + single launches measured softmax 4096x256
                  -- at 6.1 us against 3.06 us screened, and the baseline is timed the screen's way.
                  opts = { best_us = 0, target_rse = 0.005, time_cap_ms = 2 * self.opts.time_cap_ms },
                  on_result = function(rec) out[i] = rec end }
      self:_start(c)
      while not out[i] do
        if not self.inflight then break end
        self:_collect(50)
      end
    end
  end
  return out
end

-- Throughput and idle share since open: worker_busy_ms counts requests in flight (module
-- load, check and timing), so idle_share = 1 - busy / wall is the share of wall time the GPU
-- had nothing queued.
-- For scripts that time one config by hand (bench-gate, clock-probe): b:kernel_task(cfg) is
-- cfg compiled for this backend's device as a worker task (add opts, timeout_ms, check), or nil
-- and the compiler's log; b:run_task(t) submits a task and waits for the worker's result.
function B:kernel_task(cfg)
  local ce = self.problem.compile(cfg)
  local res = self.compiler.submit(job_for(self.problem, ce.name_expr, ce, self.arch)):wait()
  if not res.ok then return nil, res.log or res.error end
  return kernel_task(self, cfg, res, ce.name_expr)
end
function B:run_task(t)
  assert(self.worker:submit(t))
  local r
  repeat r = self.worker:poll(20) until r
  return r
end

function B:stats()
  if self.final_stats then return self.final_stats end
  local wall = sys.now_ms() - self.t_open
  local busy = self.worker and self.worker:busy_ms() or 0
  return { wall_ms = wall, worker_busy_ms = busy, idle_share = wall > 0 and 1 - busy / wall or 0,
           evals = self.evals, configs_per_s = wall > 0 and self.evals / (wall / 1000) or 0,
           restarts = self.worker and self.worker:restarts() or 0 }
end

function B:close()
  if self.worker then
    self.final_stats = self:stats()
    self.worker:close()
  end
  self.worker = nil
end

return M

-- Synthetic backend: a deterministic analytic landscape (the problem's own `landscape`, or a
-- generic one over space:encode) with failing regions, optional multiplicative noise and a
-- simulated per-eval latency on N workers, so the driver's overlap and overhead can be tested.
local sys = require "htune.sys"
local rng = require "htune.rng"

local M = {}
local B = {}
B.__index = B

-- A generic landscape for any space: two quadratic basins over the encoding plus a ripple;
-- about 1 in 23 configs fails to compile.
local function generic_landscape(space, seed)
  local r = rng(seed)
  local d = #space:encode(space:default())
  local c1, c2, w = {}, {}, {}
  for j = 1, d do c1[j], c2[j], w[j] = r:float(), r:float(), 0.5 + 2 * r:float() end
  return function(cfg)
    local h = tonumber(space:hash(cfg):sub(-6), 16)
    if h % 23 == 0 then return nil, "compile", "synthetic compile failure" end
    local x, a, b, ripple = space:encode(cfg), 0, 0.15, 0
    for j = 1, d do
      a = a + w[j] * (x[j] - c1[j]) ^ 2
      b = b + w[j] * (x[j] - c2[j]) ^ 2
      ripple = ripple + math.sin(7 * x[j] + j)
    end
    return 10 * (1 + math.min(a, b) + 0.03 * ripple / d)
  end
end

-- open(problem, {seed=, noise_pct=, latency_ms=, workers=, landscape=, specs=}) -> backend
function M.open(problem, opts)
  opts = opts or {}
  if type(problem) ~= "table" or not problem.space then return nil, "synthetic: problem has no space", "EINVAL" end
  local land = opts.landscape or problem.landscape or generic_landscape(problem.space, opts.seed or 7)
  local workers = opts.workers or 1
  local self = setmetatable({
    problem = problem, landscape = land, noise_pct = opts.noise_pct or 0, latency_ms = opts.latency_ms or 0,
    rng = rng(opts.seed or 7), queue = {}, free_at = {}, evals = 0,
    info = { backend = "synthetic", device = "synthetic (no GPU)", workers = workers,
             specs = opts.specs or { name = "synthetic (no GPU)",
                                     note = "a synthetic landscape: no real device, latencies are simulated" },
             baseline_us = opts.baseline_us or problem.baseline_us, baseline_name = problem.baseline_name },
  }, B)
  for w = 1, workers do self.free_at[w] = 0 end
  return self
end

-- One measurement of cfg: a result table without id.
function B:measure(cfg, reps, noise_pct)
  local us, reason, log = self.landscape(cfg)
  self.evals = self.evals + 1
  if not us then
    return { cfg = cfg, ok = false, reason = reason or "compile", log = log, compile_ms = 0, bench_ms = 0, facts = {} }
  end
  local sd = us * noise_pct / 100
  local v = math.max(us * 0.5, us + sd * self.rng:normal())
  return { cfg = cfg, ok = true, latency_us = v, compile_ms = 0, bench_ms = self.latency_ms, facts = {}, log = log,
           stats = { median_us = v, min_us = v - sd / 2, mean_us = v, stddev_us = sd, reps = reps, noise_pct = noise_pct } }
end

local function earliest_worker(self)
  local w = 1
  for i = 2, #self.free_at do if self.free_at[i] < self.free_at[w] then w = i end end
  return w
end

function B:submit(trials)
  local now = sys.now_ms()
  for _, t in ipairs(trials) do
    local w = earliest_worker(self)
    local done_at = math.max(now, self.free_at[w]) + self.latency_ms
    self.free_at[w] = done_at
    self.queue[#self.queue + 1] = { trial = t, done_at = done_at }
  end
end

function B:pending() return #self.queue end

-- cancel() -> n dropped: nothing simulated is on a GPU, so every pending trial goes.
function B:cancel()
  local n = #self.queue
  self.queue = {}
  for i = 1, #self.free_at do self.free_at[i] = math.min(self.free_at[i], sys.now_ms()) end
  return n
end

-- Finished results; waits up to timeout_ms for the first one.
function B:poll(timeout_ms)
  if #self.queue == 0 then return {} end
  local first = math.huge
  for _, q in ipairs(self.queue) do first = math.min(first, q.done_at) end
  local wait = first - sys.now_ms()
  if wait > 0 then sys.sleep_ms(math.min(wait, timeout_ms or 0)) end
  local now, out, rest = sys.now_ms(), {}, {}
  for _, q in ipairs(self.queue) do
    if q.done_at <= now then
      local r = self:measure(q.trial.cfg, 10, self.noise_pct)
      r.id, r.hash = q.trial.id, q.trial.hash
      out[#out + 1] = r
    else
      rest[#rest + 1] = q
    end
  end
  self.queue = rest
  return out
end

-- Careful re-measurement: a quarter of the screening noise, no simulated latency.
function B:rebench(cfgs)
  local out = {}
  for i, c in ipairs(cfgs) do out[i] = self:measure(c, 100, self.noise_pct / 4) end
  return out
end

function B:close() self.queue = {} end

return M

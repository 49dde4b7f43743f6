-- Quick start: tune live on a GPU; without one, tune on recorded (replay) or synthetic data.
local htune = require "htune"

-- The first GPU when the live backend and the CUDA binding load and report one, else nil.
local function gpu()
  if not pcall(require, "htune.backends.live") then return nil end
  local ok, devs = pcall(function() return htune.cuda and htune.cuda.devices() end)
  return ok and devs and devs[1] or nil
end

local problem, backend, say
local data = htune.sys.root .. "/data/matmul-h200.replay.gz"
local dev = gpu()
if dev then
  -- Hopper (sm_90) gets the wgmma + TMA template (the faster: on the H200 this run found 6.25 us at
  -- 1024^3 against cuBLAS's 6.39, and it reaches 98% of cuBLAS at 4096^3); other GPUs the mma.sync one.
  local name = dev.cc_major == 9 and "matmul_wgmma" or "matmul"
  problem, backend = htune.problem(name, { M = 1024, N = 1024, K = 1024, sm_count = dev.sms }), "live"
  say = string.format("tuning %s live on %s (%s)", name, dev.name or "the GPU", dev.arch or "?")
elseif io.open(data) then
  problem = htune.problem("matmul", { M = 1024, N = 1024, K = 1024 })
  -- Sampled tables: a config not recorded is answered by its nearest recorded neighbour.
  backend = assert(require("htune.backends.replay").open(problem, { path = data, nearest = true }))
  say = "no GPU: replaying recorded " .. backend.info.device .. " data from " .. data
else
  problem, backend = require("htune.problems.toy").new(), "synthetic"
  say = "no GPU and no recorded data: tuning the synthetic toy problem (not a real kernel)"
end
print("htune quickstart: " .. say)
local res = htune.tune { problem = problem, strategy = "pattern", backend = backend, budget = { evals = 100 } }
local info = res.backend or {}
local vs = info.baseline_us and string.format(", %s %.2f us: %.0f%% of its speed", info.baseline_name,
  info.baseline_us, 100 * info.baseline_us / res.best.latency_us) or ""
print(string.format("best %.2f us after %d evals in %.2f s (%s)%s", res.best.latency_us, res.evals, res.wall_s,
  res.stopped_because, vs))
print("config: " .. problem.space:to_json(res.best.cfg))

-- Quick start: tune live on a GPU; without one, tune on recorded (replay) or synthetic data.
local htune = require "htune"

-- A GPU is usable when the live backend and the CUDA binding load and report a device.
local function gpu_backend()
  local ok_live = pcall(require, "htune.backends.live")
  local ok, n = pcall(function()
    local cuda = htune.cuda
    if not cuda or cuda.available == false then return 0 end
    if cuda.device_count then return cuda.device_count() end
    return cuda.devices and #cuda.devices() or 0
  end)
  return ok_live and ok and (n or 0) > 0
end

local problem, backend, say
local data = htune.sys.root .. "/data/matmul.replay.gz"
if gpu_backend() then
  problem, backend, say = htune.problem("matmul", { M = 1024, N = 1024, K = 1024 }), "live", "tuning live on the GPU"
elseif io.open(data) and pcall(htune.problem, "matmul") then
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
print(string.format("best %.2f us after %d evals in %.2f s (%s)", res.best.latency_us, res.evals, res.wall_s,
  res.stopped_because))
print("config: " .. problem.space:to_json(res.best.cfg))

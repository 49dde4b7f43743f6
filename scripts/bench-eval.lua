-- bench-eval: figures of the measuring instrument on a real GPU (run by scripts/bench-eval):
--   overhead  bench loop median vs raw back-to-back events on a ~10 us kernel (target < 2%)
--   spread    repeat-run spread of the median, (max - min) / mean over 10 runs (target < 1.5%)
--   recovery  faulting trial -> kill + restart + next good result, wall time (target < 1.5 s)
--   pipeline  live backend: configs/s and the share of wall time the worker had nothing in flight
require("htune.usage").on_help(arg)
local htune = require "htune"
local sys = htune.sys
package.path = sys.root .. "/tests/gpu/?.lua;" .. package.path
local K = require "kernels"

local ok, info = htune.cuda.init()
if not ok then print("bench-eval: skipped: " .. tostring(info)) return 0 end
local dev = info.devices[1]
print(string.format("bench-eval: device %s, CC %s, %d SMs, SM clock %.0f MHz, driver %d", dev.name, dev.cc, dev.sms,
  dev.clock_mhz, info.driver_version))

local N = 1 << 24
local function worker()
  local w = assert(htune.bench.worker())
  local ref = K.kernel("saxpy_ref")
  assert(w:setup { buffers = { { dtype = "fp32", count = N, init = "random", seed = 1 },
                               { dtype = "fp32", count = N, init = "random", seed = 2 },
                               { dtype = "fp32", count = N } }, output = 3,
                   reference = { image = ref.image, name = ref.name, grid = 1024, block = 256,
                                 args = { { buf = 1 }, { buf = 2 }, { buf = 3 }, { f32 = 2.0 }, { i32 = N } } } })
  return w
end

local function run(w, req)
  assert(w:submit(req))
  local r
  repeat r = w:poll(20) until r
  return r
end

local function spin_req(k, cycles, extra)
  local req = { image = k.image, name = k.name, grid = 1, block = 32, check = false,
                args = { { buf = 1 }, { buf = 2 }, { buf = 3 }, { f32 = 1 }, { i64 = cycles } }, opts = { time_cap_ms = 200 } }
  for kk, v in pairs(extra or {}) do req[kk] = v end
  return req
end

local w = worker()
local spin = K.kernel("spin")
-- calibrate cycles to ~10 us from a raw measurement
local cycles = math.floor(10 * dev.clock_mhz)
local r = run(w, spin_req(spin, cycles, { raw_launches = 200 }))
cycles = math.floor(cycles * 10 / r.raw_us)

print("bench-eval: overhead (bench median vs raw back-to-back events, 2000 launches), spin kernel ~10 us")
local worst = 0
for i = 1, 5 do
  r = run(w, spin_req(spin, cycles, { raw_launches = 2000 }))
  local over = (r.stats.median_us - r.raw_us) / r.raw_us * 100
  worst = math.max(worst, math.abs(over))
  print(string.format("  run %d: median %.3f us (batch %d, reps %d, noise %.2f%%), raw %.3f us, overhead %+.2f%%", i,
    r.stats.median_us, r.stats.batch, r.stats.reps, r.stats.noise_pct, r.raw_us, over))
end
print(string.format("bench-eval: overhead worst |%.2f%%| (target < 2%%)", worst))

local function spread(label, req)
  local meds = {}
  for i = 1, 10 do meds[i] = run(w, req).stats.median_us end
  local lo, hi, sum = math.huge, 0, 0
  for _, m in ipairs(meds) do lo, hi, sum = math.min(lo, m), math.max(hi, m), sum + m end
  local s = (hi - lo) / (sum / #meds) * 100
  print(string.format("bench-eval: spread %s: medians %.3f..%.3f us over 10 runs, spread %.2f%% (target < 1.5%%)", label, lo, hi, s))
end
spread("spin ~10 us", spin_req(spin, cycles))
local sx = K.kernel("saxpy")
local sreq = { image = sx.image, name = sx.name, grid = N // 256, block = 256,
               args = { { buf = 1 }, { buf = 2 }, { buf = 3 }, { f32 = 2.0 }, { i32 = N } }, opts = { time_cap_ms = 200 } }
spread("saxpy 2^24 fp32", sreq)
spread("saxpy 2^24 fp32 with L2 flush", (function() local q = {} for k2, v in pairs(sreq) do q[k2] = v end
  q.opts = { time_cap_ms = 200, l2_flush = true } return q end)())

local fault = K.kernel("saxpy_fault")
local freq = {}
for k2, v in pairs(sreq) do freq[k2] = v end
freq.image, freq.name = fault.image, fault.name
for i = 1, 3 do
  local t0 = sys.now_ms()
  local f = run(w, freq)
  local g = run(w, sreq)
  print(string.format("bench-eval: recovery %d: %s (%s) restart %.0f ms, fault -> next good result %.0f ms (target < 1500), next ok=%s",
    i, f.status, f.message, f.restart_ms or -1, sys.now_ms() - t0, tostring(g.ok)))
end
w:close()

local p = K.saxpy_problem(N, { "saxpy_t" })
local cfgs = {}
for _, items in ipairs { 1, 2, 4, 8 } do
  for _, block in ipairs { 64, 128, 256, 512, 1024 } do cfgs[#cfgs + 1] = { kernel = "saxpy_t", items = items, block = block } end
end
local compiler = K.compiler()
local nv_ok, nvrtc = pcall(require, "htune.nvrtc")
local function pipeline(label, cutoff, cold)
  if nv_ok and K.nvrtc_available then nvrtc.cache { enabled = not cold } end
  local all, st = htune.evaluate(p, cfgs, { compiler = compiler, cutoff = cutoff })
  local best, nok, ncut = nil, 0, 0
  for _, x in ipairs(all) do
    if x.ok then nok = nok + 1 end
    if x.reason == "cutoff" then ncut = ncut + 1 end
    if x.ok and (not best or x.latency_us < best.latency_us) then best = x end
  end
  print(string.format("bench-eval: pipeline %s: %d configs (%d ok, %d cut off) in %.0f ms = %.1f configs/s, "
    .. "worker busy %.0f ms, GPU-idle share (no request in flight) %.1f%%, best items=%s block=%s %.2f us",
    label, st.evals, nok, ncut, st.wall_ms, st.configs_per_s, st.worker_busy_ms, 100 * st.idle_share,
    best and best.cfg.items or "-", best and best.cfg.block or "-", best and best.latency_us or 0))
end
if K.nvrtc_available then pipeline("cold NVRTC (cache off), cutoff on", true, true) end
pipeline("cached compiles, cutoff on", true, false)
pipeline("cached compiles, cutoff off", false, false)
return 0

-- bench-gate: does the bench loop measure the GPU or the host? Times cuBLAS and one matmul
-- config at 1024^3 with the round gate on and off, on an idle CPU and while every CPU compiles
-- (cold NVRTC jobs of other configs), alternating, `--reps` times each.
--   htune run scripts/bench-gate.lua [--reps 5] [--config JSON]     (GPU; tests/c/test_bench.c
--   checks the gate itself on the fake driver, whose launches can be given a host cost)
require("htune.usage").on_help(arg)
local htune = require "htune"
local sys = htune.sys
local nv = htune.nvrtc
local cjson = require "cjson"
local live = require "htune.backends.live"

local reps, cfg_json = 5, nil
local i = 1
while arg[i] do
  if arg[i] == "--reps" then reps = math.tointeger(tonumber(arg[i + 1])) or error("--reps wants a whole number")
  elseif arg[i] == "--config" then cfg_json = arg[i + 1]
  else io.stderr:write("bench-gate: unknown argument ", arg[i], "\n"); os.exit(2) end
  i = i + 2
end

local p = htune.problem("matmul", { M = 1024, N = 1024, K = 1024 })
local b, err = live.open(p, {})
if not b then io.stderr:write("bench-gate: ", tostring(err), "\n"); os.exit(3) end
local cfg = cfg_json and p.space:from_json(cfg_json) or p.space:default()
local kernel = assert(b:kernel_task(cfg))

-- Cold compiles of distinct sampled configs, one per CPU and more, to load the host.
nv.cache { enabled = false }
local r = htune.rng(3)
local function load_cpus()
  local hs = {}
  for k = 1, 2 * sys.ncpus do
    local c = p.compile(p.space:sample(r))
    hs[k] = nv.submit { source = p.source, name = "matmul.cu", name_exprs = { c.name_expr }, defines = c.defines,
                        options = c.options, include_dirs = { p.dir }, arch = b.arch }
  end
  sys.sleep_ms(30) -- the compile threads are busy
  return hs
end

local function time(what, gate)
  local t = { opts = { gate = gate, best_us = 0, time_cap_ms = 200, target_rse = 0.01 }, timeout_ms = 5000 }
  if what == "cublas" then t.kind, t.name, t.params = "baseline", "cublas", { 1024, 1024, 1024 }
  else for k, v in pairs(kernel) do t[k] = v end end
  local x = b:run_task(t)
  assert(x.ok, x.message)
  return x.stats
end

print(("bench-gate: matmul 1024^3 on %s, config %s, %d CPUs"):format(b.info.device, cjson.encode(cfg), sys.ncpus))
local rows = {}
for rep = 1, reps do
  for _, load in ipairs { "idle", "loaded" } do
    local hs = load == "loaded" and load_cpus() or nil
    for _, what in ipairs { "cublas", "kernel" } do
      for _, gate in ipairs { true, false } do
        local s = time(what, gate)
        local key = what .. " " .. load .. " gate=" .. tostring(gate)
        rows[key] = rows[key] or {}
        table.insert(rows[key], s.median_us)
        print(("rep %d %-26s median %7.3f us  batch %3d reps %4d gated %2d timeouts %d"):format(rep, key, s.median_us, s.batch,
              s.reps, s.gated or 0, s.gate_timeouts or 0))
      end
    end
    if hs then for _, h in ipairs(hs) do h:wait() end end
  end
end
print("median over reps:")
local keys = {}
for k in pairs(rows) do keys[#keys + 1] = k end
table.sort(keys)
for _, k in ipairs(keys) do
  local v = rows[k]
  table.sort(v)
  print(("  %-26s %7.3f us  (min %.3f, max %.3f)"):format(k, v[(#v + 1) // 2], v[1], v[#v]))
end
b:close()

-- clock-probe: at what SM clock do a config and the vendor baseline run? Times the problem's
-- baseline (cuBLAS for matmul) and one config alternately, each for a long window, with the
-- bench loop's NVML clock reads on, and prints per window the median, TFLOP/s, the lowest and
-- highest SM clock read and NVML's clock-event reasons (e.g. sw_power_cap). Run nvidia-smi beside
-- it for power draw. GPU only.
--   htune run scripts/clock-probe.lua --problem matmul --shape 4096x4096x4096 [--opt loads=tma_ws]
--       [--config block_m=128,block_n=256,...] [--define NAME=V[,NAME=V]] [--no-check] [--reps 3] [--ms 2000]
-- --define sets template macros on the config (a variant under test); --no-check times it
-- without checking its result against the reference (diagnostic variants wrong by design, such
-- as matmul's MATMUL_WS_NOLOAD=1), and says so.
require("htune.usage").on_help(arg)
local htune = require "htune"
local ab = require "htune.ab"
local live = require "htune.backends.live"

local function die(msg)
  io.stderr:write("clock-probe: ", msg, "\n")
  os.exit(2)
end

local o = { problem = "matmul", reps = 3, ms = 2000, shape = {} }
local i = 1
while arg[i] do
  local a, v = arg[i], arg[i + 1]
  if a == "--no-check" then o.no_check, i = true, i + 1 goto next end   -- the flag without a value
  if v == nil then die(a .. " needs a value (see --help)") end
  if a == "--problem" then o.problem = v
  elseif a == "--shape" then
    o.shape = require("htune.problem").parse_shape(v)
    if not o.shape then die("--shape wants MxNxK (positive whole numbers), got '" .. v .. "'") end
  elseif a == "--opt" then
    o.opts = require("htune.problem").parse_opts(v, o.opts)
    if not o.opts then die("--opt wants name=v[,name=v] (lower-case problem options), got '" .. v .. "'") end
  elseif a == "--config" then
    local c, err = ab.parse_config(v)
    if not c then die(err) end
    o.config = c
  elseif a == "--define" then
    o.defines = require("htune.problem").parse_defines(v, o.defines)
    if not o.defines then die("--define wants NAME=V[,NAME=V], got '" .. v .. "'") end
  elseif a == "--reps" or a == "--ms" then
    local n = math.tointeger(tonumber(v))
    if not n or n < 1 then die(a .. " wants a whole number >= 1, got '" .. v .. "'") end
    o[a:sub(3)] = n
  else die("unknown argument '" .. a .. "' (see --help)") end
  i = i + 2
  ::next::
end

local po = {}
for k, x in pairs(o.shape) do po[k] = x end
for k, x in pairs(o.opts or {}) do po[k] = x end
po.defines = o.defines
local p = htune.problem(o.problem, po)
if not p.baseline then die(o.problem .. " has no baseline to compare with") end
local cfg = p.space:default()
for k, x in pairs(o.config or {}) do cfg[k] = x end
local ok, why = p.space:validate(cfg)
if not ok then die("the config is not valid: " .. tostring(why)) end

local b, err = live.open(p, {})
if not b then io.stderr:write("clock-probe: ", tostring(err), "\n"); os.exit(3) end
local kernel, log = b:kernel_task(cfg)
if not kernel then die("the config did not compile:\n" .. tostring(log)) end

local function time(what)
  local t = { opts = { best_us = 0, time_cap_ms = o.ms, target_rse = 1e-6, clock_check = true }, timeout_ms = o.ms + 10000 }
  if what == "baseline" then t.kind, t.name, t.params = "baseline", p.baseline.name, p.baseline.params
  else
    for k, v in pairs(kernel) do t[k] = v end
    if o.no_check then t.check = false end
  end
  local x = b:run_task(t)
  if not x.ok then die(what .. ": " .. tostring(x.message)) end
  return x.stats
end

-- p.key names the problem with its options and defines (e.g. matmul/4096x4096x4096/fp16+loads=tma_ws+MATMUL_WS_NOEPI=1)
print(("clock-probe: %s on %s, %s%s vs %s, %d ms windows"):format(p.key, b.info.device, p.compile(cfg).name_expr,
  o.no_check and " (results NOT checked)" or "", p.baseline.name, o.ms))
-- Each rep's config line also says how fast it ran against the baseline window just before it.
for rep = 1, o.reps do
  local base_us
  for _, what in ipairs { "baseline", "config" } do
    local t0 = htune.sys.now_ms()
    local s = time(what)
    base_us = base_us or s.median_us
    print(("rep %d %-8s median %8.2f us  %6.1f TF/s  reps %5d  SM clock %s-%s MHz (rated %s, %s reads)  reasons %s  [%.0f-%.0f ms]%s"):format(
      rep, what, s.median_us, p.flops / s.median_us * 1e-6, s.reps or 0, tostring(s.clock_min_mhz), tostring(s.clock_max_mhz),
      tostring(s.clock_rated_mhz), tostring(s.clock_reads), tostring(s.clock_reasons), t0, htune.sys.now_ms(),
      what == "config" and ("  %.1f%% of the baseline's speed"):format(100 * base_us / s.median_us) or ""))
  end
end
b:close()

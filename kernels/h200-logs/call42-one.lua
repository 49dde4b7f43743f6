-- call 42: call37-one.lua that also times configs the constraints reject (for ncu; defines from the args):
--   build/htune run kernels/h200-logs/call42-one.lua MxNxK key=value,... [NAME=V ...]
local htune = require "htune"
local ab = require "htune.ab"
local m, n, k = arg[1]:match("^(%d+)x(%d+)x(%d+)$")
local cfg = assert(ab.parse_config(arg[2]))
local defines = {}
for i = 3, #arg do local name, v = arg[i]:match("^(.-)=(.*)$"); defines[name] = math.tointeger(tonumber(v)) or v end
local p = assert(htune.problem("matmul", { M = tonumber(m), N = tonumber(n), K = tonumber(k), defines = next(defines) and defines or nil }))
local c = p.space:default()
for key, v in pairs(cfg) do c[key] = v end
local ok, why = p.space:validate(c)
if not ok then print("forced past the constraints: " .. tostring(why)) end
-- A long watchdog: under ncu one launch is replayed once per metric pass.
local res = assert(htune.evaluate(p, { c }, { check = false, watchdog_floor_ms = 120000, time_cap_ms = 20 }))
print(p.compile(c).name_expr, res[1].ok, res[1].latency_us)

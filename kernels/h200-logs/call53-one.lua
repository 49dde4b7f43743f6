-- call 53: one config of matmul timed once through htune.evaluate (for ncu), with problem options:
--   build/htune run kernels/h200-logs/call53-one.lua MxNxK key=value,... [NAME=V | name=v ...]
-- upper-case NAME=V: template macros; lower-case name=v: problem options (loads=tma_ws, clusters=true).
local htune = require "htune"
local ab = require "htune.ab"
local P = require "htune.problem"
local m, n, k = arg[1]:match("^(%d+)x(%d+)x(%d+)$")
local cfg = assert(ab.parse_config(arg[2]))
local opts, defines = { M = tonumber(m), N = tonumber(n), K = tonumber(k) }, {}
for i = 3, #arg do
  local name, v = P.parse_opt(arg[i])
  if name then opts[name] = v
  else local d, x = arg[i]:match("^(.-)=(.*)$"); defines[d] = math.tointeger(tonumber(x)) or x end
end
opts.defines = next(defines) and defines or nil
local p = assert(htune.problem("matmul", opts))
local c = p.space:default()
for key, v in pairs(cfg) do c[key] = v end
assert(p.space:validate(c))
-- A long watchdog: under ncu one launch is replayed once per metric pass.
local res = assert(htune.evaluate(p, { c }, { check = false, watchdog_floor_ms = 120000, time_cap_ms = 20 }))
print(p.compile(c).name_expr, res[1].ok, res[1].latency_us)

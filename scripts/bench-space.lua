-- Config-space benchmark behind scripts/bench-space: rates per second on the helion_matmul
-- space (each phase runs for about half a second of wall time, after a short warm-up).
--   htune run scripts/bench-space.lua   (no options)
require("htune.usage").on_help(arg)
local htune = require "htune"
local sys = htune.sys
local sp = dofile(sys.root .. "/lua/htune/spaces/helion_matmul.lua")
local r = htune.rng(12345)

-- Runs fn(batch) until min_ms has passed; returns operations per second.
local function rate(batch, fn, min_ms)
  fn(batch)
  local n, t0 = 0, sys.now_ms()
  repeat
    fn(batch)
    n = n + batch
  until sys.now_ms() - t0 >= (min_ms or 500)
  return n / ((sys.now_ms() - t0) / 1000)
end

local function report(what, per_s, note)
  print(string.format("%-34s %14.0f /s%s", what, per_s, note and ("  " .. note) or ""))
end

local cfgs = {}
for i = 1, 1000 do cfgs[i] = sp:sample(r) end
local jsons = {}
for i = 1, 1000 do jsons[i] = sp:to_json(cfgs[i]) end

print(string.format("htune %s, space %s (%d configs)", sys.version, sp:name(), (sp:size())))
report("sample_many (C, index vectors)", rate(100000, function(n) sp:sample_many(r, n) end))
report("sample (Lua tables)", rate(10000, function(n) for _ = 1, n do sp:sample(r) end end))
local per_origin = 0
for i = 1, #cfgs do per_origin = per_origin + #sp:neighbors(cfgs[i]) end
per_origin = per_origin / #cfgs
local nb_rate = rate(1000, function(n) for i = 1, n do sp:neighbors(cfgs[i]) end end)
report("neighbors (calls, Lua tables)", nb_rate)
report("neighbours built", nb_rate * per_origin, string.format("(%.1f per origin, measured)", per_origin))
report("hash", rate(1000, function(n) for i = 1, n do sp:hash(cfgs[i]) end end))
report("validate", rate(1000, function(n) for i = 1, n do sp:validate(cfgs[i]) end end))
report("from_json", rate(1000, function(n) for i = 1, n do sp:from_json(jsons[i]) end end))
report("mutate", rate(1000, function(n) for i = 1, n do sp:mutate(cfgs[i], r) end end))

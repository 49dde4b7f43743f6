-- A synthetic tuning run for tests/cli/store.sh: records configs a=1..N through htune.record,
-- resuming whatever an earlier (killed) run of the same key left, and prints per trial
-- "T <a> <latency> <committed>" so the test can check what the store had promised durable.
-- usage: htune run store_child.lua DB N TAG [SEED] [MEASURE_MS]
local htune = require "htune"
local record = require "htune.record"
local db, n, tag = arg[1], tonumber(arg[2]), tonumber(arg[3])
local seed, measure_ms = tonumber(arg[4] or 7), tonumber(arg[5] or 0.3)
io.stdout:setvbuf("line")

local S = htune.space
local sp = S.new { name = "synthetic", params = { { "a", S.int(1, 100000, 1) }, { "b", S.choice { "x", "y" } } } }
local problem = { name = "synthetic", key = "synthetic/64x64/fp16", key_shape = "64x64", dtype = "fp16",
                  source_hash = "0123456789abcdef", space = sp }

local rec = assert(record.open({ db = db }, problem, "synthetic", seed))
local seen = {}
for _, r in ipairs(rec:previous()) do seen[r.hash] = true end
print("P " .. #rec:previous())
for a = 1, n do
  local cfg = { a = a, b = a % 2 == 0 and "x" or "y" }
  local h = sp:hash(cfg)
  if not seen[h] then
    htune.sys.sleep_ms(measure_ms)
    local lat = tag * 100000 + a
    assert(rec:trial { cfg = cfg, hash = h, ok = true, latency_us = lat, stats = { median_us = lat, reps = 3 } })
    print(string.format("T %d %d %d", a, lat, rec:committed()))
  end
end
assert(rec:finish { stopped_because = "budget" })
print("DONE")

-- The body of scripts/bench-store: inserts N trials per mode into a fresh database and prints
-- the rate; exit code 1 when the default (recorder, batched) mode misses the target.
--   htune run scripts/bench-store.lua [--trials 20000] [--db PREFIX]   (databases PREFIX.MODE.db)
require("htune.usage").on_help(arg)
local htune = require "htune"
local record = require "htune.record"
local S = htune.space

local n, dir = 20000, nil
for i = 1, #arg do
  if arg[i] == "--trials" then n = assert(math.tointeger(tonumber(arg[i + 1])), "--trials N") end
  if arg[i] == "--db" then dir = arg[i + 1] end
end
local base = dir or os.tmpname()

local sp = S.new { name = "bench", params = {
  { "block_m", S.pow2(16, 256) }, { "block_n", S.pow2(16, 256) }, { "block_k", S.pow2(16, 128) },
  { "warps", S.pow2(1, 16) }, { "stages", S.int(1, 8, 1) }, { "pid", S.choice { "flat", "xyz", "persistent" } } } }
local problem = { name = "bench", key = "bench/1024x1024x1024/fp16", dtype = "fp16", source_hash = "0", space = sp }
local rng = htune.rng(1)
local results = {}
for i = 1, n do
  local cfg = sp:sample(rng)
  results[i] = { cfg = cfg, hash = sp:hash(cfg) .. i, ok = true, latency_us = 10 + rng:float(), compile_ms = 120,
                 bench_ms = 3, wall_ms = i, stats = { median_us = 10, min_us = 9, mean_us = 10.2, stddev_us = 0.3, reps = 20, noise_pct = 3 },
                 facts = { regs = 64, spills = 0, smem_bytes = 32768, local_bytes = 0 }, log = "ptxas info: 64 registers" }
end

local function bench(name, store_opts, raw)
  local path = base .. "." .. name .. ".db"
  os.remove(path)
  local rec = assert(record.open({ db = path, store_options = store_opts }, problem, "bench", 1))
  local rows = {}
  if raw then for i = 1, n do rows[i] = record.row_of(results[i], sp, rec.run_id, i) end end
  local t0 = htune.sys.now_ms()
  if raw then for i = 1, n do assert(rec.store:add_trial(rows[i])) end
  else for i = 1, n do assert(rec:trial(results[i])) end end
  assert(rec:finish {})
  local ms = htune.sys.now_ms() - t0
  local st = assert(record.open_store(path))
  local got = #assert(st:trials(rec.run_id))
  st:close()
  assert(got == n, "stored " .. got .. " of " .. n)
  for _, suffix in ipairs { "", "-wal", "-shm" } do os.remove(path .. suffix) end
  print(string.format("%-34s %7d trials  %8.0f trials/s  %.4f ms/trial", name, n, n / ms * 1000, ms / n))
  return n / ms * 1000
end

print(string.format("htune %s store bench (%d trials per mode, WAL, synchronous=NORMAL)", htune.version, n))
local rate = bench("recorder, batched 5 ms (default)", nil, false)
bench("binding only, batched 5 ms", nil, true)
bench("recorder, commit every trial", { batch_ms = 0 }, false)
bench("binding only, commit every trial", { batch_ms = 0 }, true)
print(string.format("target >= 5000 trials/s (<= 0.2 ms/trial): %s", rate >= 5000 and "met" or "MISSED"))
return rate >= 5000 and 0 or 1

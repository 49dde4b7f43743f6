-- The SM clock check as htune.bench reports it, on the CPU fake driver with the scripted fake
-- NVML (bench.worker{fake_nvml=...}; see src/nvml.h): fields present, throttled rounds
-- discarded and counted, NVML absent or clock_check=false reported with a reason.
local htune = require "htune"
local bench = htune.bench

local ARGS = { { buf = 1 }, { buf = 2 }, { i32 = 64 } }
-- 200 samples in rounds of 8 then 32, no outlier trim: the rounds are predictable.
local OPTS = { target_rse = 1e-9, max_reps = 200, batch = 1, trim_k = -1, clock_every_ms = -1 }

local function time_with(fake_nvml, extra)
  local w = assert(bench.worker { fake = true, fake_nvml = fake_nvml })
  assert(w:setup { buffers = { { dtype = "fp32", count = 64, init = "random" }, { dtype = "fp32", count = 64 } }, output = 2 })
  local opts = {}
  for k, v in pairs(OPTS) do opts[k] = v end
  for k, v in pairs(extra or {}) do opts[k] = v end
  assert(w:submit { image = "m", name = "fake_copy_50", block = 64, args = ARGS, opts = opts, timeout_ms = 2000 })
  local r
  repeat r = w:poll(10) until r
  w:close()
  assert.is_true(r.ok, r.message)
  return r.stats
end

describe("SM clock check", function()
  it("reports steady clocks without discards", function()
    local s = time_with("mhz=1755,max=1980")
    assert.is_true(s.clock_checked)
    assert.are.equal(0, s.clock_discards)
    assert.are.equal(1755, s.clock_min_mhz)
    assert.are.equal(1755, s.clock_max_mhz)
    assert.are.equal(1980, s.clock_rated_mhz)
    assert.are.equal(8, s.clock_reads)   -- warm-up + 7 rounds
    assert.are.equal("", s.clock_reasons)
    assert.is_nil(s.clock_note)
  end)

  it("discards and counts rounds read at a throttled clock", function()
    local s = time_with("period=3,bad=1,bad_mhz=1200,reasons=0x40")
    assert.are.equal(96, s.clock_discards)   -- rounds 2, 5 and 8 of 32 samples
    assert.are.equal(200, s.reps)
    assert.is_false(s.clock_throttled)
    assert.are.equal(1200, s.clock_min_mhz)
    assert.are.equal("hw_thermal", s.clock_reasons)
    assert.matches("^discarded 96 samples at throttled SM clocks", s.clock_note)
  end)

  it("says why when NVML is absent or the check is off", function()
    local s = time_with("absent")
    assert.is_false(s.clock_checked)
    assert.are.equal(0, s.clock_reads)
    assert.matches("NVML unavailable", s.clock_note)
    s = time_with("period=2,bad=1", { clock_check = false })
    assert.are.equal(0, s.clock_discards)
    assert.are.equal("clock check off (clock_check=false)", s.clock_note)
  end)

  it("raises on a clock threshold outside (0, 1], naming the field", function()
    local w = assert(bench.worker { fake = true })
    assert(w:setup { buffers = { { dtype = "fp32", count = 64 } }, output = 1 })
    local ok, err = pcall(w.submit, w, { image = "m", name = "fake_copy_5", args = ARGS, opts = { clock_min_frac = 1.5 } })
    assert.is_false(ok)
    assert.matches("opts%.clock_min_frac: 1%.5%d* is not in %(0, 1%]", err)
    w:close()
  end)
end)

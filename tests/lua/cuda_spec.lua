-- htune.cuda, htune.bench, the live backend and htune.evaluate on the CPU fake driver
-- (HTUNE fake kernels: fake_<kind>_<us>; see src/cudafake.c) with a fake compiler.
local htune = require "htune"
local cuda, bench, sys = htune.cuda, htune.bench, htune.sys

-- A compiler with nvrtc's submit/ready/wait shape: the "cubin" is a marker, lowered = expr.
local fake_compiler = {
  submit = function(job)
    local expr = job.name_exprs[1]
    local res = expr:match("^bad") and { ok = false, log = "error: " .. expr .. " does not compile", compile_ms = 1 }
      or { ok = true, cubin = "fake module", lowered = { [expr] = expr }, compile_ms = 1, facts = {} }
    return { ready = function() return true end, wait = function() return res end }
  end,
}

local function fake_problem(kernels)
  local S = htune.space
  local n = 1024
  local args = function() return { "X", "Y", { i32 = n } } end
  return {
    name = "fakecopy", source = "", dir = ".", tolerance = {},
    space = S.new { name = "fakecopy", params = { { "kernel", S.choice(kernels) } } },
    compile = function(c) return { name_expr = c.kernel, options = {} } end,
    launch = function() return { grid = { 4, 1, 1 }, block = { 256, 1, 1 }, smem = 0 } end,
    buffers = { { name = "X", dtype = "fp32", count = n, init = "random", seed = 3 },
                { name = "Y", dtype = "fp32", count = n, output = true } },
    args = args,
    reference = { name_expr = "fake_copy_5", launch = function() return { grid = { 4 }, block = { 256 } } end, args = args },
  }
end

local KERNELS = { "fake_copy_10", "fake_copy_30", "fake_wrong_10", "fake_fault", "bad_syntax", "fake_copy_8", "fake_hang" }

describe("htune.cuda", function()
  it("says why there is no driver, or finds one", function()
    local ok, info, code = cuda.init()
    if ok then
      assert.is_true(#info.devices >= 1)
    else
      assert.are.equal("ENODRIVER", code)
      assert.matches("libcuda", info)
    end
  end)

  it("lists the fake device with its facts", function()
    local devs = assert(cuda.devices { fake = true })
    assert.are.equal(1, #devs)
    assert.are.equal("htune fake GPU", devs[1].name)
    assert.are.equal("9.0", devs[1].cc)
    assert.are.equal(132, devs[1].sms)
    assert.is_true(math.abs(devs[1].peak_bandwidth_gbs - 3352.32) < 0.1)
  end)
end)

describe("htune.bench worker", function()
  it("raises on a bad buffer spec, naming the field", function()
    local w = assert(bench.worker { fake = true })
    local ok, err = pcall(w.setup, w, { buffers = { { dtype = "fp8", count = 4 } }, output = 1 })
    assert.is_false(ok)
    assert.matches("buffers%[1%]%.dtype: unknown dtype 'fp8'", err)
    ok, err = pcall(w.setup, w, { buffers = { { dtype = "fp32", count = 4 } }, output = 2 })
    assert.matches("output: 2 is not a buffer index", err)
    w:close()
    assert.has_error(function() w:busy() end, "htune.Worker: used after close")
  end)

  it("times a kernel, catches a wrong one and survives a fault", function()
    local w = assert(bench.worker { fake = true })
    assert(w:setup { buffers = { { dtype = "fp32", count = 64, init = "random" }, { dtype = "fp32", count = 64 } }, output = 2,
      reference = { image = "m", name = "fake_copy_1", block = 64, args = { { buf = 1 }, { buf = 2 }, { i32 = 64 } } } })
    local function run(name)
      assert(w:submit { image = "m", name = name, block = 64, args = { { buf = 1 }, { buf = 2 }, { i32 = 64 } },
                        opts = { time_cap_ms = 10 }, timeout_ms = 300 })
      local r
      repeat r = w:poll(10) until r
      return r
    end
    local r = run("fake_copy_20")
    assert.is_true(r.ok)
    assert(w:submit { image = "m", name = "fake_copy_20", block = 64, args = { { buf = 1 }, { buf = 2 }, { i32 = 64 } },
                      raw_launches = 50, opts = { time_cap_ms = 5 } })
    local raw
    repeat raw = w:poll(10) until raw
    assert.is_true(math.abs(raw.raw_us - 20) < 0.2)
    assert.is_true(math.abs(r.stats.median_us - 20) < 0.5)
    assert.are.equal(0, r.check.mismatches)
    r = run("fake_wrong_20")
    assert.are.equal("wrong", r.status)
    assert.are.equal(32, r.check.first_bad)
    local pid = w:pid()
    r = run("fake_fault")
    assert.are.equal("fault", r.status)
    assert.is_true(r.restart_ms < 1500)
    assert.are_not.equal(pid, w:pid())
    r = run("fake_hang")
    assert.are.equal("timeout", r.status)
    assert.matches("300 ms watchdog", r.message)
    assert.is_true(run("fake_copy_20").ok)
    assert.are.equal(2, w:restarts())
    w:close()
  end)
end)

describe("htune.bench tensor-map args", function()
  local bufs = { { dtype = "fp32", count = 1024, init = "random" }, { dtype = "fp32", count = 1024 } }
  local function args(map) return { { buf = 1 }, { buf = 2 }, { i32 = 1024 }, map,
                                    { tmap = 2, rows = 32, cols = 32, box_rows = 32, box_cols = 8, swizzle = 32 } } end
  local good = { tmap = 1, rows = 16, cols = 64, box_rows = 8, box_cols = 32, swizzle = 128 }
  local function with(t)
    local m = {}
    for k, v in pairs(good) do m[k] = v end
    for k, v in pairs(t) do m[k] = v end
    if t.rows == false then m.rows = nil end
    return m
  end

  it("runs a kernel taking two maps and raises on a bad field, naming it", function()
    local w = assert(bench.worker { fake = true })
    assert(w:setup { buffers = bufs, output = 2,
      reference = { image = "m", name = "fake_tmap_1", block = 64, args = args(good) } })
    assert(w:submit { image = "m", name = "fake_tmap_20", block = 64, args = args(good), opts = { time_cap_ms = 5 } })
    local r
    repeat r = w:poll(10) until r
    assert.is_true(r.ok, r.message)   -- fake_tmap fails unless both params are maps over src and dst
    assert.are.equal(0, r.check.mismatches)
    for _, case in ipairs {
      { { box_rows = 512 }, "args%[4%]%.box_rows must be 1%.%.256, got 512" },
      { { tmap = 3 }, "args%[4%]%.tmap must be a buffer 1%.%.2, got 3" },
      { { rows = false }, "args%[4%]%.rows must be an integer 0%.%.%d+, got nil" },
      { { cols = 2.5 }, "args%[4%]%.cols must be an integer 0%.%.%d+, got 2%.5" },
      { { rows = 64 }, "args%[4%]%.rows x cols must fit buffer 1 %(1024 elements%), got 64 x 64" },
      { { swizzle = 64 }, "args%[4%]%.box_cols x 4 bytes must be within the 64%-byte swizzle span, got 32" },
    } do
      local ok, err = pcall(w.submit, w, { image = "m", name = "fake_tmap_20", block = 64, args = args(with(case[1])) })
      assert.is_false(ok)
      assert.matches(case[2], err)
    end
    local ok, err = pcall(w.setup, w, { buffers = bufs, output = 2,
      reference = { image = "m", name = "fake_tmap_1", block = 64, args = args(with { box_cols = 0 }) } })
    assert.is_false(ok)
    assert.matches("args%[4%]%.box_cols must be 1%.%.256, got 0", err)
    w:close()
  end)

  it("live: a problem's {tmap=name, ...} args become maps over its buffers", function()
    local live = require "htune.backends.live"
    local p = fake_problem { "fake_tmap_10" }
    p.args = function() return { "X", "Y", { i32 = 1024 },
      { tmap = "X", rows = 16, cols = 64, box_rows = 8, box_cols = 32, swizzle = 128 },
      { tmap = "Y", rows = 32, cols = 32, box_rows = 32, box_cols = 8 } } end
    local b = assert(live.open(p, { fake = true, compiler = fake_compiler, time_cap_ms = 5 }))
    b:submit { { id = 1, cfg = { kernel = "fake_tmap_10" }, hash = "h" } }
    local res
    repeat res = b:poll(100)[1] until res
    assert.is_true(res.ok, res.log)
    b:close()
    assert.are.same({ { buf = 2 }, { tmap = 1, rows = 4, cols = 8, box_rows = 4, box_cols = 8, swizzle = 0 } },
      live._worker_args({ "Y", { tmap = "X", rows = 4, cols = 8, box_rows = 4, box_cols = 8, swizzle = 0 } }, { X = 1, Y = 2 }))
    local ok, err = pcall(live._worker_args, { "X", { tmap = "Z", rows = 4 } }, { X = 1 })
    assert.is_false(ok)
    assert.matches("args%[2%]%.tmap: no buffer named 'Z'", err)
  end)
end)

describe("live backend on the fake driver", function()
  it("gives scripts a config's worker task and runs one (kernel_task, run_task)", function()
    local live = require "htune.backends.live"
    local p = fake_problem(KERNELS)
    local b = assert(live.open(p, { fake = true, compiler = fake_compiler, time_cap_ms = 5, baseline = false }))
    local t = assert(b:kernel_task { kernel = "fake_copy_10" })
    assert.are.same({ image = "fake module", name = "fake_copy_10", grid = { 4, 1, 1 }, block = { 256, 1, 1 }, smem = 0,
                      args = { { buf = 1 }, { buf = 2 }, { i32 = 1024 } } }, t)
    t.opts = { time_cap_ms = 5 }
    local r = b:run_task(t)
    assert.is_true(r.ok, r.message)
    assert.is_true(r.stats.median_us > 0)
    local none, log = b:kernel_task { kernel = "bad_syntax" }
    assert.is_nil(none)
    assert.matches("error: bad_syntax does not compile", log, 1, true)
    b:close()
  end)

  it("compiles the reference while the worker starts and reports open's phases", function()
    local live = require "htune.backends.live"
    local p = fake_problem(KERNELS)
    local order = {}
    local compiler = { submit = function(job)
      order[#order + 1] = "submit " .. job.name_exprs[1]
      local h = fake_compiler.submit(job)
      return { ready = h.ready, wait = function() order[#order + 1] = "wait"; return h.wait() end }
    end }
    local b = assert(live.open(p, { fake = true, compiler = compiler, time_cap_ms = 10, baseline = { name = "memcpy", params = { 0 } } }))
    local ph = b.info.open_phases_ms
    assert.are.equal(b.lookahead + 2, b.info.queue) -- the driver keeps every compile slot busy
    b:close()
    assert.are.same({ "submit fake_copy_5", "wait" }, order)
    for _, k in ipairs { "devices_ms", "worker_ms", "reference_ms", "setup_ms", "baseline_ms" } do
      assert.is_true(type(ph[k]) == "number" and ph[k] >= 0, k)
    end
    p.reference.name_expr = "bad_reference"
    local nb, err, code = live.open(p, { fake = true, compiler = fake_compiler, time_cap_ms = 10, baseline = false })
    assert.is_nil(nb)
    assert.are.equal("ECOMPILE", code)
    assert.matches("reference bad_reference does not compile: error: bad_reference", err)
  end)

  it("compiles once for configs whose jobs are equal; a cancel counts the trials that follow", function()
    local live = require "htune.backends.live"
    local p = fake_problem { "a10", "b10", "c30" }
    p.compile = function(c) return { name_expr = c.kernel == "c30" and "fake_copy_30" or "fake_copy_10", options = {} } end
    local submitted, polls = {}, 0
    local slow = { submit = function(job)
      submitted[#submitted + 1] = job.name_exprs[1]
      local h = fake_compiler.submit(job)
      return { ready = function() polls = polls + 1 return polls > 3 end, wait = h.wait }
    end }
    -- twins = false: a10 and b10 launch alike too, so by default b10 would take a10's result
    -- (the next test); here each is timed and only the compile is shared
    local b = assert(live.open(p, { fake = true, compiler = slow, time_cap_ms = 5, baseline = false, twins = false }))
    local n0 = #submitted -- the reference
    local trials = {}
    for i, k in ipairs { "a10", "b10", "c30" } do trials[i] = { id = i, cfg = { kernel = k }, hash = k } end
    b:submit(trials)
    local by, t0 = {}, sys.now_ms()
    while b:pending() > 0 and sys.now_ms() - t0 < 5000 do
      for _, r in ipairs(b:poll(50)) do by[r.cfg.kernel] = r end
    end
    assert.are.same({ "fake_copy_10", "fake_copy_30" }, { table.unpack(submitted, n0 + 1) })
    for _, k in ipairs { "a10", "b10", "c30" } do assert.is_true(by[k] and by[k].ok, k) end
    assert.are.equal(0, by.b10.compile_ms) -- it shared a10's compile
    local never = { submit = function() return { ready = function() return false end, wait = function() end } end }
    b.compiler = never
    b:submit { { id = 4, cfg = { kernel = "a10" }, hash = "x" }, { id = 5, cfg = { kernel = "b10" }, hash = "y" } }
    assert.are.equal(2, b:cancel())
    assert.are.equal(0, b:pending())
    b:close()
  end)

  it("answers a config that is the same experiment as one measured or in flight with its result, timing it once", function()
    local live = require "htune.backends.live"
    local p = fake_problem { "a10", "b10", "c30", "d10" }
    p.compile = function(c) return { name_expr = c.kernel == "c30" and "fake_copy_30" or "fake_copy_10", options = {} } end
    -- d10 runs a10's kernel on a larger grid: another experiment
    p.launch = function(c) return { grid = { c.kernel == "d10" and 8 or 4, 1, 1 }, block = { 256, 1, 1 }, smem = 0 } end
    local submitted = {}
    local counting = { submit = function(job)
      submitted[#submitted + 1] = job.name_exprs[1]
      return fake_compiler.submit(job)
    end }
    local b = assert(live.open(p, { fake = true, compiler = counting, time_cap_ms = 5, baseline = false, cutoff = false }))
    local n0 = #submitted
    local function run(list, first_id)
      local trials = {}
      for i, k in ipairs(list) do trials[i] = { id = first_id + i, cfg = { kernel = k }, hash = k .. first_id } end
      b:submit(trials)
      local by, t0 = {}, sys.now_ms()
      while b:pending() > 0 and sys.now_ms() - t0 < 5000 do
        for _, r in ipairs(b:poll(50)) do by[r.cfg.kernel] = r end
      end
      return by
    end
    local by = run({ "a10", "b10", "c30", "d10" }, 0) -- b10 waits for a10, in flight
    for _, k in ipairs { "a10", "b10", "c30", "d10" } do assert.is_true(by[k] and by[k].ok, k) end
    assert.are.equal(1, by.b10.twin_of)
    assert.are.equal(by.a10.latency_us, by.b10.latency_us)
    assert.are.equal(0, by.b10.bench_ms)
    assert.is_nil(by.a10.twin_of)
    assert.is_nil(by.d10.twin_of, "a larger grid is another experiment")
    -- d10 shares a10's compile (equal jobs) but is timed on its own
    assert.are.same({ "fake_copy_10", "fake_copy_30" }, { table.unpack(submitted, n0 + 1) })
    local again = run({ "b10" }, 10) -- measured already: answered at once, nothing compiled
    assert.are.equal(1, again.b10.twin_of)
    assert.are.equal(2, #submitted - n0)
    assert.are.equal(5, b:stats().evals)
    b:close()
    -- a tune says how many of its evals were twins
    local b2 = assert(live.open(p, { fake = true, compiler = counting, time_cap_ms = 5, baseline = false }))
    local res = htune.tune { problem = p, strategy = "exhaustive", backend = b2, budget = { evals = 4 }, quiet = true, rebench_k = 0 }
    b2:close()
    assert.are.equal(4, res.evals)
    assert.are.equal(1, res.twins)
  end)

  it("times the baseline at open and again at rebench, keeping the best", function()
    local live = require "htune.backends.live"
    local p = fake_problem(KERNELS)
    local b = assert(live.open(p, { fake = true, compiler = fake_compiler, time_cap_ms = 10, baseline = { name = "memcpy", params = { 0 } } }))
    assert.are.equal("memcpy", b.info.baseline_name, tostring(b.info.baseline_message))
    assert.are.equal(1, #b.info.baseline_times_us)
    b:rebench { { kernel = "fake_copy_8" } }
    local times = b.info.baseline_times_us
    assert.are.equal(2, #times)
    assert.are.equal(math.min(times[1], times[2]), b.info.baseline_us)
    b:close()
  end)

  it("times a wrong kernel without the reference check when opts.check is false", function()
    local live = require "htune.backends.live"
    local p = fake_problem { "fake_wrong_10", "fake_copy_8" }
    for _, check in ipairs { true, false } do
      local b = assert(live.open(p, { fake = true, compiler = fake_compiler, time_cap_ms = 10, check = check }))
      local res = assert(htune.evaluate(p, { { kernel = "fake_wrong_10" }, { kernel = "fake_copy_8" } }, { backend_object = b }))
      b:close()
      if check then
        assert.are.equal("wrong", res[1].reason)
      else
        assert.is_true(res[1].ok, tostring(res[1].reason))
        assert.is_true(math.abs(res[1].latency_us - 10) < 0.3, tostring(res[1].latency_us))
      end
      assert.is_true(res[2].ok)
    end
  end)

  it("streams results with reasons and keeps going after faults", function()
    local live = require "htune.backends.live"
    local p = fake_problem(KERNELS)
    local b = assert(live.open(p, { fake = true, compiler = fake_compiler, time_cap_ms = 10, watchdog_floor_ms = 400, watchdog_mult = 1 }))
    assert.are.equal("htune fake GPU", b.info.device)
    local trials = {}
    for i, k in ipairs(KERNELS) do trials[i] = { id = i, cfg = { kernel = k }, hash = p.space:hash { kernel = k } } end
    b:submit(trials)
    local by = {}
    local t0 = sys.now_ms()
    while b:pending() > 0 and sys.now_ms() - t0 < 8000 do
      for _, r in ipairs(b:poll(100)) do by[r.cfg.kernel] = r end
    end
    assert.are.equal(0, b:pending())
    assert.is_true(by.fake_copy_10.ok)
    assert.is_true(math.abs(by.fake_copy_10.latency_us - 10) < 0.3)
    assert.are.equal("cutoff", by.fake_copy_30.reason)   -- 3x the best so far: stopped early
    assert.are.equal("wrong", by.fake_wrong_10.reason)
    assert.are.equal("fault", by.fake_fault.reason)
    assert.are.equal("compile", by.bad_syntax.reason)
    assert.matches("does not compile", by.bad_syntax.log)
    assert.are.equal("timeout", by.fake_hang.reason)
    assert.is_true(by.fake_copy_8.ok)
    local st = b:stats()
    assert.are.equal(#KERNELS, st.evals)
    assert.are.equal(2, st.restarts)
    assert.is_true(st.idle_share >= 0 and st.idle_share <= 1)
    local rb = b:rebench { { kernel = "fake_copy_8" } }
    assert.is_true(rb[1].ok)
    assert.is_true(rb[1].stats.batch > 1)   -- measured the screen's way: an 8 us kernel is batched
    b:close()
  end)
end)

describe("htune.evaluate", function()
  it("yields results as they complete, through an iterator or a callback", function()
    local p = fake_problem { "fake_copy_10", "fake_copy_12" }
    local cfgs = { { kernel = "fake_copy_10" }, { kernel = "fake_copy_12" } }
    local opts = { fake = true, compiler = fake_compiler, time_cap_ms = 5, cutoff = false, iterate = true }
    local seen = 0
    for r in htune.evaluate(p, cfgs, opts) do
      seen = seen + 1
      assert.is_true(r.ok)
    end
    assert.are.equal(2, seen)
    local n = 0
    opts.iterate, opts.on_result = nil, function(r) n = n + 1 end
    local all, st = htune.evaluate(p, cfgs, opts)
    assert.are.equal(2, #all)
    assert.are.equal("fake_copy_12", all[2].cfg.kernel)   -- results in the configs' order
    assert.is_true(math.abs(all[2].latency_us - 12) < 0.3)
    assert.is_true(st.idle_share < 1)   -- stats survive the backend's close
    assert.are.equal(2, n)
    assert.are.equal(2, st.evals)
  end)
end)

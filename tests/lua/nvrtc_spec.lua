-- htune.nvrtc: real NVRTC compiles of tiny kernels (skipped without libnvrtc), bad input as
-- failed results, misuse raising, submit/wait_any, and the disk cache (hit, corruption, eviction).
local nv = require "htune.nvrtc"
local sys = require "htune.sys"

local KERNEL = "template<int N> __global__ void k(float *x) { __shared__ float s[N]; s[threadIdx.x] = x[0];"
  .. " __syncthreads(); x[threadIdx.x] = s[N - 1 - threadIdx.x]; }"

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  return d
end

-- Other specs share this module's state: every test puts the cache settings back.
local saved
local function save_cache() saved = nv.cache() end
local function restore_cache()
  nv.cache { enabled = saved.enabled, dir = saved.dir, max_bytes = saved.max_bytes }
end

local function with_cache(fn)
  local dir = tmpdir()
  nv.cache { dir = dir, enabled = true, max_bytes = 1 << 30 }
  local ok, err = pcall(fn, dir)
  nv.cache_clear()
  os.remove(dir)
  assert(ok, err)
end

describe("htune.nvrtc without the library", function()
  it("says whether NVRTC is available and why not", function()
    assert.is_boolean(nv.available)
    if not nv.available then
      local r, msg, code = nv.compile { source = KERNEL }
      assert.is_nil(r)
      assert.matches("libnvrtc", msg)
      assert.are.equal("ENONVRTC", code)
    end
  end)

  it("raises on misuse, naming the field", function()
    assert.has_error(function() nv.compile("x") end)
    assert.has_error(function() nv.compile { source = 5 } end, "job.source: expected a string, got number")
    assert.has_error(function() nv.compile { source = "", options = { 1 } } end, "job.options[1]: expected a string, got number")
    assert.has_error(function() nv.compile { source = "", defines = { X = {} } } end)
    assert.has_error(function() nv.threads(0) end)
    assert.has_error(function() nv.wait_any({ 1 }) end)
  end)
end)

describe("htune cache (CLI)", function()
  local function run_cli(args)
    local out, real = {}, io.stdout
    io.stdout = { write = function(_, ...) for _, v in ipairs { ... } do out[#out + 1] = v end end }
    local ok, code = pcall(require("htune.cli.cache").run, args)
    io.stdout = real
    assert(ok, code)
    return code, table.concat(out)
  end

  it("prints stats and clears a given directory", function()
    local saved_settings = nv.cache()
    local dir = tmpdir()
    local code, text = run_cli { "stats", "--dir", dir }
    assert.are.equal(0, code)
    assert.matches("entries +0", text)
    assert.matches(dir, text, 1, true)
    code, text = run_cli { "clear", "--dir", dir }
    assert.are.equal(0, code)
    assert.matches("removed 0 entries", text)
    os.remove(dir)
    nv.cache { dir = saved_settings.dir }
  end)
end)

if not nv.available then
  print("skip: real NVRTC tests: " .. tostring(nv.unavailable_reason))
  return
end

describe("htune.nvrtc compiles", function()
  before_each(function() save_cache(); nv.cache { enabled = false } end)
  after_each(restore_cache)

  it("returns cubin, lowered names and ptxas facts", function()
    local r = nv.compile { source = KERNEL, name_exprs = { "k<64>", "k<128>" }, defines = { UNUSED = 1 } }
    assert.is_true(r.ok, r.log)
    assert.are.equal("\127ELF", r.cubin:sub(1, 4))
    assert.are.equal("_Z1kILi64EEvPf", r.lowered["k<64>"])
    assert.are.equal(512, r.facts["k<128>"].smem_bytes)
    assert.is_true(r.facts["k<64>"].regs > 0)
    assert.are.equal(r.facts["k<64>"], r.facts["_Z1kILi64EEvPf"])
    assert.are.equal(0, r.facts["k<64>"].spill_stores)
    assert.is_false(r.cached)
    assert.is_true(r.compile_ms > 0)
    assert.are.equal(os.getenv("HTUNE_ARCH") or "sm_90", r.arch)
  end)

  it("reports libnvrtc's huge-page move, done once a process", function()
    local t = nv.huge_text()
    assert.is_string(t.note)
    assert.is_true(t.remapped >= 0 and t.remapped % (2 << 20) == 0, t.note)
    assert.is_true(t.huge <= t.remapped, t.note)
    if os.getenv("HTUNE_HUGE_TEXT") == "0" then assert.matches("off", t.note) end
    assert.are.same(t, nv.huge_text())
    assert.is_true(nv.compile { source = KERNEL, name_exprs = { "k<32>" } }.ok)
  end)

  it("leaves NVRTC's own cache off from 13.0 unless HTUNE_NVRTC_DRIVER_CACHE=1", function()
    local _, major = nv.version()
    local keep = os.getenv("HTUNE_NVRTC_DRIVER_CACHE") == "1"
    assert.are.equal(major < 13 or keep, nv.driver_cache())
    -- the compile then carries --no-cache, and NVRTC takes it (the disk cache is off here)
    local r = nv.compile { source = KERNEL, name_exprs = { "k<32>" } }
    assert.is_true(r.ok, r.log)
    assert.is_false(r.cached)
  end)

  it("turns bad input into failed results with NVRTC's log", function()
    local cases = {
      { job = { source = "__global__ void k( {" }, log = "error" },
      { job = { source = KERNEL, options = { "--no-such-option" } }, err = "NVRTC_ERROR_INVALID_OPTION" },
      { job = { source = '#include "no_such_header.h"\n' }, log = "no_such_header" },
      { job = { source = KERNEL, arch = "sm_1" }, err = "NVRTC_ERROR_INVALID_OPTION" },
      { job = { source = KERNEL, name_exprs = { "no_such_kernel<3>" } }, log = "no_such_kernel" },
    }
    for i, c in ipairs(cases) do
      local r = nv.compile(c.job)
      assert.is_false(r.ok, "case " .. i)
      assert.is_string(r.error)
      assert.is_nil(r.cubin)
      if c.err then assert.are.equal(c.err, r.error, "case " .. i) end
      if c.log then assert.matches(c.log, r.log, 1, true) end
    end
  end)

  it("compiles an empty source and a 10 MB source", function()
    local r = nv.compile { source = "" }
    assert.is_true(r.ok, r.log)
    local big = "__global__ void big(float *x) { x[0] = 1; }\n" .. ("// " .. ("x"):rep(1020) .. "\n"):rep(10 * 1024)
    assert.is_true(#big > 10e6)
    r = nv.compile { source = big, name_exprs = { "big" } }
    assert.is_true(r.ok, r.log)
    assert.are.equal("_Z3bigPf", r.lowered.big)
  end)
end)

describe("htune.nvrtc jobs", function()
  before_each(function() save_cache(); nv.cache { enabled = false } end)
  after_each(restore_cache)

  it("submits, waits, and wait_any finds every job once", function()
    local handles, want = {}, {}
    for i = 1, 4 do
      handles[i] = nv.submit { source = KERNEL, name_exprs = { ("k<%d>"):format(32 * i) } }
      want[("k<%d>"):format(32 * i)] = true
    end
    assert.matches("htune.CompileJob", tostring(handles[1]))
    local pending = { table.unpack(handles) }
    while #pending > 0 do
      local idx, r = nv.wait_any(pending)
      assert.is_true(r.ok, r.log)
      local expr = next(r.lowered)
      assert.is_true(want[expr])
      want[expr] = nil
      table.remove(pending, idx)
    end
    assert.is_nil(next(want))
    assert.is_true(handles[1]:ready())
    assert.is_true(handles[1]:wait().ok)
  end)

  it("wait_any times out with nil", function()
    local h = nv.submit { source = KERNEL, name_exprs = { "k<512>" } }
    local t0 = sys.now_ms()
    local idx = nv.wait_any({ h }, 1) -- a compile takes tens of ms
    assert.is_nil(idx)
    assert.is_true(sys.now_ms() - t0 < 1000)
    assert.is_true(h:wait().ok)
  end)

  it("compiles a batch job with several name expressions in one program", function()
    local idx, r = nv.wait_any { nv.submit { source = KERNEL, name_exprs = { "k<16>", "k<48>" } } }
    assert.are.equal(1, idx)
    assert.are.equal("_Z1kILi16EEvPf", r.lowered["k<16>"])
    assert.are.equal("_Z1kILi48EEvPf", r.lowered["k<48>"])
    assert.are.equal(64, r.facts["k<16>"].smem_bytes)
  end)

  it("withdraws queued compiles on cancel; a started or finished one is not withdrawn", function()
    -- one program per job: coalescing would let the thread take 4 into job 1's program
    -- (header-free sources batch), and a started job is not withdrawn
    local before, cache, batch = nv.threads(1), nv.cache(), nv.max_batch()
    nv.cache { enabled = false }
    nv.max_batch(1)
    local ok, err = pcall(function()
      local hs = {}
      for i = 1, 6 do hs[i] = nv.submit { source = KERNEL, name_exprs = { ("k<%d>"):format(40 + i) } } end
      local withdrawn = 0
      for i = 4, 6 do withdrawn = withdrawn + (hs[i]:cancel() and 1 or 0) end
      assert.are.equal(3, withdrawn) -- one thread, tens of ms a compile: 4..6 are still queued
      assert.is_false(hs[5]:cancel())
      local r = hs[5]:wait()
      assert.is_false(r.ok)
      assert.are.equal("cancelled", r.error)
      for i = 1, 3 do assert.is_true(hs[i]:wait().ok) end
      assert.is_false(hs[1]:cancel())
    end)
    nv.threads(before)
    nv.max_batch(batch)
    nv.cache { enabled = cache.enabled }
    assert(ok, err)
  end)

  it("closes a handle and refuses to use it after", function()
    local h = nv.submit { source = KERNEL, name_exprs = { "k<8>" } }
    h:close()
    assert.has_error(function() h:wait() end, "htune.CompileJob: used after close")
  end)
end)

describe("htune.nvrtc disk cache", function()
  before_each(save_cache)
  after_each(restore_cache)
  it("hits the second time and recompiles a corrupt entry", function()
    with_cache(function(dir)
      local job = { source = KERNEL, name_exprs = { "k<96>" } }
      local a = nv.compile(job)
      assert.is_false(a.cached)
      local b = nv.compile(job)
      assert.is_true(b.cached)
      assert.are.equal(a.cubin, b.cubin)
      assert.are.equal(a.lowered["k<96>"], b.lowered["k<96>"])
      assert.are.equal(a.facts["k<96>"].regs, b.facts["k<96>"].regs)
      local h = nv.submit(job)
      assert.is_true(h:ready()) -- a hit is ready at once
      local names = sys.listdir(dir)
      assert.are.equal(1, #names)
      local f = assert(io.open(dir .. "/" .. names[1], "r+b"))
      f:seek("set", 100)
      f:write("garbage")
      f:close()
      local c = nv.compile(job)
      assert.is_false(c.cached)
      assert.are.equal(a.cubin, c.cubin)
      local st = nv.cache_stats()
      assert.are.equal(1, st.corrupt)
      assert.are.equal(1, st.entries)
      assert.are.equal(2, st.hits)
    end)
  end)

  it("keys on options and arch, and evicts down to max_bytes", function()
    with_cache(function()
      local a = nv.compile { source = KERNEL, name_exprs = { "k<32>" } }
      local b = nv.compile { source = KERNEL, name_exprs = { "k<32>" }, options = { "-lineinfo" } }
      assert.is_false(b.cached)
      local size = nv.cache_stats().bytes
      nv.cache { max_bytes = size }
      nv.compile { source = KERNEL, name_exprs = { "k<64>" } }
      local st = nv.cache_stats()
      assert.is_true(st.bytes <= size)
      assert.is_true(st.evicted >= 1)
      assert.are.equal(st.entries, nv.cache_clear())
      assert.are.equal(0, nv.cache_stats().entries)
      assert.is_true(#a.cubin > 0)
    end)
  end)

  -- Real NVRTC at a scale this 2-core machine runs in ~2 s: 2 threads x 240 submits of 12 tiny
  -- configs in 4 rounds, 3 random entries corrupted before each round; every result must be ok,
  -- lower its own name and carry a cubin holding that kernel.
  it("stays correct under concurrent submits with random corruption", function()
    with_cache(function(dir)
      local rng = require("htune.rng")(7)
      local threads_before = nv.threads(2)
      local done, batched = 0, 0
      local incdir = tmpdir()
      sys.mkdirs(incdir)
      local hf = assert(io.open(incdir .. "/tiny.h", "w"))
      hf:write("#define TINY_SCALE 2\n")
      hf:close()
      local src = '#include "tiny.h"\n' .. KERNEL -- an #include makes jobs eligible for batching
      for round = 1, 4 do
        local names = sys.listdir(dir) or {}
        for _ = 1, math.min(3, #names) do
          local f = io.open(dir .. "/" .. names[rng:int(1, #names)], "r+b")
          if f then f:seek("set", rng:int(0, 200)); f:write("\0\1\2"); f:close() end
        end
        local handles, exprs = {}, {}
        for i = 1, 60 do
          exprs[i] = ("k<%d>"):format(8 * rng:int(1, 12))
          handles[i] = nv.submit { source = src, name_exprs = { exprs[i] }, include_dirs = { incdir } }
        end
        for i, h in ipairs(handles) do
          local r = h:wait()
          assert.is_true(r.ok, r.log)
          local mangled = r.lowered[exprs[i]]
          assert.are.equal(("_Z1kILi%dEEvPf"):format(tonumber(exprs[i]:match("%d+"))), mangled)
          assert.is_truthy(r.cubin:find(mangled, 1, true))
          done = done + 1
          batched = batched + (r.batch > 1 and 1 or 0)
        end
      end
      nv.threads(threads_before)
      os.remove(incdir .. "/tiny.h")
      os.remove(incdir)
      assert.are.equal(240, done)
      assert.is_true(batched > 0) -- the first round's 60 misses queue deep enough to coalesce
      assert.is_true(nv.cache_stats().hits > 100)
      assert.is_true(nv.cache_stats().corrupt > 0) -- corrupt entries were read, caught, recompiled
    end)
  end)
end)

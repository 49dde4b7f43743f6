-- Kernel library on the CPU: the problem loader, each spec's space (invalid configs rejected by
-- bound or constraint, never by a compile failure), launch geometry, and NVRTC compiling a
-- sample of valid configs of each template in one program. HTUNE_KERNELS_SAMPLE=N compiles N
-- configs per kernel (the issue's 50 takes about a minute for matmul on 2 cores); the
-- default keeps the suite fast: 2 matmul and 10 softmax configs plus the references.
local htune = require "htune"
local sys = htune.sys

local SAMPLE = tonumber(os.getenv("HTUNE_KERNELS_SAMPLE") or "")
local SAMPLES = { matmul = SAMPLE or 2, softmax = SAMPLE or 10, matmul_wgmma = SAMPLE or 2 }

local nvrtc = htune.nvrtc
local HAVE_NVRTC = nvrtc ~= nil and nvrtc.version() ~= nil -- else the compile tests are pending

-- Compiles from here on bypass the disk cache: each test reads a fresh compile's cubin.
local function cache_off()
  local dir = os.tmpname()
  os.remove(dir)
  nvrtc.cache { dir = dir, enabled = false }
end

-- Compiles exprs of p's source for sm_90a with options and defines, each of extra (a variant
-- under test) over them; asserts it compiled.
local function compile_with(p, exprs, options, defines, extra)
  local d = {}
  for k, v in pairs(defines) do d[k] = v end
  for k, v in pairs(extra or {}) do d[k] = v end
  local res = nvrtc.compile { source = p.source, name = "matmul.cu", name_exprs = exprs, options = options,
                              defines = d, arch = "sm_90a" }
  assert.is_true(res.ok, res.log)
  return res
end

-- Name expressions of n sampled configs with distinct kernels (of those keep(cfg) accepts, if given).
local function distinct_exprs(p, n, seed, keep)
  local r, seen, exprs = htune.rng(seed), {}, {}
  for _ = 1, 50 * n do
    if #exprs >= n then break end
    local c = p.space:sample(r)
    local e = p.compile(c).name_expr
    if not seen[e] and (not keep or keep(c)) then seen[e] = true; exprs[#exprs + 1] = e end
  end
  return exprs
end

describe("htune.problem", function()
  it("loads a spec by name with source, hash and key", function()
    local p = htune.problem("matmul", { M = 1000, N = 1000, K = 1000 })
    assert.are.equal("matmul/1000x1000x1000/fp16", p.key)
    assert.are.equal(sys.hash(p.source), p.source_hash)
    assert.matches("matmul_kernel", p.source)
    assert.are.equal(2 * 1000 ^ 3, p.flops)
    assert.are.equal(2 * 3 * 1000 * 1000, p.bytes)
    for _, k in ipairs { "describe", "buffers", "reference", "tolerance" } do assert.is_truthy(p[k]) end
  end)

  it("loads a spec by path", function()
    local p = htune.problem(sys.root .. "/kernels/softmax/spec.lua", { rows = 4097, cols = 129 })
    assert.are.equal("softmax/4097x129/fp16", p.key)
  end)

  it("reports a missing spec as ENOENT and raises on a bad option naming it", function()
    local p, msg, code = htune.problem("no_such_kernel", {})
    assert.is_nil(p)
    assert.are.equal("ENOENT", code)
    assert.matches("no_such_kernel", msg)
    local ok, err = pcall(htune.problem, "matmul", { M = 0 })
    assert.is_false(ok)
    assert.matches("opts.M", err)
    ok, err = pcall(htune.problem, "matmul", { dtype = "bf16" })
    assert.is_false(ok)
    assert.matches("bf16", err)
  end)

  it("adds opts.defines to every config program and to the key, not to the reference", function()
    local plain = htune.problem("matmul", { M = 1024, N = 1024, K = 1024 })
    local p = htune.problem("matmul", { M = 1024, N = 1024, K = 1024, defines = { MATMUL_FUSED_PROLOGUE = 1, B = "x" } })
    assert.are.equal(plain.key .. "+B=x,MATMUL_FUSED_PROLOGUE=1", p.key)
    local c = p.space:default()
    local d = p.compile(c).defines
    assert.are.equal(1, d.MATMUL_FUSED_PROLOGUE)
    assert.are.equal("x", d.B)
    assert.are.equal(plain.compile(c).defines.MATMUL_EVEN, d.MATMUL_EVEN, "the spec's own defines stay")
    assert.is_nil(plain.compile(c).defines.MATMUL_FUSED_PROLOGUE)
    assert.are.equal(plain.reference.name_expr, p.reference.name_expr)
    assert.is_nil(p.reference.defines)
    for _, bad in ipairs { { ["1X"] = 1 }, { X = 1.5 }, { X = {} } } do
      local ok, err = pcall(htune.problem, "matmul", { defines = bad })
      assert.is_false(ok)
      assert.matches("opts.defines", err)
    end
    local ok, err = pcall(htune.problem, "matmul", { defines = "X=1" })
    assert.is_false(ok)
    assert.matches("must be a table", err)
  end)

  local test = HAVE_NVRTC and it or pending
  test("gives a spec's config programs -minimal (minimal = true), which leaves the cubin as it is", function()
    local _, major, minor = nvrtc.version()
    local has = major > 12 or (major == 12 and minor >= 4)
    for _, name in ipairs { "matmul", "matmul_wgmma", "softmax" } do
      local p = htune.problem(name)
      local opts = p.compile(p.space:default()).options or {}
      assert.are.equal(has and "-minimal" or nil, opts[#opts], name)
    end
    local p = htune.problem("softmax", { rows = 4097, cols = 256 })
    local ce = p.compile(p.space:default())
    local plain = {}
    for _, o in ipairs(ce.options) do if o ~= "-minimal" then plain[#plain + 1] = o end end
    assert.are_not.equal(#plain, #ce.options)
    cache_off()
    local function cubin(options)
      local r = nvrtc.compile { source = p.source, name = "softmax.cu", name_exprs = { ce.name_expr },
                                options = options, defines = ce.defines, arch = "sm_90a" }
      assert.is_true(r.ok, r.log)
      return r.cubin
    end
    assert.are.equal(cubin(plain), cubin(ce.options))
  end)
end)

describe("htune.problem source_files", function()
  -- A throwaway kernel tree: <root>/common/h.cuh shared, <root>/k/spec.lua + k.cu.
  local root = os.tmpname()
  os.remove(root)
  local function write(rel, text)
    local f = assert(io.open(root .. "/" .. rel, "wb"))
    f:write(text)
    f:close()
  end
  local function spec(files)
    write("k/spec.lua", string.format([[return function() return { name = "k", source_files = %s,
      space = {}, compile = print, launch = print, buffers = {}, args = print, reference = {},
      tolerance = {}, flops = 1, bytes = 1, describe = {} } end]], files))
    return root .. "/k/spec.lua"
  end
  setup(function()
    assert(sys.mkdirs(root .. "/common") and sys.mkdirs(root .. "/k"))
    write("common/h.cuh", "typedef unsigned short h16;\n")
    write("k/k.cu", 'extern "C" __global__ void k(h16* p) { p[0] = 1; }\nint broken')
  end)
  teardown(function()
    for _, f in ipairs { "common/h.cuh", "k/k.cu", "k/spec.lua", "common", "k", "" } do os.remove(root .. "/" .. f) end
  end)

  it("joins the files into one source, no #include, each part after a #line naming it", function()
    local p = assert(htune.problem(spec '{ "../common/h.cuh", "k.cu" }', {}))
    assert.are.equal('#line 1 "../common/h.cuh"\ntypedef unsigned short h16;\n'
      .. '#line 1 "k.cu"\nextern "C" __global__ void k(h16* p) { p[0] = 1; }\nint broken\n', p.source)
    assert.is_nil(p.source:find("#include", 1, true))
    assert.are.equal(sys.hash(p.source), p.source_hash)
    write("common/h.cuh", "typedef unsigned short h16; // edited\n")
    local q = assert(htune.problem(root .. "/k/spec.lua", {}))
    assert.are_not.equal(p.source_hash, q.source_hash)
    assert.matches("edited", q.source)
  end)

  it("reports a missing part as ENOENT and raises on a bad list naming the field", function()
    local p, msg, code = htune.problem(spec '{ "../common/h.cuh", "nope.cu" }', {})
    assert.is_nil(p)
    assert.are.equal("ENOENT", code)
    assert.matches("nope.cu", msg)
    local ok, err = pcall(htune.problem, spec '{ "../common/h.cuh", 7 }', {})
    assert.is_false(ok)
    assert.matches("source_files%[2%]", err)
    ok, err = pcall(htune.problem, spec '{}', {})
    assert.is_false(ok)
    assert.matches("source_files must be a non%-empty list", err)
  end)

  local test = HAVE_NVRTC and it or pending
  test("NVRTC names the part and its line in a compile error", function()
    local p = assert(htune.problem(spec '{ "../common/h.cuh", "k.cu" }', {}))
    cache_off()
    local res = nvrtc.compile { source = p.source, name = "k.cu", name_exprs = { "k" }, arch = "sm_90" }
    assert.is_false(res.ok)
    assert.matches('k%.cu%(2%)', res.log)
  end)

  it("gives the shipped templates the shared fp16 helpers in their one source", function()
    for _, name in ipairs { "matmul", "matmul_wgmma", "softmax" } do
      local p = htune.problem(name, {})
      local src = p.source
      assert.is_nil(src:find("#include", 1, true), name)
      assert.is_truthy(src:find('#line 1 "../common/fp16.cuh"\n', 1, true), name)
      local _, helpers = src:gsub("float h2f%(h16 h%)", "")
      assert.are.equal(1, helpers, name)
      assert.is_truthy(src:find(p.reference.name_expr .. "(", 1, true), name)
    end
  end)
end)

describe("matmul spec", function()
  local p = htune.problem("matmul", { M = 1024, N = 1024, K = 1024, sm_count = 132 })

  it("rejects configs over shared memory, without a warp layout, or over registers", function()
    local base = p.space:default()
    local function with(t)
      local c = {}
      for k, v in pairs(base) do c[k] = v end
      for k, v in pairs(t) do c[k] = v end
      return p.space:validate(c)
    end
    assert.is_true((with {}))
    local ok, why = with { block_m = 256, block_n = 256, block_k = 128, num_stages = 8 }
    assert.is_false(ok)
    assert.matches("smem", why)
    ok, why = with { block_m = 16, block_n = 16, num_warps = 16 }
    assert.is_false(ok)
    assert.matches("warp", why)
    ok, why = with { block_m = 256, block_n = 256, block_k = 16, num_warps = 1, num_stages = 2 }
    assert.is_false(ok)
    assert.matches("register", why)
  end)

  it("samples only configs that fit the chip", function()
    local r = htune.rng(3)
    for _ = 1, 300 do
      local c = p.space:sample(r)
      local wm, wn = p.warp_layout(c.block_m, c.block_n, c.num_warps)
      assert.is_truthy(wm)
      assert.are.equal(0, (c.block_m // wm) % 16)
      assert.are.equal(0, (c.block_n // wn) % 16)
      assert.is_true(p.smem_bytes(c) <= 232448)
      assert.is_true(p.regs_estimate(c) <= math.min(255, 65536 // (c.num_warps * 32)))
      local l = p.launch(c)
      assert.are.equal(c.num_warps * 32, l.block[1])
      assert.are.equal(p.smem_bytes(c), l.smem)
    end
  end)

  it("covers every tile with the flat grid and caps the persistent one", function()
    local c = p.space:default()
    c.block_m, c.block_n, c.pid_type = 128, 64, "flat"
    assert.are.same({ 8 * 16, 1, 1 }, p.launch(c).grid)
    c.pid_type = "xyz"
    assert.are.same({ 16, 8, 1 }, p.launch(c).grid)
    c.pid_type = "persistent_interleaved"
    assert.is_true(p.launch(c).grid[1] <= 128)
    local big = htune.problem("matmul", { M = 8192, N = 8192, K = 64, sm_count = 132 })
    c.block_m, c.block_n = 256, 128
    assert.is_true(big.launch(c).grid[1] <= 132 * 8)
  end)

  it("maps a config to template arguments", function()
    local c = { block_m = 128, block_n = 256, block_k = 64, num_warps = 8, num_stages = 3,
                pid_type = "persistent_interleaved", l2_grouping = 8, loop_order = { 1, 0 },
                load_eviction_policies = { "first", "last" }, vector_width = 8 }
    assert.is_true((p.space:validate(c)))
    -- By default the tile order is two kernel arguments (GROUP 0 in the template): group 4, not
    -- 8: N-major order over 1024 / 256 = 4 tile columns, and any group of 4 or more is the same
    -- order (the next test); order 1.
    assert.are.equal("matmul_kernel<128,256,64,2,4,3,3,0,0,8,1,2>", p.compile(c).name_expr)
    local a = p.args(c)
    assert.are.equal(8, #a)
    assert.are.same({ { i32 = 4 }, { i32 = 1 } }, { a[7], a[8] })
    assert.are.equal(6, #p.reference.args())
    -- tile_order = "compiled" puts them in the template instead
    local pc = htune.problem("matmul", { M = 1024, N = 1024, K = 1024, sm_count = 132, tile_order = "compiled" })
    assert.are.equal("matmul_kernel<128,256,64,2,4,3,3,4,1,8,1,2>", pc.compile(c).name_expr)
    c.l2_grouping = 2
    assert.are.equal("matmul_kernel<128,256,64,2,4,3,3,2,1,8,1,2>", pc.compile(c).name_expr)
    assert.are.equal("matmul_kernel<128,256,64,2,4,3,3,0,0,8,1,2>", p.compile(c).name_expr)
    assert.are.same({ i32 = 2 }, p.args(c)[7])
    local ok, err = pcall(htune.problem, "matmul", { M = 64, N = 64, K = 64, tile_order = "dynamic" })
    assert.is_false(ok)
    assert.matches("tile_order must be 'runtime' or 'compiled', got 'dynamic'", tostring(err), 1, true)
  end)

  it("gives configs that differ only in arguments that change nothing one compile job", function()
    local P = require("htune.problem")
    local pc = htune.problem("matmul", { M = 1024, N = 1024, K = 1024, sm_count = 132, tile_order = "compiled" })
    local function cfg(t)
      local c = { block_m = 64, block_n = 64, block_k = 64, num_warps = 4, num_stages = 2, pid_type = "flat",
                  l2_grouping = 4, loop_order = { 0, 1 }, load_eviction_policies = { "", "" }, vector_width = 4 }
      for k, v in pairs(t) do c[k] = v end
      assert.is_true((p.space:validate(c)))
      return c
    end
    local function job(t, q) return P.job_key((q or p).compile(cfg(t))) end
    local function trial(t, q) return P.experiment_key(q or p, cfg(t)) end
    -- eviction hints act only on the 16-byte cp.async path (vector_width 8)
    assert.are.equal(job {}, job { load_eviction_policies = { "first", "last" } })
    assert.are_not.equal(job { vector_width = 8 }, job { vector_width = 8, load_eviction_policies = { "first", "" } })
    -- the tile order is kernel arguments: one compile job for every group and order ...
    assert.are.equal(job { l2_grouping = 8 }, job { l2_grouping = 16, loop_order = { 1, 0 } })
    -- ... and one trial where the order is the same: 1024 / 64 = 16 tiles along M, so every
    -- group of 16 or more is one group
    assert.are.equal(trial { l2_grouping = 16 }, trial { l2_grouping = 64 })
    assert.are.equal(trial { l2_grouping = 16 }, trial { l2_grouping = 32 })
    assert.are_not.equal(trial { l2_grouping = 8 }, trial { l2_grouping = 16 })
    assert.are_not.equal(trial { l2_grouping = 8 }, trial { l2_grouping = 8, loop_order = { 1, 0 } })
    -- compiled in, the same classes are compile jobs
    assert.are.equal(job({ l2_grouping = 16 }, pc), job({ l2_grouping = 64 }, pc))
    assert.are_not.equal(job({ l2_grouping = 8 }, pc), job({ l2_grouping = 16 }, pc))
    assert.matches("^matmul_kernel<64,64,64,2,2,2,0,16,0,4,0,0>|", job({ l2_grouping = 64, load_eviction_policies = { "last", "" } }, pc))
  end)

  it("compiles without edge code only when every tile divides the shape", function()
    local c = p.space:default()
    c.block_m, c.block_n, c.block_k = 128, 128, 32
    assert.are.equal(1, htune.problem("matmul", { M = 1024, N = 512, K = 256 }).compile(c).defines.MATMUL_EVEN)
    for _, shape in ipairs { { M = 1000, N = 1024, K = 1024 }, { M = 1024, N = 1000, K = 1024 }, { M = 1024, N = 1024, K = 1000 } } do
      assert.are.equal(0, htune.problem("matmul", shape).compile(c).defines.MATMUL_EVEN)
    end
  end)
end)

describe("matmul spec, loads = tma", function()
  local function tma(shape)
    local o = { loads = "tma" }
    for k, v in pairs(shape or { M = 1024, N = 1024, K = 1024 }) do o[k] = v end
    return htune.problem("matmul", o)
  end
  local function cfg(p, t)
    local c = p.space:default()
    c.block_m, c.block_n, c.block_k, c.num_warps, c.num_stages = 128, 256, 64, 8, 4
    for k, v in pairs(t or {}) do c[k] = v end
    return c
  end
  it("raises on an unknown opts.loads, naming it", function()
    local ok, err = pcall(htune.problem, "matmul", { M = 64, N = 64, K = 64, loads = "bulk" })
    assert.is_false(ok)
    assert.matches("opts.loads must be 'cp_async', 'tma' or 'tma_ws', got 'bulk'", err, 1, true)
  end)
  it("rejects tiles that are not 64-wide panels, one stage and unaligned rows, naming the values", function()
    local p = tma()
    assert.is_true(p.space:validate(cfg(p)))
    for _, loads in ipairs { "tma", "tma_ws" } do   -- strategies start from the default
      for _, shape in ipairs { { M = 1024, N = 1024, K = 1024 }, { M = 4096, N = 4096, K = 4096 }, { M = 64, N = 64, K = 64 } } do
        local q = tma { M = shape.M, N = shape.N, K = shape.K, loads = loads }
        assert.is_true(q.space:validate(q.space:default()))
      end
    end
    local function why(t, q) local ok, e = (q or p).space:validate(cfg(q or p, t)); assert.is_false(ok); return e end
    assert.matches("block_k and block_n must be multiples of 64, got 32 and 256", why { block_k = 32 }, 1, true)
    assert.matches("got 64 and 32", why { block_n = 32, num_warps = 4 }, 1, true)
    assert.matches("two or more stages, got 1", why { num_stages = 1 }, 1, true)
    assert.matches("K 1024, N 1020", why({}, tma { M = 1024, N = 1020, K = 1024 }), 1, true)
    -- the cp.async space keeps them
    local q = htune.problem("matmul", { M = 1024, N = 1024, K = 1024 })
    assert.is_true(q.space:validate(cfg(q, { block_k = 32 })))
  end)
  it("names matmul_tma_kernel, passes the two maps before the tile order and asks for unpadded stages", function()
    local p = tma { M = 4096, N = 4096, K = 4096 }
    local c = cfg(p, { pid_type = "persistent_blocked" })
    assert.are.equal("matmul_tma_kernel<128,256,64,2,4,4,2,0,0,0>", p.compile(c).name_expr)
    local a = p.args(c)
    assert.are.same({ tmap = "A", rows = 4096, cols = 4096, box_rows = 128, box_cols = 64, swizzle = 128 }, a[7])
    assert.are.same({ tmap = "B", rows = 4096, cols = 4096, box_rows = 64, box_cols = 64, swizzle = 128 }, a[8])
    assert.are.equal(10, #a)
    assert.are.equal(4 * 2 * (128 * 64 + 64 * 256) + 1024, p.launch(c).smem)
    assert.are.equal("sm_90a", p.arch)
    assert.are.equal("matmul/4096x4096x4096/fp16+loads=tma", p.key)   -- kept apart in stores
    assert.are.equal("matmul/4096x4096x4096/fp16", htune.problem("matmul", { M = 4096, N = 4096, K = 4096 }).key)
  end)
  it("adds a producer warpgroup with loads = tma_ws, on 4 or 8 computing warps", function()
    local p = tma { M = 4096, N = 4096, K = 4096, loads = "tma_ws" }
    local c = cfg(p)
    assert.are.equal("matmul_tma_kernel<128,256,64,2,4,4,0,0,0,1>", p.compile(c).name_expr)
    assert.are.equal(8 * 32 + 128, p.launch(c).block[1])
    local ok, err = p.space:validate(cfg(p, { num_warps = 2, block_m = 64, block_n = 64 }))
    assert.is_false(ok)
    assert.matches("num_warps must be 4 or 8, got 2", err, 1, true)
  end)
  it("launches one persistent tma_ws block per SM, two of one warpgroup (MATMUL_WS2) where shared memory allows", function()
    local function grid(defines, t)
      local p = tma { M = 4096, N = 4096, K = 4096, loads = "tma_ws", defines = defines }
      return p.launch(cfg(p, t)).grid[1]
    end
    local w4 = { block_m = 128, block_n = 128, num_warps = 4, num_stages = 3, pid_type = "persistent_blocked" }
    assert.are.equal(264, grid(nil, w4))                   -- MATMUL_WS2 by default
    assert.are.equal(132, grid({ MATMUL_WS2 = 0 }, w4))   -- 224 registers a thread: one block (264 before the producer counted)
    w4.num_stages = 4                                     -- 129 KB of stages: one block by shared memory
    assert.are.equal(132, grid(nil, w4))
    assert.are.equal(132, grid(nil, { pid_type = "persistent_blocked", num_stages = 2 }))   -- 8 warps
  end)
  local compiles = HAVE_NVRTC and it or pending
  compiles("compiles MATMUL_WS2's warpgroup for a 128-register launch, which setmaxnreg's 24 + 232 split needs", function()
    local p = tma { M = 4096, N = 4096, K = 4096, loads = "tma_ws" }
    local ce = p.compile(cfg(p, { block_m = 128, block_n = 128, num_warps = 4, num_stages = 3, pid_type = "persistent_blocked" }))
    cache_off()
    local res = nvrtc.compile { source = p.source, name = "matmul.cu", name_exprs = { ce.name_expr },
                                options = ce.options, defines = ce.defines, arch = "sm_90a" }
    assert.is_true(res.ok, res.log)
    assert.are.equal(128, res.facts[ce.name_expr].regs)
    assert.are.equal(0, res.facts[ce.name_expr].spill_stores)
  end)
  compiles("compiles the try_wait suspend hint (MBAR_SUSPEND_NS) to other code, and off to the same", function()
    local p = tma { M = 4096, N = 4096, K = 4096, loads = "tma_ws" }
    local ce = p.compile(cfg(p, { block_k = 128, num_stages = 2, pid_type = "persistent_blocked" }))
    cache_off()
    local function build(ns) return compile_with(p, { ce.name_expr }, ce.options, ce.defines, { MBAR_SUSPEND_NS = ns }) end
    local plain, zero, hint = build(nil), build(0), build(10000000)
    assert.is_true(plain.cubin == zero.cubin, "MBAR_SUSPEND_NS=0 changed the code")
    assert.is_true(plain.cubin ~= hint.cubin, "the hint changed nothing")
    assert.are.equal(0, hint.facts[ce.name_expr].spill_stores)
  end)
  it("gives configs that differ only in vector width or eviction hints one compile job", function()
    local P, p = require "htune.problem", tma()
    local a, b = cfg(p), cfg(p, { vector_width = 4, load_eviction_policies = { "first", "last" } })
    assert.are.equal(P.job_key(p.compile(a)), P.job_key(p.compile(b)))
  end)
end)

describe("matmul spec, loads = tma_ws with stream_k", function()
  local function sk(shape, extra)
    local o = { loads = "tma_ws", stream_k = true, sm_count = 132 }
    for k, v in pairs(shape or { M = 4096, N = 4096, K = 4096 }) do o[k] = v end
    for k, v in pairs(extra or {}) do o[k] = v end
    return htune.problem("matmul", o)
  end
  local function cfg(p, t)
    local c = p.space:default()
    c.block_m, c.block_n, c.block_k, c.num_warps, c.num_stages, c.pid_type, c.stream_k = 128, 256, 128, 8, 2, "persistent_blocked", 1
    for k, v in pairs(t or {}) do c[k] = v end
    return c
  end
  it("raises without loads = tma_ws, naming the loads, and on a value that is not a boolean", function()
    for _, loads in ipairs { "cp_async", "tma" } do
      local ok, err = pcall(htune.problem, "matmul", { M = 256, N = 256, K = 256, loads = loads, stream_k = true })
      assert.is_false(ok)
      assert.matches("opts.stream_k needs loads = 'tma_ws' (matmul_tma_sk_kernel), got loads '" .. loads .. "'", err, 1, true)
    end
    local ok, err = pcall(htune.problem, "matmul", { loads = "tma_ws", stream_k = 1 })
    assert.is_false(ok)
    assert.matches("opts.stream_k must be true or false, got 1", err, 1, true)
  end)
  it("adds a stream_k parameter (default 0); 1 names matmul_tma_sk_kernel, with W and F after the tile order", function()
    local p = sk()
    assert.are.equal(0, p.space:default().stream_k)
    assert.is_nil(htune.problem("matmul", { loads = "tma_ws" }).space:default().stream_k)
    local c = cfg(p)
    assert.is_true(p.space:validate(c))
    assert.are.equal("matmul_tma_sk_kernel<128,256,128,2,4,2,2,0,0>", p.compile(c).name_expr)
    local a = p.args(c)
    assert.are.same({ "W", "F" }, { a[11], a[12] })
    assert.are.equal(12, #a)
    local whole = cfg(p, { stream_k = 0 })
    assert.are.equal("matmul_tma_kernel<128,256,128,2,4,2,2,0,0,1>", p.compile(whole).name_expr)
    assert.are.equal(10, #p.args(whole))
    local q = sk(nil, { clusters = true })
    assert.are.equal("matmul_tma_sk_kernel<128,256,128,2,4,2,2,0,0>", q.compile(cfg(q, { cluster = 1 })).name_expr)
    assert.are.equal("matmul_tma_cl2_kernel<128,256,128,2,4,2,2,0,0>", q.compile(cfg(q, { cluster = 2, stream_k = 0 })).name_expr)
  end)
  it("rejects stream_k 1 on grids that are not persistent and with clusters, naming them", function()
    local p = sk()
    local ok, err = p.space:validate(cfg(p, { pid_type = "flat" }))
    assert.is_false(ok)
    assert.matches("stream_k 1 splits a persistent grid's last round: pid_type flat is not persistent", err, 1, true)
    local q = sk(nil, { clusters = true })
    ok, err = q.space:validate(cfg(q, { cluster = 2 }))
    assert.is_false(ok)
    assert.matches("stream_k 1 runs without clusters: cluster 2 does not split", err, 1, true)
  end)
  it("adds a zeroed fp32 workspace and int32 flags, and keeps its results apart", function()
    local p, plain = sk(), htune.problem("matmul", { M = 4096, N = 4096, K = 4096, loads = "tma_ws", sm_count = 132 })
    assert.are.equal(3, #plain.buffers)
    assert.are.equal(5, #p.buffers)
    assert.are.same({ name = "W", dtype = "fp32", count = 65536 * 132, init = "zero" }, p.buffers[4])
    assert.are.same({ name = "F", dtype = "int32", count = 32 * 132, init = "zero" }, p.buffers[5])
    assert.are_not.equal(plain.key, p.key)
    assert.matches("loads=tma_ws+sk", p.key, 1, true)
  end)
  local compiles = HAVE_NVRTC and it or pending
  compiles("compiles a split config for sm_90a within setmaxnreg's 232 registers", function()
    local p = sk()
    local ce = p.compile(cfg(p))
    cache_off()
    local res = nvrtc.compile { source = p.source, name = "matmul.cu", name_exprs = { ce.name_expr },
                                options = ce.options, defines = ce.defines, arch = "sm_90a" }
    assert.is_true(res.ok, res.log)
    assert.is_true(res.facts[ce.name_expr].regs <= 232)
  end)
end)

describe("matmul spec, loads = tma_ws in clusters of 2", function()
  local function cl(shape)
    local o = { loads = "tma_ws", clusters = true }
    for k, v in pairs(shape or { M = 4096, N = 4096, K = 4096 }) do o[k] = v end
    return htune.problem("matmul", o)
  end
  local function cfg(p, t)
    local c = p.space:default()
    c.block_m, c.block_n, c.block_k, c.num_warps, c.num_stages, c.pid_type, c.cluster = 128, 256, 64, 8, 4, "persistent_blocked", 2
    for k, v in pairs(t or {}) do c[k] = v end
    return c
  end
  it("raises when clusters are asked for without loads = tma_ws, naming the loads", function()
    for _, loads in ipairs { "cp_async", "tma" } do
      local ok, err = pcall(htune.problem, "matmul", { M = 256, N = 256, K = 256, loads = loads, clusters = true })
      assert.is_false(ok)
      assert.matches("opts.clusters needs loads = 'tma_ws' (the producer warpgroup multicasts), got loads '" .. loads .. "'", err, 1, true)
    end
    assert.is_nil(htune.problem("matmul", { loads = "tma_ws" }).space:default().cluster)   -- opt-in
  end)
  it("reads --opt clusters=true as a boolean (bench-tune, bench-compile)", function()
    local P = require "htune.problem"
    assert.are.same({ "clusters", true }, { P.parse_opt("clusters=true") })
    assert.are.same({ "clusters", false }, { P.parse_opt("clusters=false") })
    assert.are.same({ "loads", "tma_ws" }, { P.parse_opt("loads=tma_ws") })
    assert.is_nil(P.parse_opt("M=4"))
    assert.are.same({ loads = "tma_ws", clusters = true, sm_count = 132 }, P.parse_opts("loads=tma_ws,clusters=true,sm_count=132"))
    local into = { M = 64 }
    assert.are.equal(into, P.parse_opts("loads=tma", into))
    assert.are.same({ M = 64, loads = "tma" }, into)
    assert.are.same({ nil, "M=4" }, { P.parse_opts("loads=tma,M=4") })
    assert.are.same({ MATMUL_WS_NOLOAD = 2, B = "two" }, P.parse_defines("MATMUL_WS_NOLOAD=2,B=two"))
    local d = { A = 1 }
    assert.are.equal(d, P.parse_defines("C=3", d))
    assert.are.same({ A = 1, C = 3 }, d)
    assert.are.same({ nil, "2" }, { P.parse_defines("x=1,2") })
    assert.are.same({ M = 4096, N = 1024, K = 8 }, P.parse_shape("4096x1024x8"))
    for _, bad in ipairs { "4096x1024", "0x4x4", "4x4x4x4", "ax4x4", "4.5x4x4", "" } do assert.is_nil(P.parse_shape(bad), bad) end
  end)
  it("names matmul_tma_cl2_kernel, halves B's box and launches whole pairs", function()
    local p = cl()
    local c = cfg(p)
    assert.is_true(p.space:validate(c))
    assert.are.equal("matmul_tma_cl2_kernel<128,256,64,2,4,4,2,0,0>", p.compile(c).name_expr)
    local a = p.args(c)
    assert.are.equal(128, a[7].box_rows)   -- A: block_m rows, each CTA its own
    assert.are.equal(32, a[8].box_rows)    -- B: half of block_k, multicast to the pair
    assert.are.equal(132, p.launch(c).grid[1])
    assert.are.equal(8 * 32 + 128, p.launch(c).block[1])
    assert.are.equal(132, cl { M = 4096, N = 4096, K = 4096, sm_count = 133 }.launch(c).grid[1])   -- even
    assert.are.equal(32 * 16, p.launch(cfg(p, { pid_type = "flat" })).grid[1])
    local one = cfg(p, { cluster = 1 })
    assert.are.equal("matmul_tma_kernel<128,256,64,2,4,4,2,0,0,1>", p.compile(one).name_expr)
    assert.are.equal(64, p.args(one)[8].box_rows)
    assert.are.equal(133, cl { M = 4096, N = 4096, K = 4096, sm_count = 133 }.launch(one).grid[1])
  end)
  it("rejects an odd number of tiles along M and the 2-D grid, naming them", function()
    local p = cl { M = 384, N = 256, K = 256 }
    local ok, err = p.space:validate(cfg(p))
    assert.is_false(ok)
    assert.matches("cluster 2 pairs tiles along M: 3 tiles of 128 rows is odd", err, 1, true)
    ok, err = cl().space:validate(cfg(cl(), { pid_type = "xyz" }))
    assert.is_false(ok)
    assert.matches("cluster 2 launches a 1-D grid: pid_type xyz does not apply", err, 1, true)
    assert.is_true(p.space:validate(cfg(p, { cluster = 1 })))
  end)
  local compiles = HAVE_NVRTC and it or pending
  compiles("compiles sampled cluster-2 configs for sm_90a, one next to the unclustered kernel", function()
    local p = cl { M = 1024, N = 1024, K = 1024 }
    local exprs = distinct_exprs(p, 2, 31, function(c) return c.cluster == 2 end)
    assert.are.equal(2, #exprs)
    exprs[3] = p.compile(cfg(p, { cluster = 1 })).name_expr
    cache_off()
    local ce = p.compile(p.space:default())
    local res = nvrtc.compile { source = p.source, name = "matmul.cu", name_exprs = exprs,
                                options = ce.options, defines = ce.defines, arch = "sm_90a" }
    assert.is_true(res.ok, res.log)
    for i, e in ipairs(exprs) do
      assert.matches(i < 3 and "^matmul_tma_cl2_kernel<" or "^matmul_tma_kernel<", e)
      assert.is_true(res.facts[e].regs > 0, e)
    end
  end)
end)

describe("matmul spec, large products", function()
  it("takes the multistage loop and staged epilogue from 2^32 (4096x1024x1024) up, and opts.defines overrides them", function()
    local c = htune.problem("matmul", { M = 1024, N = 1024, K = 1024 }).space:default()
    local function defs(o) return htune.problem("matmul", o).compile(c).defines end
    local small, below, seed = defs { M = 1024, N = 1024, K = 1024 }, defs { M = 4095, N = 1024, K = 1024 }, defs { M = 1024, N = 4096, K = 1024 }
    local large = defs { M = 2048, N = 2048, K = 2048 }
    assert.is_nil(small.MATMUL_XSTAGE)
    assert.is_nil(small.MATMUL_EPI_SMEM)
    assert.is_nil(below.MATMUL_XSTAGE)
    assert.are.equal(1, seed.MATMUL_XSTAGE)
    assert.are.equal(1, seed.MATMUL_EPI_SMEM)
    assert.are.equal(1, large.MATMUL_XSTAGE)
    assert.are.equal(1, large.MATMUL_EPI_SMEM)
    local off = defs { M = 4096, N = 4096, K = 4096, defines = { MATMUL_XSTAGE = 0 } }
    assert.are.equal(0, off.MATMUL_XSTAGE)
    assert.are.equal(1, off.MATMUL_EPI_SMEM)
  end)
end)

describe("softmax spec", function()
  it("rejects vector widths that do not divide cols and rows too long for registers", function()
    local p = htune.problem("softmax", { rows = 4097, cols = 129 })
    local c = { rows_per_block = 4, threads_per_row = 32, vector_width = 2, algorithm = "online", cache_hint = "default" }
    local ok, why = p.space:validate(c)
    assert.is_false(ok)
    assert.matches("vector", why)
    c.vector_width = 1
    assert.is_true((p.space:validate(c)))
    local big = htune.problem("softmax", { rows = 8192, cols = 8192 })
    c = { rows_per_block = 1, threads_per_row = 32, vector_width = 8, algorithm = "registers", cache_hint = "stream" }
    ok, why = big.space:validate(c)
    assert.is_false(ok)
    assert.matches("register", why)
    c.threads_per_row = 512
    assert.is_true((big.space:validate(c)))
    assert.are.equal("softmax_kernel<512,1,8,2,0,2>", big.compile(c).name_expr)
    c.rows_per_block, c.threads_per_row = 1, 16
    assert.is_false((big.space:validate(c)))   -- 16 threads: not a whole warp
  end)

  it("starts every shape from a valid default: the issue's, odd widths, rows no block holds", function()
    local want = {   -- threads_per_row, vector_width, algorithm of each shape's default
      ["4096x256"] = { 32, 8, "registers" }, ["4096x384"] = { 32, 8, "registers" },
      ["8192x8192"] = { 128, 8, "registers" }, ["4097x129"] = { 32, 1, "registers" },
      ["3x1000"] = { 32, 8, "registers" }, ["1x6"] = { 32, 2, "registers" },
      ["4x100000"] = { 1024, 8, "online" },
    }
    for key, w in pairs(want) do
      local rows, cols = key:match("(%d+)x(%d+)")
      local p = htune.problem("softmax", { rows = tonumber(rows), cols = tonumber(cols) })
      local d = p.space:default()
      local ok, why = p.space:validate(d)
      assert.is_true(ok, key .. ": " .. tostring(why))
      assert.are.same(w, { d.threads_per_row, d.vector_width, d.algorithm }, key)
      assert.is_true(d.rows_per_block * d.threads_per_row <= 1024, key)
    end
  end)
end)

describe("templates compile with NVRTC", function()
  for _, case in ipairs {
    { "matmul", { M = 1000, N = 1000, K = 1000 } },
    { "matmul", { M = 1024, N = 1024, K = 1024 } }, -- the spec's MATMUL_EVEN=1 (no edge code)
    { "softmax", { rows = 4097, cols = 256 } },
    { "matmul_wgmma", { M = 1000, N = 1000, K = 1000 } },
    { "matmul_wgmma", { M = 1024, N = 1024, K = 1024 } }, -- the spec's WGMMA_EVEN=1
    { "matmul", { M = 1000, N = 1000, K = 1000, loads = "tma" } }, -- matmul_tma_kernel, tails
    { "matmul", { M = 4096, N = 4096, K = 4096, loads = "tma" } }, -- and with the staged epilogue
  } do
    local name, shape = case[1], case[2]
    local test = HAVE_NVRTC and it or pending
    test(string.format("%s %s%s: %d sampled valid configs and the reference in one program", name,
                       table.concat({ shape.M or shape.rows, shape.N or shape.cols, shape.K }, "x"),
                       shape.loads and " loads=" .. shape.loads or "", SAMPLES[name]), function()
      local p = htune.problem(name, shape)
      local exprs = distinct_exprs(p, SAMPLES[name], 11)
      assert.are.equal(SAMPLES[name], #exprs)
      exprs[#exprs + 1] = p.reference.name_expr
      cache_off()
      local ce = p.compile(p.space:default())
      local defines = {} -- the config's, less HTUNE_NO_REFERENCE: this program holds the reference too
      for k, v in pairs(ce.defines) do if k ~= "HTUNE_NO_REFERENCE" then defines[k] = v end end
      local res = nvrtc.compile { source = p.source, name = name .. ".cu", name_exprs = exprs,
                                  options = ce.options, defines = defines, arch = "sm_90a" }
      assert.is_true(res.ok, res.log)
      for _, e in ipairs(exprs) do
        assert.is_truthy(res.lowered[e], e)
        local f = res.facts[e]
        assert.is_truthy(f, e)
        assert.is_true(f.regs > 0 and f.regs <= 255, e)
      end
    end)
  end
end)

-- Opcode counts (low 12 bits of each 16-byte sm_90 instruction) in the .text section of
-- kernel `mangled` of a cubin: enough to tell the LDGSTS forms apart (0xfae: shared address
-- register + immediate; 0xdae: with a uniform-register shared base) without a disassembler.
local function sass_opcodes(cubin, mangled)
  local shoff = string.unpack("<I8", cubin, 0x28 + 1)
  local shentsize, shnum, shstrndx = string.unpack("<I2I2I2", cubin, 0x3a + 1)
  local function sec(i) -- name offset, file offset, size
    local at = shoff + i * shentsize + 1
    local name, _, _, _, off, size = string.unpack("<I4I4I8I8I8I8", cubin, at)
    return name, off, size
  end
  local _, stroff = sec(shstrndx)
  for i = 0, shnum - 1 do
    local nameoff, off, size = sec(i)
    local name = string.unpack("z", cubin, stroff + nameoff + 1)
    if name == ".text." .. mangled then
      local ops = {}
      for at = off, off + size - 16, 16 do
        local op = string.unpack("<I8", cubin, at + 1) & 0xfff
        ops[op] = (ops[op] or 0) + 1
      end
      return ops
    end
  end
end

describe("matmul L2-hinted 16-byte copies (CUDA_ERROR_ILLEGAL_INSTRUCTION on the H100)", function()
  local test = HAVE_NVRTC and it or pending
  -- bm16 bn32 bk32 w1 s1 xyz, hints last/first: one of the 68 recorded faults (block_n == block_k)
  local expr = "matmul_kernel<16,32,32,1,1,1,1,2,0,8,2,1>"
  test("no LDGSTS of the form whose descriptor ptxas clobbers; the old code still shows it", function()
    local p = htune.problem("matmul", {})
    cache_off()
    local function ops(defines)
      local res = nvrtc.compile { source = p.source, name = "matmul.cu", name_exprs = { expr },
                                  options = p.compile(p.space:default()).options, defines = defines,
                                  arch = "sm_90" }
      assert.is_true(res.ok, res.log)
      return assert(sass_opcodes(res.cubin, res.lowered[expr]), "no .text section for " .. expr)
    end
    local fixed, old = ops {}, ops { MATMUL_NO_LANE_XOR = true, MATMUL_NO_COPY_BASE = true }
    assert.are.equal(12, fixed[0xfae], "LDGSTS [R+imm]: 2 A + 4 B copies on each of two paths")
    assert.is_nil(fixed[0xdae])
    assert.is_true((old[0xdae] or 0) > 0, "the detector sees the faulting form in the old code")
  end)
  -- The last recorded fault (1024^3, MATMUL_EVEN=1, one warp, only B hinted) kept the form with
  -- the lane XOR alone; a per-thread createpolicy fraction (make_policy) removes it.
  test("no such LDGSTS in the even-tile path of the fault left after the lane XOR", function()
    local p = htune.problem("matmul", { M = 1024, N = 1024, K = 1024 })
    local e = "matmul_kernel<32,16,16,1,1,8,1,8,0,8,0,1>"
    local res = nvrtc.compile { source = p.source, name = "matmul.cu", name_exprs = { e },
                                options = p.compile(p.space:default()).options,
                                defines = { MATMUL_EVEN = 1 }, arch = "sm_90a" }
    assert.is_true(res.ok, res.log)
    local ops = assert(sass_opcodes(res.cubin, res.lowered[e]), "no .text section for " .. e)
    assert.is_true((ops[0xfae] or 0) > 0, "the detector finds this kernel's LDGSTS")
    assert.is_nil(ops[0xdae])
  end)
  -- The H200 samples' 3 faults (one warp, 32x16x16, both operands hinted) kept one such LDGSTS
  -- after both fixes; a per-thread shared base for hinted copies (copy_base) removes it, and
  -- MATMUL_NO_COPY_BASE (the old base) shows the detector still sees it.
  -- exprs compiled in one program on a dividing shape (MATMUL_EVEN, no reference) with defines.
  local function build_even(exprs, defines)
    local p = htune.problem("matmul", { M = 1024, N = 1024, K = 1024 })
    return compile_with(p, exprs, p.compile(p.space:default()).options, { MATMUL_EVEN = 1, HTUNE_NO_REFERENCE = 1 }, defines)
  end
  -- Asserts that every kernel of exprs in fixed has LDGSTS and none of the 0xdae form; returns
  -- how many of that form old's kernels hold.
  local function expect_fixed(fixed, old, exprs)
    local old_hits = 0
    for _, e in ipairs(exprs) do
      local ops = assert(sass_opcodes(fixed.cubin, fixed.lowered[e]), "no .text section for " .. e)
      assert.is_true((ops[0xfae] or 0) > 0, e .. ": the detector finds the LDGSTS")
      assert.is_nil(ops[0xdae], e)
      old_hits = old_hits + (sass_opcodes(old.cubin, old.lowered[e])[0xdae] or 0)
    end
    return old_hits
  end
  test("no such LDGSTS in the H200 samples' faults, both operands hinted", function()
    cache_off()
    local exprs = { "matmul_kernel<32,16,16,1,1,4,1,4,1,8,2,1>", "matmul_kernel<32,16,16,1,1,4,1,16,1,8,2,2>",
                    "matmul_kernel<32,16,16,1,1,8,1,4,1,8,1,2>" }
    -- the faults' code: the old base and the epilogue of then (with MATMUL_EPI_FAST's cheaper
    -- epilogue ptxas picks the form for only the third of these 3 even under the old base)
    local old = build_even(exprs, { MATMUL_NO_COPY_BASE = 1, MATMUL_EPI_FAST = 0 })
    for _, e in ipairs(exprs) do
      assert.is_true((sass_opcodes(old.cubin, old.lowered[e])[0xdae] or 0) > 0, e .. ": the old base shows the form")
    end
    expect_fixed(build_even(exprs, {}), old, exprs)
    expect_fixed(build_even(exprs, { MATMUL_ADDR = 1 }), old, exprs)   -- the spec's default here
  end)
  -- MATMUL_ADDR's refill adds a block-uniform stage offset to the copies' base; made per-thread
  -- only at the base, ptxas put the offset in a uniform register ([R+UR+imm]), and call 47's
  -- 6-stage configs with both operands hinted faulted (ILLEGAL_INSTRUCTION) under the multistage
  -- loop. MATMUL_NO_STAGE_PER_THREAD rebuilds that form.
  test("no such LDGSTS in MATMUL_ADDR's refill (call 47's faults); the uniform stage offset shows it", function()
    cache_off()
    local exprs = { "matmul_kernel<256,32,32,4,1,6,1,0,0,8,1,1>", "matmul_kernel<128,32,32,2,1,6,2,0,0,8,1,2>",
                    "matmul_kernel<128,32,32,2,1,8,1,0,0,8,1,0>" }
    local d = { MATMUL_ADDR = 1, MATMUL_XSTAGE = 1, MATMUL_EPI_SMEM = 1 }
    local fixed = build_even(exprs, d)
    d.MATMUL_NO_STAGE_PER_THREAD = 1
    assert.is_true(expect_fixed(fixed, build_even(exprs, d), exprs) > 0, "the uniform stage offset shows the form")
  end)
end)

-- MATMUL_FUSED_PROLOGUE=1 (off by default until its kernel speed is measured on a GPU) must
-- keep compiling, stay smaller than the unrolled prologue, and keep out the faulting form.
describe("matmul MATMUL_FUSED_PROLOGUE=1", function()
  local test = HAVE_NVRTC and it or pending
  test("compiles the recorded fault configs and sampled ones to smaller cubins without LDGSTS 0xdae", function()
    local p = htune.problem("matmul", { M = 1024, N = 1024, K = 1024 })
    cache_off()
    local exprs = distinct_exprs(p, 2, 5)
    exprs[#exprs + 1] = "matmul_kernel<16,32,32,1,1,1,1,2,0,8,2,1>"
    exprs[#exprs + 1] = "matmul_kernel<32,16,16,1,1,8,1,8,0,8,0,1>"
    local function build(fused)
      local res = nvrtc.compile { source = p.source, name = "matmul.cu", name_exprs = exprs,
                                  options = p.compile(p.space:default()).options,
                                  defines = { MATMUL_EVEN = 1, HTUNE_NO_REFERENCE = 1, MATMUL_FUSED_PROLOGUE = fused },
                                  arch = "sm_90a" }
      assert.is_true(res.ok, res.log)
      return res
    end
    local unrolled, fused = build(0), build(1)
    assert.is_true(#fused.cubin < #unrolled.cubin, ("fused %d bytes, unrolled %d"):format(#fused.cubin, #unrolled.cubin))
    for _, e in ipairs(exprs) do
      local ops = assert(sass_opcodes(fused.cubin, fused.lowered[e]), "no .text section for " .. e)
      assert.is_true((ops[0xfae] or 0) > 0, e .. ": the detector finds the LDGSTS")
      assert.is_nil(ops[0xdae], e)
    end
  end)
end)

-- The macro variants of kernels/matmul (each off by default until timed on a GPU, and some then
-- turned on by spec.lua or by MATMUL_ADDR, MATMUL_EPI_FAST on in the source after call 70; their GPU check is tests/gpu/matmul_variants_test.lua) must compile on dividing and odd shapes, change the code,
-- spill nothing where the default spills nothing and keep out the faulting LDGSTS form.
-- MATMUL_PROLOGUE_ROLLED, MATMUL_ADDR and MATMUL_EPI_FAST apply to dividing shapes only, so on
-- the odd one they must change nothing.
for _, m in ipairs { { "MATMUL_EPI_SMEM", true }, { "MATMUL_PROLOGUE_ROLLED", false }, { "MATMUL_XSTAGE", true }, { "MATMUL_ADDR", false }, { "MATMUL_EPI_FAST", false }, { "MATMUL_MMA_SERP", true } } do
  local macro, odd_too = m[1], m[2]
  describe("matmul " .. macro .. "=1", function()
    local test = HAVE_NVRTC and it or pending
    test("compiles sampled configs on a dividing and an odd shape to other cubins without new spills or LDGSTS 0xdae", function()
      cache_off()
      for _, shape in ipairs { { M = 1024, N = 1024, K = 1024 }, { M = 257, N = 129, K = 77 } } do
        local p = htune.problem("matmul", shape)
        local exprs = distinct_exprs(p, 2, 11)
        exprs[#exprs + 1] = "matmul_kernel<128,256,64,2,4,3,3,8,0,8,0,0>"   -- 4096^3-class tile
        local ce = p.compile(p.space:default())
        local function build(on) return compile_with(p, exprs, ce.options, ce.defines, { [macro] = on }) end
        local plain, variant = build(0), build(1)
        if shape.M == 257 and not odd_too then
          assert.is_true(plain.cubin == variant.cubin, "the define changed the odd shape's code")
        else
          assert.is_true(plain.cubin ~= variant.cubin, "the define changed nothing")
        end
        for _, e in ipairs(exprs) do
          if plain.facts[e].spill_stores == 0 then assert.are.equal(0, variant.facts[e].spill_stores, e) end
          local ops = assert(sass_opcodes(variant.cubin, variant.lowered[e]), "no .text section for " .. e)
          assert.is_nil(ops[0xdae], e)
        end
      end
    end)
  end)
end

describe("matmul_wgmma spec", function()
  local p = htune.problem("matmul_wgmma", { M = 4096, N = 4096, K = 4096, sm_count = 132 })
  local function with(t)
    local c = p.space:default()
    for k, v in pairs(t) do c[k] = v end
    return c, p.space:validate(c)
  end

  it("targets sm_90a and maps a config to template arguments", function()
    assert.are.equal("sm_90a", p.arch)
    local c, ok = with { block_m = 128, block_n = 256, block_k = 64, num_warps = 12, num_stages = 3,
                         pid_type = "persistent_interleaved", l2_grouping = 8, loop_order = { 1, 0 }, loads = "cp_async" }
    assert.is_true(ok)
    -- the tile order as the last two arguments (GROUP 0), or compiled in
    assert.are.equal("matmul_wgmma_kernel<128,256,64,2,3,1,0,0>", p.compile(c).name_expr)
    local a = p.args(c)
    assert.are.same({ { i32 = 8 }, { i32 = 1 } }, { a[7], a[8] })
    assert.are.equal(8, #a)
    local pc = htune.problem("matmul_wgmma", { M = 4096, N = 4096, K = 4096, sm_count = 132, tile_order = "compiled" })
    assert.are.equal("matmul_wgmma_kernel<128,256,64,2,3,1,8,1>", pc.compile(c).name_expr)
    local l = p.launch(c)
    assert.are.same({ 132, 1, 1 }, l.grid)
    assert.are.same({ 384, 1, 1 }, l.block)
    assert.are.equal(3 * 2 * (128 * 64 + 64 * 256) + 128 * (256 + 8) * 2 + 1024, l.smem)   -- ring, C staging, alignment
    c.pid_type = "flat"
    assert.are.same({ 32 * 16, 1, 1 }, p.launch(c).grid)
  end)

  it("compiles without edge code only when every tile lies inside C and K is a multiple of 8", function()
    local c = with { block_m = 128, block_n = 256, block_k = 128 }
    assert.are.equal(1, p.compile(c).defines.WGMMA_EVEN)
    assert.are.equal(1, htune.problem("matmul_wgmma", { M = 256, N = 512, K = 72 }).compile(c).defines.WGMMA_EVEN,
      "K need not be a multiple of the tile, only of 8")
    for _, shape in ipairs { { M = 1000, N = 1024, K = 1024 }, { M = 1024, N = 1000, K = 1024 }, { M = 1024, N = 1024, K = 1020 } } do
      assert.are.equal(0, htune.problem("matmul_wgmma", shape).compile(c).defines.WGMMA_EVEN)
    end
  end)

  it("rejects configs over shared memory, accumulator registers or consumer rows", function()
    local _, ok, why = with { block_m = 256, block_n = 256, block_k = 128, num_stages = 4 }
    assert.is_false(ok)
    assert.matches("smem", why)
    -- the ring alone fits 4 stages of 128x256x64 (196,608 bytes); with C's staging tile it does not
    _, ok, why = with { block_m = 128, block_n = 256, block_k = 64, num_stages = 4 }
    assert.is_false(ok)
    assert.matches("smem", why)
    _, ok, why = with { block_m = 128, block_n = 256, block_k = 64, num_stages = 2, num_warps = 8 }
    assert.is_false(ok)
    assert.matches("register", why)
    _, ok, why = with { block_m = 64, num_warps = 12 }
    assert.is_false(ok)
    assert.matches("consumer", why)
  end)

  it("loads with TMA by default: the tma kernel and a map over A and over B after the common args", function()
    local c, ok = with { block_m = 128, block_n = 128, block_k = 128, num_warps = 12, num_stages = 2 }
    assert.is_true(ok)
    assert.are.equal("tma", c.loads)
    assert.are.equal("matmul_wgmma_tma_kernel<128,128,128,2,2,1,0,0>", p.compile(c).name_expr)
    local args = p.args(c)
    assert.are.same({ "A", "B", "C", { i32 = 4096 }, { i32 = 4096 }, { i32 = 4096 },
      { tmap = "A", rows = 4096, cols = 4096, box_rows = 128, box_cols = 64, swizzle = 128 },   -- M x K, box BM x 64
      { tmap = "B", rows = 4096, cols = 4096, box_rows = 128, box_cols = 64, swizzle = 128 },   -- K x N, box BK x 64
      { i32 = 8 }, { i32 = 0 } }, args)                                                       -- group, order
    local q = htune.problem("matmul_wgmma", { M = 300, N = 136, K = 200 })
    local a = q.args(q.space:default())
    -- the small shape's default tile is 64x128x128 (below)
    assert.are.same({ tmap = "A", rows = 300, cols = 200, box_rows = 64, box_cols = 64, swizzle = 128 }, a[7])
    assert.are.same({ tmap = "B", rows = 200, cols = 136, box_rows = 128, box_cols = 64, swizzle = 128 }, a[8])
    c.loads = "cp_async"
    local plain = p.reference.args()
    plain[7], plain[8] = { i32 = 8 }, { i32 = 0 }
    assert.are.same(plain, p.args(c))
    assert.are.same(p.reference.args(), p.args())
    assert.is_truthy(p.describe.loads)
  end)

  it("rejects tma configs by a constraint when K or N is not a multiple of 8, defaulting to cp_async", function()
    for _, shape in ipairs { { M = 256, N = 129, K = 64 }, { M = 256, N = 128, K = 77 }, { M = 1, N = 300, K = 64 } } do
      local q = htune.problem("matmul_wgmma", shape)
      local c = q.space:default()
      assert.are.equal("cp_async", c.loads)
      assert.is_true((q.space:validate(c)))
      c.loads = "tma"
      local ok, why = q.space:validate(c)
      assert.is_false(ok)
      assert.matches("tma needs 16%-byte row pitches %(K %% 8 == 0 and N %% 8 == 0%), got K " .. shape.K .. ", N " .. shape.N, why)
      local r = htune.rng(1)
      for _ = 1, 50 do assert.are.equal("cp_async", q.space:sample(r).loads) end
    end
    local q = htune.problem("matmul_wgmma", { M = 4097, N = 136, K = 200 })
    assert.are.equal("tma", q.space:default().loads)
  end)

  local compiles = HAVE_NVRTC and it or pending
  compiles("compiles sampled tma configs for sm_90a next to a cp_async one", function()
    local q = htune.problem("matmul_wgmma", { M = 4097, N = 136, K = 200 })
    local exprs = distinct_exprs(q, 3, 21, function(c) return c.loads == "tma" end)
    assert.are.equal(3, #exprs)
    local plain = q.space:default()
    plain.loads = "cp_async"
    exprs[#exprs + 1] = q.compile(plain).name_expr
    cache_off()
    local res = nvrtc.compile { source = q.source, name = "matmul_wgmma.cu", name_exprs = exprs,
                                options = q.compile(plain).options, arch = "sm_90a" }
    assert.is_true(res.ok, res.log)
    for i, e in ipairs(exprs) do
      assert.matches(i < 4 and "^matmul_wgmma_tma_kernel<" or "^matmul_wgmma_kernel<", e)
      assert.is_truthy(res.lowered[e], e)
      assert.is_true(res.facts[e].regs > 0, e)
    end
  end)

  it("defaults to a tile whose count fills the SMs: 128x256 at 4096^3, 64x128x128 at 1024^3", function()
    local d = p.space:default()
    assert.are.same({ 128, 256, 64, 12, 3 }, { d.block_m, d.block_n, d.block_k, d.num_warps, d.num_stages })
    for _, q in ipairs { htune.problem("matmul_wgmma", { M = 1024, N = 1024, K = 1024, sm_count = 132 }),
                         htune.problem("matmul_wgmma", { M = 4097, N = 136, K = 200, sm_count = 132 }) } do
      local e = q.space:default()
      assert.are.same({ 64, 128, 128, 8, 4 }, { e.block_m, e.block_n, e.block_k, e.num_warps, e.num_stages })
      assert.is_true((q.space:validate(e)))
    end
  end)

  it("maps cluster = 2 to the cluster kernel with half-height A boxes and an even grid", function()
    assert.is_nil(p.space:default().cluster)   -- opt-in: the default space has no cluster parameter
    local p = htune.problem("matmul_wgmma", { M = 4096, N = 4096, K = 4096, sm_count = 132, clusters = true })
    local c = p.space:default()
    for k, v in pairs { block_m = 128, block_n = 128, block_k = 64, num_warps = 12, num_stages = 4, cluster = 2 } do c[k] = v end
    assert.is_true((p.space:validate(c)))
    assert.are.equal("matmul_wgmma_tma_cl2_kernel<128,128,64,2,4,1,0,0>", p.compile(c).name_expr)
    assert.are.same({ tmap = "A", rows = 4096, cols = 4096, box_rows = 64, box_cols = 64, swizzle = 128 }, p.args(c)[7])
    assert.are.same({ tmap = "B", rows = 4096, cols = 4096, box_rows = 64, box_cols = 64, swizzle = 128 }, p.args(c)[8])
    -- persistent: 132 SMs hold 66 clusters of 2 (an odd SM count would round down)
    assert.are.equal(132, p.launch(c).grid[1])
    local odd = htune.problem("matmul_wgmma", { M = 4096, N = 4096, K = 4096, sm_count = 133, clusters = true })
    local oc = odd.space:default()
    for k, v in pairs(c) do oc[k] = v end
    assert.are.equal(132, odd.launch(oc).grid[1])
    c.pid_type = "flat"
    assert.are.equal(32 * 32, p.launch(c).grid[1])
    c.cluster = 1
    assert.are.equal(128, p.args(c)[7].box_rows)
    assert.are.equal(1, p.space:default().cluster)
    assert.is_truthy(p.describe.cluster)
  end)

  it("rejects opts.clusters that is not a boolean", function()
    local ok, err = pcall(htune.problem, "matmul_wgmma", { clusters = 1 })
    assert.is_false(ok)
    assert.matches("opts.clusters must be true or false, got 1", err)
  end)

  it("rejects cluster = 2 by a constraint without TMA or with an odd tile count along N", function()
    local q = htune.problem("matmul_wgmma", { M = 1024, N = 1088, K = 1024, clusters = true })   -- 17 tiles of 64, 9 of 128 (odd), 5 of 256 (odd)
    local c = q.space:default()
    c.block_n, c.cluster = 64, 2
    local ok, why = q.space:validate(c)
    assert.is_false(ok)
    assert.matches("cluster 2 pairs tiles along N: 17 tiles of 64 columns is odd", why)
    local e = htune.problem("matmul_wgmma", { M = 1024, N = 1024, K = 1024, clusters = true })
    c = e.space:default()
    c.cluster = 2
    assert.is_true((e.space:validate(c)))
    c.loads = "cp_async"
    ok, why = e.space:validate(c)
    assert.is_false(ok)
    assert.matches("needs loads = tma", why)
    local r = htune.rng(3)
    for _ = 1, 200 do
      local s = q.space:sample(r)
      assert.are_not.equal(2, s.cluster)   -- no tile width gives an even count along 1088
    end
  end)

  compiles("compiles sampled cluster configs for sm_90a without spills", function()
    local q = htune.problem("matmul_wgmma", { M = 1024, N = 1024, K = 1024, clusters = true })
    local exprs = distinct_exprs(q, 3, 9, function(c) return c.cluster == 2 end)
    assert.are.equal(3, #exprs)
    cache_off()
    local c0 = q.space:default()
    local res = nvrtc.compile { source = q.source, name = "matmul_wgmma.cu", name_exprs = exprs,
                                options = q.compile(c0).options, defines = { WGMMA_EVEN = 1 }, arch = "sm_90a" }
    assert.is_true(res.ok, res.log)
    for _, e in ipairs(exprs) do
      assert.matches("^matmul_wgmma_tma_cl2_kernel<", e)
      assert.is_truthy(res.lowered[e], e)
      assert.are.equal(0, res.facts[e].spill_stores, e)
    end
  end)

  it("samples only configs whose tiles split over the warpgroups and fit the chip", function()
    local r = htune.rng(5)
    for _ = 1, 300 do
      local c = p.space:sample(r)
      local mi = p.row_blocks(c)
      assert.is_truthy(mi)
      assert.is_true(mi <= 2 and mi * c.block_n // 2 <= 128)
      assert.is_true(p.smem_bytes(c) + 16 * c.num_stages <= 232448)
    end
  end)
end)

describe("matmul problem parts shared through htune.problems.matmul_common", function()
  local replay = require "htune.backends.replay"
  local opts = { M = 257, N = 129, K = 77, sm_count = 114 }
  local a, b = htune.problem("matmul", opts), htune.problem("matmul_wgmma", opts)

  it("gives both templates the same shape, buffers, arguments, reference and work counts", function()
    for _, k in ipairs { "shape", "dtype", "key_shape", "buffers", "tolerance", "flops", "bytes" } do
      assert.are.same(a[k], b[k])
    end
    assert.are.equal("257x129x77", a.key_shape)
    assert.are.same({ "A", "B", "C", { i32 = 257 }, { i32 = 129 }, { i32 = 77 } }, b.args())
    assert.are.same(b.args(), b.reference.args())
    assert.are.same({ grid = { 9, 17, 1 }, block = { 16, 16, 1 }, smem = 0 }, a.reference.launch())
    assert.are.same(a.reference.launch(), b.reference.launch())
    assert.are.equal("-std=c++17", b.compile(b.space:default()).options[1])
  end)

  it("keeps the matmul space the recorded table was measured in", function()
    local t = assert(replay.read(sys.root .. "/data/matmul.replay.gz"))
    assert.are.equal("matmul 4ecd4994eb47f415", t.meta.space)
    assert.are.equal("4ecd4994eb47f415", replay.space_signature(a.space))
  end)
end)

describe("matmul problems' vendor baseline", function()
  it("both templates time cuBLAS on their own shape, so '% of cuBLAS' compares one to one", function()
    for _, name in ipairs { "matmul", "matmul_wgmma" } do
      local p = htune.problem(name, { M = 4096, N = 1024, K = 512 })
      assert.are.same({ name = "cublas", params = { 4096, 1024, 512 } }, p.baseline, name)
    end
  end)
end)

describe("config programs leave the reference kernel out", function()
  local test = HAVE_NVRTC and it or pending
  test("a config's cubin holds no reference kernel; the reference job's does", function()
    cache_off()
    for _, name in ipairs { "matmul", "matmul_wgmma", "softmax" } do
      local p = htune.problem(name, {})
      local ref = p.reference.name_expr
      local c = p.compile(p.space:default())
      assert.are.equal(1, c.defines.HTUNE_NO_REFERENCE, name)
      local arch = p.arch or "sm_90a"
      local res = nvrtc.compile { source = p.source, name = name .. ".cu", name_exprs = { c.name_expr },
                                  defines = c.defines, options = c.options, arch = arch }
      assert.is_true(res.ok, res.log)
      assert.is_nil(res.cubin:find(ref, 1, true), name .. ": config cubin still has " .. ref)
      local rres = nvrtc.compile { source = p.source, name = name .. ".cu", name_exprs = { ref },
                                   defines = p.reference.defines or {}, options = c.options, arch = arch }
      assert.is_true(rres.ok, rres.log)
      assert.is_truthy(rres.cubin:find(ref, 1, true), name)
    end
  end)
end)

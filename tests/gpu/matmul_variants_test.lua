-- GPU: kernels/matmul's variants behind macros match the reference on a dividing shape and on
-- odd ones for sampled configs, through htune.evaluate:
--   MATMUL_EPI_SMEM=1        C staged in the pipeline's shared memory, stored as 16-byte rows
--   MATMUL_PROLOGUE_ROLLED=0 the prologue's stage loop unrolled (the default is MATMUL_ADDR
--                            without MATMUL_XSTAGE: dividing shapes below 2^32 roll it)
--   MATMUL_XSTAGE=1          all stages in flight, next stage's fragments before the last mma
--   MATMUL_EPI_FAST=0        the fragment epilogue's address and two conversions per store
--                            (the default on dividing shapes: one row pointer, one cvt.f16x2)
--   MATMUL_MMA_SERP=1        odd rows of mma tiles walk their columns backwards (serpentine)
--   MATMUL_ADDR=0            copy and ldmatrix addresses recomputed, not per-thread bases +
--                            offsets (the spec's default on dividing shapes is 1; 512x768x1280
--                            has K != N, so A's and B's strides differ)
-- and the spec's default for large products, which turns on the first and the third (and ADDR
-- where the shape divides, as at 2048^3); call 47's faults (ADDR with the multistage loop, both
-- operands hinted); and the
-- tile order as kernel arguments (the default) against compiled in, every schedule, group
-- and order on two configs of odd shapes.
-- HTUNE_MATMUL_VARIANT_CONFIGS=N configs per shape and variant (default 10).
--   build/htune run tests/gpu/run.lua matmul_variants
local htune = require "htune"
local check = dofile(htune.sys.root .. "/tests/gpu/problem_check.lua")

local CONFIGS = tonumber(os.getenv("HTUNE_MATMUL_VARIANT_CONFIGS") or "") or 10
local variants = {
  { MATMUL_EPI_SMEM = 1 },
  { MATMUL_PROLOGUE_ROLLED = 0 },
  { MATMUL_XSTAGE = 1 },
  { MATMUL_XSTAGE = 1, MATMUL_PROLOGUE_ROLLED = 1, MATMUL_EPI_SMEM = 1 },
  { MATMUL_EPI_FAST = 0 },
  { MATMUL_MMA_SERP = 1 },
  { MATMUL_ADDR = 0 },
  { MATMUL_ADDR = 0, MATMUL_PROLOGUE_ROLLED = 1 },
  { MATMUL_ADDR = 0, MATMUL_XSTAGE = 1, MATMUL_EPI_SMEM = 1 },
}
local cases = {
  { M = 1024, N = 1024, K = 1024 },   -- MATMUL_EVEN=1 code
  { M = 512, N = 768, K = 1280 },     -- MATMUL_EVEN=1, K != N
  { M = 1000, N = 1000, K = 1000 },   -- tails, 16-byte rows
  { M = 257, N = 129, K = 77 },       -- odd N: element stores
  { M = 1, N = 300, K = 64 },
}

local tests = {}
for v, defines in ipairs(variants) do
  local names = {}
  for k, x in pairs(defines) do names[#names + 1] = k .. "=" .. x end
  table.sort(names)
  for i, shape in ipairs(cases) do
    tests[string.format("matmul %s %dx%dx%d matches reference", table.concat(names, ","), shape.M, shape.N, shape.K)] = function()
      local opts = { defines = defines }
      for k, x in pairs(shape) do opts[k] = x end
      local p = assert(htune.problem("matmul", opts))
      check.expect_sampled_match(p, CONFIGS, 500 + 10 * v + i, nil, "^matmul_kernel<")
    end
  end
end
-- The spec's own default from 2048^3 up (XSTAGE and EPI_SMEM on), dividing and odd.
for i, shape in ipairs { { M = 2048, N = 2048, K = 2048 }, { M = 2047, N = 2049, K = 2051 } } do
  tests[string.format("matmul default at %dx%dx%d (multistage, staged epilogue) matches reference", shape.M, shape.N, shape.K)] = function()
    local p = assert(htune.problem("matmul", shape))
    assert(p.compile(p.space:default()).defines.MATMUL_XSTAGE == 1, "the spec did not pick the multistage loop")
    check.expect_sampled_match(p, math.max(4, CONFIGS // 2), 600 + i, nil, "^matmul_kernel<")
  end
end
-- Call 47's faults: MATMUL_ADDR's refill under the multistage loop with both operands hinted
-- (CUDA_ERROR_ILLEGAL_INSTRUCTION until the stage offset went per-thread, see per_thread).
for _, shape in ipairs { { M = 1024, N = 1024, K = 1024 }, { M = 512, N = 768, K = 1280 } } do
  tests[string.format("matmul ADDR + XSTAGE, both operands hinted (call 47's faults), at %dx%dx%d matches reference", shape.M, shape.N, shape.K)] = function()
    local opts = { defines = { MATMUL_XSTAGE = 1, MATMUL_EPI_SMEM = 1 } }
    for k, x in pairs(shape) do opts[k] = x end
    local p = assert(htune.problem("matmul", opts))
    local cfgs = check.configs(p, {
      { block_m = 256, block_n = 32, num_warps = 4, pid_type = "xyz", load_eviction_policies = { "first", "first" } },
      { block_m = 128, block_n = 32, num_warps = 2, pid_type = "persistent_blocked", load_eviction_policies = { "first", "last" } },
    }, { block_k = 32, num_stages = 6, vector_width = 8 })
    for _, c in ipairs(cfgs) do assert(p.compile(c).defines.MATMUL_ADDR == 1, "the spec did not pick MATMUL_ADDR") end
    check.expect_match(p, cfgs)
  end
end
-- Tile order: each pid_type x l2_grouping x loop_order of two configs, with the order passed as
-- arguments (one kernel per pid_type) and compiled in (tile_order = "compiled").
for i, shape in ipairs { { M = 1000, N = 1000, K = 1000 }, { M = 257, N = 129, K = 77 } } do
  for _, mode in ipairs { "runtime", "compiled" } do
    tests[string.format("matmul tile order %s, every schedule at %dx%dx%d, matches reference", mode, shape.M, shape.N, shape.K)] = function()
      local opts = { tile_order = mode }
      for k, x in pairs(shape) do opts[k] = x end
      local nk, n = check.expect_every_order(assert(htune.problem("matmul", opts)), 2, 700 + i)
      print(string.format("  %d configs, %d kernels", n, nk))
      if mode == "runtime" then assert(nk <= 8, nk .. " kernels for 2 configs x 4 schedules") end
    end
  end
end
-- loads = "tma" and "tma_ws" (matmul_tma_kernel, WS 0 and 1): sampled configs on dividing shapes (K != N among them), on
-- tails that TMA zero-fills (1000^3), and at 2048^3 with the spec's staged epilogue; plus the
-- 4096^3-class tile of 128x256x64 on 8 warps, persistent, so one block runs several tiles (its
-- stages and mbarrier phases carry over from tile to tile).
for i, shape in ipairs { { M = 1024, N = 1024, K = 1024 }, { M = 512, N = 768, K = 1280 }, { M = 1000, N = 1000, K = 1000 },
                         { M = 2048, N = 2048, K = 2048 }, { M = 8, N = 64, K = 136 } } do
  for _, loads in ipairs { "tma", "tma_ws" } do
    tests[string.format("matmul loads=%s %dx%dx%d matches reference", loads, shape.M, shape.N, shape.K)] = function()
      if not check.hopper() then return check.skip("TMA needs a compute capability 9.0 device") end
      local opts = { loads = loads }
      for k, x in pairs(shape) do opts[k] = x end
      local p = assert(htune.problem("matmul", opts))
      check.expect_sampled_match(p, CONFIGS, 800 + i, nil, loads == "tma" and ",0>$" or ",1>$")
    end
  end
end
for _, loads in ipairs { "tma", "tma_ws" } do
tests["matmul loads=" .. loads .. ", 128x256x64 persistent (several tiles a block) at 4096x2048x512 matches reference"] = function()
  if not check.hopper() then return check.skip("TMA needs a compute capability 9.0 device") end
  local p = assert(htune.problem("matmul", { M = 4096, N = 2048, K = 512, loads = loads }))
  check.expect_match(p, check.configs(p, {
    { block_m = 128, block_n = 256, block_k = 64, num_warps = 8, num_stages = 4, pid_type = "persistent_blocked" },
    { block_m = 128, block_n = 256, block_k = 64, num_warps = 8, num_stages = 3, pid_type = "persistent_interleaved" },
    { block_m = 64, block_n = 128, block_k = 128, num_warps = 4, num_stages = 2, pid_type = "persistent_interleaved" },
  }))
end
end
-- loads = "tma_ws" in clusters of 2 (matmul_tma_cl2_kernel: B multicast to vertically adjacent
-- tiles, both CTAs' empty barriers), sampled cluster-2 configs on dividing and tail shapes, and
-- the 4096^3-class persistent tiles; and the per-warp empty-barrier arrival without clusters.
for i, shape in ipairs { { M = 1024, N = 1024, K = 1024 }, { M = 512, N = 768, K = 1280 }, { M = 1000, N = 1000, K = 1000 } } do
  tests[string.format("matmul loads=tma_ws cluster=2 %dx%dx%d matches reference", shape.M, shape.N, shape.K)] = function()
    if not check.hopper() then return check.skip("TMA needs a compute capability 9.0 device") end
    local opts = { loads = "tma_ws", clusters = true }
    for k, x in pairs(shape) do opts[k] = x end
    local p = assert(htune.problem("matmul", opts))
    check.expect_sampled_match(p, CONFIGS, 900 + i, function(c) return c.cluster == 2 end, "^matmul_tma_cl2_kernel<")
  end
  tests[string.format("matmul loads=tma_ws MATMUL_WS_WARP_ARRIVE=1 %dx%dx%d matches reference", shape.M, shape.N, shape.K)] = function()
    if not check.hopper() then return check.skip("TMA needs a compute capability 9.0 device") end
    local opts = { loads = "tma_ws", defines = { MATMUL_WS_WARP_ARRIVE = 1 } }
    for k, x in pairs(shape) do opts[k] = x end
    local p = assert(htune.problem("matmul", opts))
    check.expect_sampled_match(p, CONFIGS, 950 + i, nil, ",1>$")
  end
  -- MATMUL_WS_EPI_T (the default since call 58, GPU-checked there as =1): C as quad-transposed
  -- 16-byte stores on dividing shapes with warp tiles of 32 or more columns (1000^3 keeps the
  -- fragment stores); here =0, the fragment stores everywhere, sampled and the 4096^3 best's tile
  tests[string.format("matmul loads=tma_ws MATMUL_WS_EPI_T=0 %dx%dx%d matches reference", shape.M, shape.N, shape.K)] = function()
    if not check.hopper() then return check.skip("TMA needs a compute capability 9.0 device") end
    local opts = { loads = "tma_ws", defines = { MATMUL_WS_EPI_T = 0 } }
    for k, x in pairs(shape) do opts[k] = x end
    local p = assert(htune.problem("matmul", opts))
    check.expect_sampled_match(p, CONFIGS, 970 + i, nil, ",1>$")
    check.expect_match(p, check.configs(p, {
      { block_m = 128, block_n = 256, block_k = 128, num_warps = 8, num_stages = 2, pid_type = "persistent_blocked" },
      { block_m = 128, block_n = 128, block_k = 64, num_warps = 4, num_stages = 3, pid_type = "flat" } }))
  end
end
-- tma_ws under MATMUL_MMA_SERP=1 (serpentine mma order): sampled and the 4096^3 best's tile, on
-- dividing shapes (T16's stores) and 1000^3 (fragment stores).
for i, shape in ipairs { { M = 1024, N = 1024, K = 1024 }, { M = 512, N = 768, K = 1280 }, { M = 1000, N = 1000, K = 1000 } } do
  tests[string.format("matmul loads=tma_ws MATMUL_MMA_SERP=1 %dx%dx%d matches reference", shape.M, shape.N, shape.K)] = function()
    if not check.hopper() then return check.skip("TMA needs a compute capability 9.0 device") end
    local opts = { loads = "tma_ws", defines = { MATMUL_MMA_SERP = 1 } }
    for k, x in pairs(shape) do opts[k] = x end
    local p = assert(htune.problem("matmul", opts))
    check.expect_sampled_match(p, CONFIGS // 2, 1200 + i, nil, ",1>$")
    check.expect_match(p, check.configs(p, {
      { block_m = 128, block_n = 256, block_k = 128, num_warps = 8, num_stages = 2, pid_type = "persistent_blocked" } }))
  end
end
-- MATMUL_WS2 (the default, GPU-checked as MATMUL_WS2=1 in call 54): one consumer warpgroup
-- compiled for two blocks per SM (setmaxnreg 24 / 232 of a 128-register launch), two persistent
-- blocks per SM where shared memory allows; and MATMUL_WS2=0, one block per SM.
for i, shape in ipairs { { M = 1024, N = 1024, K = 1024 }, { M = 1000, N = 1000, K = 1000 }, { M = 4096, N = 2048, K = 256 } } do
  tests[string.format("matmul loads=tma_ws, 4 warps, two blocks an SM, %dx%dx%d matches reference", shape.M, shape.N, shape.K)] = function()
    if not check.hopper() then return check.skip("TMA needs a compute capability 9.0 device") end
    local opts = { loads = "tma_ws" }
    for k, x in pairs(shape) do opts[k] = x end
    local p = assert(htune.problem("matmul", opts))
    check.expect_sampled_match(p, CONFIGS, 980 + i, function(c) return c.num_warps == 4 end, ",1>$")
    local c = p.space:default()
    c.block_m, c.block_n, c.block_k, c.num_warps, c.num_stages, c.pid_type = 128, 128, 64, 4, 3, "persistent_blocked"
    assert(p.space:validate(c))
    local tiles = ((shape.M + 127) // 128) * ((shape.N + 127) // 128)
    assert(p.launch(c).grid[1] == math.min(tiles, 2 * 132))   -- two blocks a (spec) SM
    check.expect_match(p, { c })
  end
  tests[string.format("matmul loads=tma_ws MATMUL_WS2=0, 4 warps, one block an SM, %dx%dx%d matches reference", shape.M, shape.N, shape.K)] = function()
    if not check.hopper() then return check.skip("TMA needs a compute capability 9.0 device") end
    local opts = { loads = "tma_ws", defines = { MATMUL_WS2 = 0 } }
    for k, x in pairs(shape) do opts[k] = x end
    check.expect_sampled_match(assert(htune.problem("matmul", opts)), CONFIGS // 2, 990 + i, function(c) return c.num_warps == 4 end, ",1>$")
  end
end
-- stream_k 1 under opts.stream_k (matmul_tma_sk_kernel): a last, partial round of tiles split by k-tiles over
-- every persistent block, partial sums meeting in W. Shapes where it splits (tiles > blocks and
-- each block's share of the rest under a tile's k-tiles): 4096x2048x2048 (128x256 tiles: 124 of
-- 256 split over 132 blocks, 30-31 of 32 k-tiles each; 4-warp 128x128 at two blocks an SM: 232
-- of 1024 over 264), tails at 4000x2000x3000, and 4096^3's best tile; sampled persistent configs
-- on two of them (some split, some do not).
for i, shape in ipairs { { M = 4096, N = 2048, K = 2048 }, { M = 4000, N = 2000, K = 3000 }, { M = 4096, N = 4096, K = 4096 } } do
  tests[string.format("matmul loads=tma_ws stream_k %dx%dx%d matches reference", shape.M, shape.N, shape.K)] = function()
    if not check.hopper() then return check.skip("TMA needs a compute capability 9.0 device") end
    local opts = { loads = "tma_ws", stream_k = true }
    for k, x in pairs(shape) do opts[k] = x end
    local p = assert(htune.problem("matmul", opts))
    local cfgs = check.configs(p, {
      { block_m = 128, block_n = 256, block_k = 64, num_warps = 8, num_stages = 4, pid_type = "persistent_blocked", stream_k = 1 },
      { block_m = 128, block_n = 256, block_k = 128, num_warps = 8, num_stages = 2, pid_type = "persistent_interleaved", stream_k = 1 },
      { block_m = 256, block_n = 128, block_k = 64, num_warps = 8, num_stages = 3, pid_type = "persistent_interleaved", stream_k = 1 },
      { block_m = 128, block_n = 128, block_k = 64, num_warps = 4, num_stages = 3, pid_type = "persistent_blocked", stream_k = 1 },
      { block_m = 128, block_n = 128, block_k = 64, num_warps = 4, num_stages = 4, pid_type = "persistent_blocked" } })
    for j, c in ipairs(cfgs) do
      local name = p.compile(c).name_expr
      assert(name:match(j < 5 and "^matmul_tma_sk_kernel<" or "^matmul_tma_kernel<"), name)   -- the 5th: stream_k 0
    end
    check.expect_match(p, cfgs)
    if i < 3 then
      check.expect_sampled_match(p, CONFIGS // 2, 1100 + i, function(c) return c.stream_k == 1 end,
        "^matmul_tma_sk_kernel<")
    end
  end
end
tests["matmul loads=tma_ws cluster=2, persistent 128x256 and 256x128 (several tiles a pair) at 4096x2048x512 matches reference"] = function()
  if not check.hopper() then return check.skip("TMA needs a compute capability 9.0 device") end
  local p = assert(htune.problem("matmul", { M = 4096, N = 2048, K = 512, loads = "tma_ws", clusters = true }))
  check.expect_match(p, check.configs(p, {
    { block_m = 128, block_n = 256, block_k = 64, num_warps = 8, num_stages = 4, pid_type = "persistent_blocked" },
    { block_m = 256, block_n = 128, block_k = 64, num_warps = 8, num_stages = 3, pid_type = "persistent_interleaved" },
    { block_m = 128, block_n = 256, block_k = 128, num_warps = 8, num_stages = 2, pid_type = "persistent_blocked" },
    { block_m = 64, block_n = 128, block_k = 128, num_warps = 4, num_stages = 2, pid_type = "persistent_interleaved" },
    { block_m = 128, block_n = 128, block_k = 64, num_warps = 4, num_stages = 4, pid_type = "flat" },
  }, { cluster = 2 }))
end
return tests

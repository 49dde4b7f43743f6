-- matmul_wgmma problem spec: C = A·B (fp16 in, fp32 accumulate, fp16 out, row-major, any M, N,
-- K) on Hopper only (sm_90a: wgmma.mma_async, setmaxnreg). Same Problem contract and buffers
-- as kernels/matmul/spec.lua (both from htune.problems.matmul_common), so results compare one
-- to one; builder called by htune.problem("matmul_wgmma", {M=, N=, K=, sm_count=}).
--
-- Loads (parameter `loads`): "tma" (matmul_wgmma_tma_kernel, the default where allowed): one
-- producer thread issues cp.async.bulk.tensor copies through two CUtensorMap kernel arguments
-- (tmA: A as M rows x K cols, box BM x 64; tmB: B as K rows x N cols, box BK x 64; both
-- 128B-swizzled, zeros past the edges), encoded by the worker from its device buffers (the
-- `{tmap=...}` args below; 3x faster than cp.async at 4096^3 in kernels/NOTES.md wg run 2).
-- TMA needs 16-byte row pitches, K % 8 == 0 and N % 8 == 0, so on other shapes a space
-- constraint rejects "tma" configs. "cp_async": the producer warpgroup writes 16-byte cp.async
-- chunks at 128B-swizzled addresses, completing on an mbarrier; any M, N, K (plain loads when
-- misaligned). Both share the consumers and the shared-memory layout.
--
-- Parameters (seed names where they mean the same):
--   block_m/n/k: tile; block_n is the wgmma N (64, 128, 256), block_k whole 64-wide panels.
--   num_warps: 8 = one producer + one consumer warpgroup, 12 = one producer + two consumers;
--     each consumer owns block_m / consumers rows as 1 or 2 m64 wgmma row blocks.
--   num_stages: mbarrier ring depth (shared-memory slots).
--   pid_type: flat (one tile per block) or persistent_interleaved (one block per SM, tiles
--     round-robin, the producer prefetches the next tile while consumers store the last).
--   l2_grouping, loop_order: tile order as in kernels/matmul (grouped raster, M- or N-major):
--     by default the kernel's last two arguments, so configs differing only there share one
--     compiled kernel (opts.tile_order = "compiled" puts them in the template instead).
--   loads: "tma" or "cp_async" (above).
--   cluster (only with opts.clusters = true): 1, or 2 = thread-block clusters of 2 along N
--     (matmul_wgmma_tma_cl2_kernel, TMA only): the pair shares its rows of A, each CTA loads
--     half of them (tmA's box 64 x BM/2) and multicasts it to both, so A is read from L2 once
--     per pair; needs an even number of tiles along N. Opt-in because it measured no faster
--     (H200, calls 29-30: 1.14-1.25x slower at 1024^3, 0.99-1.02x at 4096^3; kernels/NOTES.md),
--     and a parameter that never wins only slows the search.
-- Not here: split-K, eviction hints, vector width.
local mm = require "htune.problems.matmul_common"

return function(opts, env)
  local S = env.htune.space
  local M, N, K, sm_count = mm.shape(opts)
  local tma_fits = K % 8 == 0 and N % 8 == 0   -- 16-byte row pitches of A and B
  local function cluster_of(c) return c.cluster or 1 end

  local function consumers(c) return c.num_warps // 4 - 1 end
  -- m64 row blocks per consumer warpgroup, or nil when block_m does not split into them.
  local function row_blocks(c)
    local nc = consumers(c)
    if c.block_m % (64 * nc) ~= 0 then return nil end
    return c.block_m // (64 * nc)
  end
  -- Dynamic shared memory: the ring, the epilogue's staging tile (block_m rows of block_n + 8
  -- halves) and 1024 bytes to align the swizzle atoms.
  local function smem_bytes(c)
    return c.num_stages * 2 * (c.block_m * c.block_k + c.block_k * c.block_n) + c.block_m * (c.block_n + 8) * 2 + 1024
  end

  -- The default: 128x256x64, two consumers, 3 stages (the 4096^3 best's shape) when its tiles
  -- fill every SM; else 64x128x128, one consumer, 4 stages (the 1024^3 best of call 33, whose
  -- 128 tiles nearly fill 132 SMs, where 128x256 leaves 100 idle). The start matters: a 5-s
  -- search from the large tile reached within 2% at 1024^3 in 1 of 3 runs (call 33).
  local big = mm.cdiv(M, 128) * mm.cdiv(N, 256) >= sm_count
  local d = big and { 128, 256, 64, 12, 3 } or { 64, 128, 128, 8, 4 }
  local space = S.new {
    name = "matmul_wgmma",
    params = {
      { "block_m", S.choice { 64, 128, 256 }, default = d[1] },
      { "block_n", S.choice { 64, 128, 256 }, default = d[2] },
      { "block_k", S.choice { 64, 128 }, default = d[3] },
      { "num_warps", S.choice { 8, 12 }, default = d[4] },
      { "num_stages", S.int(2, 8, 1), default = d[5] },
      { "pid_type", S.choice { "flat", "persistent_interleaved" }, default = "persistent_interleaved" },
      { "l2_grouping", S.choice { 1, 2, 4, 8, 16, 32 }, default = 8 },
      { "loop_order", S.perm(2) },
      { "loads", S.choice { "tma", "cp_async" }, default = tma_fits and "tma" or "cp_async" },
      opts.clusters and { "cluster", S.choice { 1, 2 }, default = 1 } or nil,
    },
    bounds = {
      -- ring + 16 bytes of mbarriers per stage + C staging + 1024 alignment slack
      { name = "smem_bytes", max = mm.SMEM_MAX - 1024, terms = {
        { 2, "num_stages", "block_m", "block_k" }, { 2, "num_stages", "block_k", "block_n" },
        { 16, "num_stages" }, { 2, "block_m", "block_n" }, { 16, "block_m" } } },
    },
    constraints = {
      { name = "consumer rows", fn = function(c)
        local mi = row_blocks(c)
        if mi and mi <= 2 then return true end
        return false, string.format("block_m %d is not 1 or 2 m64 blocks per each of %d consumer warpgroups",
          c.block_m, consumers(c))
      end },
      { name = "registers", fn = function(c)
        local mi = row_blocks(c) or 1
        local acc = mi * c.block_n // 2
        if acc <= 128 then return true end
        return false, string.format("%d fp32 accumulator registers per thread, over 128", acc)
      end },
      { name = "cluster", fn = function(c)
        if cluster_of(c) == 1 then return true end
        if c.loads ~= "tma" then return false, "cluster 2 multicasts through TMA: needs loads = tma" end
        local tn = mm.cdiv(N, c.block_n)
        if tn % 2 == 0 then return true end
        return false, string.format("cluster 2 pairs tiles along N: %d tiles of %d columns is odd", tn, c.block_n)
      end },
      { name = "tma row pitch", fn = function(c)
        if c.loads ~= "tma" or tma_fits then return true end
        return false, string.format("tma needs 16-byte row pitches (K %% 8 == 0 and N %% 8 == 0), got K %d, N %d", K, N)
      end },
    },
  }

  local PID = { flat = 0, persistent_interleaved = 1 }
  -- The tile order: kernel arguments by default (GROUP 0), or compiled in with opts.tile_order =
  -- "compiled", where GROUP is mm.kernel_group: groups spanning the major dimension share a kernel.
  local GROUPS = mm.param_values(space, "l2_grouping")
  local order = mm.tile_order("matmul_wgmma", opts, GROUPS, M, N)
  local function name_expr(c)
    local kernel = c.loads ~= "tma" and "matmul_wgmma_kernel" or cluster_of(c) == 2 and "matmul_wgmma_tma_cl2_kernel"
      or "matmul_wgmma_tma_kernel"
    local group, ord = order.slots(c)
    return string.format("%s<%d,%d,%d,%d,%d,%d,%d,%d>", kernel,
      c.block_m, c.block_n, c.block_k, consumers(c), c.num_stages, PID[c.pid_type], group, ord)
  end
  return mm.problem({
    name = "matmul_wgmma",
    source_files = { "../common/fp16.cuh", "../common/tma.cuh", "../common/matmul_reference.cuh", "../common/tile_coords.cuh", "matmul_wgmma.cu" },
    minimal = true, -- no textures, runtime API or device launches: NVRTC -minimal (htune.problem)
    arch = "sm_90a",
    space = space,
    smem_bytes = smem_bytes, consumers = consumers, row_blocks = row_blocks,
    describe = {
      block_m = "rows of C per thread block; split over the consumer warpgroups in m64 wgmma blocks",
      block_n = "columns of C per thread block = the wgmma N (m64nNk16)",
      block_k = "K depth of one pipeline stage (64-wide 128B-swizzled panels)",
      num_warps = "8: one producer + one consumer warpgroup; 12: one producer + two consumers",
      num_stages = "shared-memory slots in the producer/consumer mbarrier ring",
      pid_type = "flat: one tile per block; persistent_interleaved: one block per SM, tiles round-robin",
      l2_grouping = "tiles grouped along the major dimension so neighbours reuse operands in L2 (1 = plain order)",
      loop_order = "{0,1}: tile order walks M first; {1,0}: N first",
      loads = "tma: one thread copies each stage with TMA tensor maps (needs K % 8 == 0 and N % 8 == 0); cp_async: the producer warpgroup copies 16-byte chunks",
      cluster = "1: independent blocks; 2: clusters of two blocks on adjacent tiles along N that multicast their shared rows of A (one L2 read for both; tma only, even tiles along N)",
    },
    -- WGMMA_EVEN=1 when every tile lies inside C and K rows are 16-byte pitches (htune's
    -- buffers are 256-byte aligned): no edge code in the epilogue, no plain-load producer path
    -- After the common (A, B, C, M, N, K): TMA configs' two maps, then the tile order's group and order.
    extra_args = function(c)
      local a = {}
      if c.loads == "tma" then
        a[1], a[2] = mm.tma_maps(M, N, K, c.block_m // cluster_of(c), c.block_k)
      end
      local g, o = order.args(c)
      a[#a + 1], a[#a + 2] = g, o
      return a
    end,
    compile = function(c)
      local even = M % c.block_m == 0 and N % c.block_n == 0 and K % 8 == 0
      return mm.compile_result(name_expr(c), { WGMMA_EVEN = even and 1 or 0 })
    end,
    launch = function(c)
      local tiles = mm.cdiv(M, c.block_m) * mm.cdiv(N, c.block_n)
      -- clusters of 2: an even grid (tiles is even by the cluster constraint)
      local grid = c.pid_type == "flat" and tiles or math.min(tiles, sm_count // cluster_of(c) * cluster_of(c))
      return mm.launch_result({ grid, 1, 1 }, c, smem_bytes(c))
    end,
  }, M, N, K)
end

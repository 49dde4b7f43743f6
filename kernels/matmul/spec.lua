-- matmul problem spec: C = A·B (fp16 in, fp32 accumulate, fp16 out, row-major, any M, N, K).
-- Returns a builder called by htune.problem(name, opts) with opts {M=, N=, K=, dtype=,
-- sm_count=}; it builds the config space (the seed's Helion matmul space where the parameter
-- means something for this CUDA C++ template) and the pure functions of the Problem contract;
-- buffers, args, reference, tolerance and work counts come from htune.problems.matmul_common.
--
-- Mapping of the seed's 12 Helion parameters:
--   block_m/n/k, num_warps, num_stages, pid_type -> template arguments as named (pid_type xyz
--     = a 2-D grid; persistent_* = one block per resident slot, tiles taken in contiguous
--     chunks (blocked) or round-robin (interleaved)).
--   l2_groupings -> l2_grouping = Triton's grouped tile order (GROUP tiles along the major
--     dimension share operands in L2); loop_orders -> loop_order, a perm(2): {0,1} walks tiles
--     M-major, {1,0} N-major. Both are kernel arguments by default (opts.tile_order =
--     "runtime": configs that differ only there share one compiled kernel; on the H200 5-s
--     pattern runs made 1.3-1.8x the evals, and the kernels ran 0.97-1.04x, calls 40-41), or
--     template arguments with opts.tile_order = "compiled".
--   load_eviction_policies -> L2 cache-policy hints ("", "first", "last") on the cp.async
--     loads of A and B (hints apply with vector_width 8, the 16-byte cp.async.cg path).
--   indexing (pointer / tensor_descriptor) -> the problem option opts.loads, not a parameter
--     (the recorded tables' configs keep their ids): "cp_async" (default) or "tma"
--     (matmul_tma_kernel: TMA tensor-map boxes into 128B-swizzled stages; block_k and block_n
--     multiples of 64, two or more stages, K % 8 == 0 and N % 8 == 0; vector_width and
--     load_eviction_policies then change nothing) or "tma_ws" (the same with a producer
--     warpgroup beside num_warps = 4 or 8 computing warps, and C stored straight from registers;
--     with 4, two blocks per SM: MATMUL_WS2 in matmul.cu).
--   added with opts.clusters = true (loads = "tma_ws" only): cluster, 1 or 2 = thread-block
--     clusters of 2 on vertically adjacent tiles (matmul_tma_cl2_kernel) that multicast their
--     shared B stage (each CTA copies half its rows, tmB's box 64 x block_k/2), so B is read from
--     L2 once per pair; tiles along M even, a 1-D grid (not xyz). Opt-in: on the H200 at 4096^3
--     it ran 1.04-1.06x the time of the same five tiles unclustered (call 53).
--   added with opts.stream_k = true (loads = "tma_ws" only): stream_k, 0 or 1 = on persistent
--     configs without clusters, matmul_tma_sk_kernel, which splits the tiles of a last, partial
--     round over the persistent blocks by k-tiles (stream-K; partial sums meet in a workspace W
--     of fp32 tiles with a flag each in F, two more buffers and kernel arguments). On the H200
--     at 4096^3 (512 tiles, 116 in the fourth round on 132 SMs) five tiles ran 1.025-1.052x the
--     time split (call 61), so it is a parameter the tuner may turn on, not a default.
--   range_unroll_factors, range_num_stages -> omitted: the K loop is one software pipeline
--     whose depth is num_stages; its inner loops are fully unrolled at compile time.
--   added: vector_width, halves per cp.async (2, 4, 8 = 4, 8, 16 bytes).
-- num_warps maps to a warp layout WM x WN (WM*WN = num_warps) chosen by warp_layout() below:
-- warp tiles (block_m/WM) x (block_n/WN) must be multiples of 16 x 16; of those layouts the
-- squarest warp tile wins, ties to the taller. Split-K is not implemented.
local mm = require "htune.problems.matmul_common"

return function(opts, env)
  local S = env.htune.space
  local M, N, K, sm_count = mm.shape(opts)
  local SMEM_MAX, REGS_PER_SM = mm.SMEM_MAX, 65536

  local function log2(x) return math.log(x, 2) end
  -- (WM, WN) for this block and warp count, or nil when no layout tiles the block.
  local function warp_layout(bm, bn, nw)
    local best, best_score
    local wm = 1
    while wm <= nw do
      local wn = nw // wm
      if bm % (16 * wm) == 0 and bn % (16 * wn) == 0 then
        local score = math.abs(log2(bm // wm) - log2(bn // wn)) * 2 + (bm // wm >= bn // wn and 0 or 1)
        if not best_score or score < best_score then best, best_score = { wm, wn }, score end
      end
      wm = wm * 2
    end
    if best then return best[1], best[2] end
  end
  local LOADS = opts.loads or "cp_async"
  if LOADS ~= "cp_async" and LOADS ~= "tma" and LOADS ~= "tma_ws" then
    error("matmul: opts.loads must be 'cp_async', 'tma' or 'tma_ws', got '" .. tostring(LOADS) .. "'", 0)
  end
  local TMA, WS = LOADS ~= "cp_async", LOADS == "tma_ws"
  if opts.clusters and not WS then
    error("matmul: opts.clusters needs loads = 'tma_ws' (the producer warpgroup multicasts), got loads '" .. LOADS .. "'", 0)
  end
  local function cluster_of(c) return c.cluster or 1 end
  if opts.stream_k and not WS then
    error("matmul: opts.stream_k needs loads = 'tma_ws' (matmul_tma_sk_kernel), got loads '" .. LOADS .. "'", 0)
  end
  -- stream-K: W's floats per SM (a block's partial tile is BM*BN of them; the register bound
  -- keeps a WS SM's tiles at 32768 today, so the constraint below is a guard for larger ones)
  local SK_SLOT = 65536
  local function stream_k(c) return c.stream_k == 1 end
  local blocks_per_sm   -- (below)
  -- MATMUL_WS2 (matmul.cu, on unless opts.defines sets it to 0): one consumer warpgroup
  -- compiled for two blocks per SM.
  local WS2 = WS and not (opts.defines and opts.defines.MATMUL_WS2 == 0)
  local function smem_bytes(c)
    return c.num_stages * 2 * (c.block_m * (c.block_k + 8) + c.block_k * (c.block_n + 8))
  end
  -- What a launch asks for: the padded tiles, or with TMA the unpadded stages plus 1024 bytes to
  -- align the swizzle atoms (the space's smem bound stays the padded one, which is larger).
  local function smem_launch(c)
    if TMA then return c.num_stages * 2 * (c.block_m * c.block_k + c.block_k * c.block_n) + 1024 end
    return smem_bytes(c)
  end
  -- Registers per thread: accumulators + double-buffered A/B fragments + ~40 for addresses and
  -- indices (checked against ptxas on sampled configs: the single-buffer estimate let 1-warp
  -- 128x32 tiles through that ptxas then spilled at 255 registers).
  local function regs_estimate(c)
    local wm, wn = warp_layout(c.block_m, c.block_n, c.num_warps)
    local tm, tn = c.block_m // wm, c.block_n // wn
    return tm * tn // 32 + 2 * ((tm // 16) * 4 + (tn // 8) * 2) + 40
  end
  -- cp.async copies each thread issues per pipeline stage (the K loop body is unrolled, so this
  -- is code size: 96 copies x 4 stages took ptxas 7 s and spilled 1 KB; such kernels never win).
  local MAX_COPIES = 32
  local function copies_per_thread(c)
    return (c.block_m * c.block_k + c.block_k * c.block_n) // (c.vector_width * 32 * c.num_warps)
  end

  -- The default tile: the first of 128x128, 64x128, 128x64 whose tiles fill every SM once, else
  -- 64x64 (a 128x128 default leaves 68 of 132 SMs idle at 1024^3; pattern starts from it).
  local function default_tile()
    for _, t in ipairs { { 128, 128 }, { 64, 128 }, { 128, 64 } } do
      if mm.cdiv(M, t[1]) * mm.cdiv(N, t[2]) >= sm_count then return t[1], t[2] end
    end
    return 64, 64
  end
  local default_bm, default_bn = default_tile()

  local params = {
    { "block_m", S.pow2(16, 256), default = default_bm },
    { "block_n", S.pow2(16, 256), default = default_bn },
    { "block_k", S.pow2(16, 128), default = TMA and 64 or 32 },   -- TMA: whole 64-wide panels
    { "num_warps", S.choice { 1, 2, 4, 8, 16 }, default = 4 },
    { "num_stages", S.int(1, 8, 1), default = 4 },
    { "pid_type", S.choice { "flat", "xyz", "persistent_blocked", "persistent_interleaved" } },
    { "l2_grouping", S.choice { 1, 2, 4, 8, 16, 32, 64 }, default = 8 },
    { "loop_order", S.perm(2) },
    { "load_eviction_policies", S.list(2, S.choice { "", "first", "last" }) },
    { "vector_width", S.choice { 2, 4, 8 }, default = 8 },
  }
  if opts.clusters then params[#params + 1] = { "cluster", S.choice { 1, 2 }, default = 1 } end
  if opts.stream_k then params[#params + 1] = { "stream_k", S.choice { 0, 1 }, default = 0 } end
  local space = S.new {
    name = "matmul",
    params = params,
    bounds = {
      -- stages * 2 bytes * (BM*(BK+8) + BK*(BN+8)), the padded shared-memory tiles
      { name = "smem_bytes", max = SMEM_MAX, terms = {
        { 2, "num_stages", "block_m", "block_k" }, { 16, "num_stages", "block_m" },
        { 2, "num_stages", "block_k", "block_n" }, { 16, "num_stages", "block_k" } } },
      { name = "threads", max = 1024, terms = { { 32, "num_warps" } } },
    },
    constraints = {
      { name = "warp tiling divides the block", fn = function(c)
        if warp_layout(c.block_m, c.block_n, c.num_warps) then return true end
        return false, string.format("no WMxWN=%d layout gives 16x16-multiple warp tiles of %dx%d",
          c.num_warps, c.block_m, c.block_n)
      end },
      { name = "copies per thread", fn = function(c)
        if TMA then return true end   -- thread 0 issues a few TMA boxes
        local n = copies_per_thread(c)
        if n <= MAX_COPIES then return true end
        return false, string.format("%d cp.async per thread per stage (vector_width %d), over %d", n, c.vector_width, MAX_COPIES)
      end },
      { name = "registers", fn = function(c)
        if not warp_layout(c.block_m, c.block_n, c.num_warps) then return false, "no warp layout" end
        local r, cap = regs_estimate(c), math.min(255, REGS_PER_SM // (c.num_warps * 32))
        -- setmaxnreg's share for two consumer warpgroups, or for one of two blocks an SM (WS2)
        if WS and (c.num_warps == 8 or WS2) then cap = 232 end
        if r <= cap then return true end
        return false, string.format("about %d registers per thread, over %d", r, cap)
      end },
      { name = "tma tiles", fn = function(c)
        if not TMA then return true end
        if c.block_k % 64 ~= 0 or c.block_n % 64 ~= 0 then
          return false, string.format("loads = tma copies 64-wide panels: block_k and block_n must be multiples of 64, got %d and %d", c.block_k, c.block_n)
        end
        if c.num_stages < 2 then return false, "loads = tma needs two or more stages, got 1" end
        if WS and c.num_warps ~= 4 and c.num_warps ~= 8 then
          return false, string.format("loads = tma_ws computes on one or two warpgroups: num_warps must be 4 or 8, got %d", c.num_warps)
        end
        if K % 8 ~= 0 or N % 8 ~= 0 then
          return false, string.format("loads = tma needs 16-byte row pitches (K %% 8 == 0 and N %% 8 == 0), got K %d, N %d", K, N)
        end
        return true
      end },
      { name = "stream-K workspace", fn = function(c)
        if not stream_k(c) then return true end
        if not c.pid_type:match("^persistent") then
          return false, string.format("stream_k 1 splits a persistent grid's last round: pid_type %s is not persistent", c.pid_type)
        end
        if cluster_of(c) ~= 1 then return false, "stream_k 1 runs without clusters: cluster 2 does not split" end
        local floats = blocks_per_sm(c) * c.block_m * c.block_n
        if floats <= SK_SLOT then return true end
        return false, string.format("stream-K: %d blocks an SM of %dx%d partial tiles need %d floats of W an SM, over %d",
          blocks_per_sm(c), c.block_m, c.block_n, floats, SK_SLOT)
      end },
      { name = "cluster", fn = function(c)
        if cluster_of(c) == 1 then return true end
        if c.pid_type == "xyz" then return false, "cluster 2 launches a 1-D grid: pid_type xyz does not apply" end
        local tm = mm.cdiv(M, c.block_m)
        if tm % 2 == 0 then return true end
        return false, string.format("cluster 2 pairs tiles along M: %d tiles of %d rows is odd", tm, c.block_m)
      end },
    },
  }

  -- Products of 2^32 (the seed's 4096x1024x1024) and more get the multistage main loop and the
  -- staged epilogue (MATMUL_XSTAGE, MATMUL_EPI_SMEM in matmul.cu). On the H200 at 4096^3 a 40-s
  -- tune found 331.8 us with them against 409.5 us without (kernels/h200-logs call 37); at
  -- 4096x1024x1024 they ran four named tiles in 0.66-0.96x the time (call 38); at 1024^3 they
  -- move the table's best by 4% and its 10 fastest either way (calls 36-37), while NVRTC takes
  -- 1.44x as long a config, so smaller products keep the plain code. opts.defines overrides.
  local LARGE = M * N * K >= 2 ^ 32
  -- Dividing shapes get MATMUL_ADDR (copy and ldmatrix addresses as per-thread bases): on the
  -- H200 (call 47) the best of 80 configs of the 1024^3 table went 13.18 -> 12.44 us and five of
  -- seven large 4096^3 tiles took 0.92-0.99x the time (the best one 1.02x), and NVRTC compiled
  -- 76.6 / 78.7 against 62.3 / 68.3 configs/s on 16 threads. The recorded tables in data/ were
  -- measured without it (opts.defines = { MATMUL_ADDR = 0 } gives their kernels). The template's
  -- MATMUL_PROLOGUE_ROLLED follows MATMUL_ADDR below 2^32 (faster kernels and compiles with it,
  -- call 50), not with the multistage loop (the 4096^3 best 1.12x slower rolled, call 51).

  local PID = { flat = 0, xyz = 1, persistent_blocked = 2, persistent_interleaved = 3 }
  local EVICT = { [""] = 0, first = 1, last = 2 }
  local function tiles(c) return mm.cdiv(M, c.block_m), mm.cdiv(N, c.block_n) end
  local GROUPS = mm.param_values(space, "l2_grouping")
  -- opts.tile_order: "runtime" (default) passes l2_grouping and loop_order as kernel arguments
  -- (GROUP 0 in the template), so configs that differ only there share one compiled kernel;
  -- "compiled" puts them in the template (mm.tile_order).
  local order = mm.tile_order("matmul", opts, GROUPS, M, N)
  -- Template arguments that change nothing take one value, so that configs differing only there
  -- share one compiled kernel (the live backend then compiles it once): the group
  -- (mm.kernel_group), and the eviction hints without the 16-byte cp.async path, the only one
  -- that applies them.
  local function name_expr(c)
    local wm, wn = warp_layout(c.block_m, c.block_n, c.num_warps)
    local ev = c.load_eviction_policies
    local ea, eb = EVICT[ev[1]], EVICT[ev[2]]
    if c.vector_width ~= 8 then ea, eb = 0, 0 end
    local group, ord = order.slots(c)
    if cluster_of(c) == 2 then
      return string.format("matmul_tma_cl2_kernel<%d,%d,%d,%d,%d,%d,%d,%d,%d>",
        c.block_m, c.block_n, c.block_k, wm, wn, c.num_stages, PID[c.pid_type], group, ord)
    end
    if stream_k(c) then
      return string.format("matmul_tma_sk_kernel<%d,%d,%d,%d,%d,%d,%d,%d,%d>",
        c.block_m, c.block_n, c.block_k, wm, wn, c.num_stages, PID[c.pid_type], group, ord)
    end
    if TMA then
      return string.format("matmul_tma_kernel<%d,%d,%d,%d,%d,%d,%d,%d,%d,%d>",
        c.block_m, c.block_n, c.block_k, wm, wn, c.num_stages, PID[c.pid_type], group, ord, WS and 1 or 0)
    end
    return string.format("matmul_kernel<%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d>",
      c.block_m, c.block_n, c.block_k, wm, wn, c.num_stages, PID[c.pid_type], group, ord,
      c.vector_width, ea, eb)
  end
  -- Resident blocks per SM by shared memory, threads and estimated registers (at least 1).
  function blocks_per_sm(c)
    local threads = c.num_warps * 32 + (WS and 128 or 0)   -- WS: and the producer warpgroup
    local by_smem = (233472) // (smem_launch(c) + 1024)
    local by_threads = 2048 // threads
    local by_regs = REGS_PER_SM // (threads * math.max(regs_estimate(c), 32))
    -- WS launches with the block's share of setmaxnreg's pool: 8 warps 168 a thread (one block),
    -- MATMUL_WS2's 4 warps 128 (two)
    if WS and c.num_warps == 8 then by_regs = 1 elseif WS2 and c.num_warps == 4 then by_regs = 2 end
    return math.max(1, math.min(by_smem, by_threads, by_regs, 32))
  end

  local problem = mm.problem({
    name = "matmul",
    source_files = { "../common/fp16.cuh", "../common/tma.cuh", "../common/matmul_reference.cuh", "../common/tile_coords.cuh", "matmul.cu" },
    -- the tile order's group and order, read by the kernel when the template's GROUP is 0
    -- with loads = tma the two tensor maps first
    extra_args = function(c)
      local a = {}
      if TMA then a[1], a[2] = mm.tma_maps(M, N, K, c.block_m, c.block_k // cluster_of(c)) end
      local g, o = order.args(c)
      a[#a + 1], a[#a + 2] = g, o
      if stream_k(c) then a[#a + 1], a[#a + 2] = "W", "F" end
      return a
    end,
    minimal = true, -- no textures, runtime API or device launches: NVRTC -minimal (htune.problem)
    arch = TMA and "sm_90a" or nil,   -- TMA and mbarrier transactions: Hopper
    key_variant = TMA and ("loads=" .. LOADS .. (opts.stream_k and "+sk" or "")) or nil,   -- other kernels for the same configs
    space = space,
    warp_layout = warp_layout, smem_bytes = smem_bytes, regs_estimate = regs_estimate,
    copies_per_thread = copies_per_thread,
    describe = {
      block_m = "rows of C computed by one thread block (tile height)",
      block_n = "columns of C computed by one thread block (tile width)",
      block_k = "depth of the K slice loaded into shared memory per pipeline stage",
      num_warps = "warps per block; arranged WMxWN over the tile, each warp owns a (block_m/WM)x(block_n/WN) sub-tile of mma.sync m16n8k16 tiles",
      num_stages = "cp.async shared-memory pipeline depth (1 = load then compute, no overlap)",
      pid_type = "tile schedule: flat 1-D grid, xyz 2-D grid, persistent_blocked (each resident block takes a contiguous run of tiles) or persistent_interleaved (round-robin)",
      l2_grouping = "tiles grouped along the major dimension so neighbours reuse operands in L2 (1 = plain row order)",
      loop_order = "{0,1}: tile order walks M first; {1,0}: N first",
      load_eviction_policies = "L2 eviction hint for loads of A and of B: '' none, 'first' evict-first, 'last' evict-last",
      vector_width = "fp16 elements per cp.async global->shared copy (8 = 16 bytes)",
      stream_k = "1: a persistent grid's last, partial round of tiles split by k-tiles over every block (stream-K, partial sums meet in a workspace); 0: whole tiles",
      cluster = "1: independent blocks; 2: clusters of two blocks on vertically adjacent tiles that multicast their shared B stage (one L2 read for both; loads = tma_ws, even tiles along M)",
    },
    compile = function(c)
      local even = M % c.block_m == 0 and N % c.block_n == 0 and K % c.block_k == 0
      local d = { MATMUL_EVEN = even and 1 or 0, MATMUL_ADDR = even and 1 or nil }
      if LARGE then d.MATMUL_XSTAGE, d.MATMUL_EPI_SMEM = 1, 1 end
      return mm.compile_result(name_expr(c), d)
    end,
    launch = function(c)
      local tm, tn = tiles(c)
      local grid = { tm * tn, 1, 1 }
      if c.pid_type == "xyz" then grid = { tn, tm, 1 } end
      if c.pid_type:match("^persistent") then
        local g = math.min(tm * tn, blocks_per_sm(c) * sm_count)
        grid = { g - g % cluster_of(c), 1, 1 }   -- clusters: whole pairs (tm * tn is even)
      end
      local r = mm.launch_result(grid, c, smem_launch(c))
      if WS then r.block[1] = r.block[1] + 128 end   -- the producer warpgroup
      return r
    end,
  }, M, N, K)
  if opts.stream_k then
    local bufs = problem.buffers
    bufs[#bufs + 1] = { name = "W", dtype = "fp32", count = SK_SLOT * sm_count, init = "zero" }
    bufs[#bufs + 1] = { name = "F", dtype = "int32", count = 32 * sm_count, init = "zero" }
  end
  return problem
end

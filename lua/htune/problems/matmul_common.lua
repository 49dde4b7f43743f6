-- The parts every C = A·B problem spec shares (kernels/matmul, kernels/matmul_wgmma): fp16 in,
-- fp32 accumulate, fp16 out, row-major A (M x K) times B (K x N). Shape options, buffers,
-- kernel arguments, the matmul_reference check, tolerance, work counts and the compile/launch
-- result tables, so every template is fed, checked and counted the same way.
local common = {}

common.SMEM_MAX = 232448 -- opt-in shared memory per block on sm_90 (227 KiB)

function common.cdiv(a, b) return (a + b - 1) // b end

-- M, N, K and the SM count from a spec's opts (1024^3 on an H100's 132 SMs by default).
function common.shape(opts)
  return opts.M or 1024, opts.N or 1024, opts.K or 1024, opts.sm_count or 132
end

-- The loop_order perm as the templates' ORDER argument: 0 walks tiles M-major, 1 N-major.
function common.order_flag(c) return c.loop_order[1] == 0 and 0 or 1 end

-- The values of a space's parameter `name` (for a spec to read once, at build time).
function common.param_values(space, name)
  for _, q in ipairs(space:params()) do if q.name == name then return q.values end end
end

-- GROUP as compiled, for a space whose l2_grouping takes the values `groups` (both templates
-- order tiles with kernels/common/tile_coords.cuh): every l2_grouping at or above the major
-- dimension's tile count gives the same order (one group spans it), so the smallest such listed
-- value stands for them all and those configs share one kernel.
function common.kernel_group(groups, c, M, N)
  local major = common.order_flag(c) == 0 and common.cdiv(M, c.block_m) or common.cdiv(N, c.block_n)
  for _, g in ipairs(groups) do if g >= major then return math.min(g, c.l2_grouping) end end
  return c.l2_grouping
end

-- The tile order (l2_grouping, loop_order) of both templates: opts.tile_order "runtime" (the
-- default) passes it as the kernel's last two arguments and gives GROUP 0 in the template, so
-- configs that differ only there share one compiled kernel; "compiled" puts it in the template.
-- tile_order(name, opts) -> an object with slots(c) = GROUP, ORDER for the template and
-- args(c) = the two i32 arguments (what the kernel reads when GROUP is 0; ignored otherwise).
function common.tile_order(name, opts, groups, m, n)
  local mode = opts.tile_order or "runtime"
  if mode ~= "runtime" and mode ~= "compiled" then
    error(name .. ": opts.tile_order must be 'runtime' or 'compiled', got '" .. tostring(mode) .. "'", 0)
  end
  local o = { mode = mode }
  function o.slots(c)
    if mode == "runtime" then return 0, 0 end
    return common.kernel_group(groups, c, m, n), common.order_flag(c)
  end
  function o.args(c) return { i32 = common.kernel_group(groups, c, m, n) }, { i32 = common.order_flag(c) } end
  return o
end

-- The two TMA tensor-map arguments of an m x n x k product: A (m x k) in boxes of box_m rows,
-- B (k x n) in boxes of box_k rows, both 64 halves wide (one 128-byte swizzle span).
function common.tma_maps(m, n, k, box_m, box_k)
  return { tmap = "A", rows = m, cols = k, box_rows = box_m, box_cols = 64, swizzle = 128 },
         { tmap = "B", rows = k, cols = n, box_rows = box_k, box_cols = 64, swizzle = 128 }
end

-- compile(c)'s result for a template instance and its preprocessor defines, plus
-- HTUNE_NO_REFERENCE=1: the reference kernel (common/matmul_reference.cuh) stays out of a
-- config's program (it cost 15-30% of a config's NVRTC time here; the reference job builds it).
function common.compile_result(name_expr, defines)
  local d = { HTUNE_NO_REFERENCE = 1 }
  for k, v in pairs(defines) do d[k] = v end
  return { name_expr = name_expr, defines = d, options = { "-std=c++17" } }
end

-- launch(c)'s result: grid as given, num_warps * 32 threads, smem bytes of dynamic shared memory.
function common.launch_result(grid, c, smem)
  return { grid = grid, block = { c.num_warps * 32, 1, 1 }, smem = smem }
end

-- problem(spec, m, n, k) -> spec with shape, dtype, key_shape, buffers, args, reference,
-- tolerance, the cuBLAS baseline, flops and bytes filled in for an m x n x k product; the spec brings the rest.
-- A spec's extra_args(c), when given, lists a config's kernel arguments after (A, B, C, M, N, K);
-- args() without a config is the common list the reference takes.
function common.problem(spec, m, n, k)
  local function base() return { "A", "B", "C", { i32 = m }, { i32 = n }, { i32 = k } } end
  local function args(c)
    local a = base()
    if spec.extra_args and c then for _, x in ipairs(spec.extra_args(c)) do a[#a + 1] = x end end
    return a
  end
  spec.shape, spec.dtype = { M = m, N = n, K = k }, "fp16"
  spec.key_shape = string.format("%dx%dx%d", m, n, k)
  spec.buffers = {
    { name = "A", dtype = "fp16", count = m * k, init = "random", seed = 1 },
    { name = "B", dtype = "fp16", count = k * n, init = "random", seed = 2 },
    { name = "C", dtype = "fp16", count = m * n, output = true },
  }
  spec.args = args
  spec.reference = {
    name_expr = "matmul_reference",
    launch = function()
      return { grid = { common.cdiv(n, 16), common.cdiv(m, 16), 1 }, block = { 16, 16, 1 }, smem = 0 }
    end,
    args = base,
  }
  spec.tolerance = { atol = 1e-2, rtol = 1e-2 }
  spec.baseline = { name = "cublas", params = { m, n, k } } -- timed by the same loop: "% of cuBLAS"
  spec.flops = 2 * m * n * k
  spec.bytes = 2 * (m * k + k * n + m * n)
  return spec
end

return common

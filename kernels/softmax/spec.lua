-- softmax problem spec: row-wise softmax over the last dimension, fp16 in/out, fp32 math.
-- Returns a builder called by htune.problem("softmax", {rows=, cols=, dtype=}); it builds
-- the config space and the pure functions of the Problem contract. Constraints depend on the
-- shape: the vector width must divide cols (row starts stay aligned), and the register-resident
-- algorithm must fit the row in at most 64 values per thread.
return function(opts, env)
  local S = env.htune.space
  local rows, cols = opts.rows or 4096, opts.cols or 256
  local MAX_VALUES_PER_THREAD = 64

  local function cdiv(a, b) return (a + b - 1) // b end
  -- Chunks of vector_width per thread when the whole row is held in registers, and the values
  -- they hold (what the "row fits in registers" constraint and the defaults bound).
  local function items(c) return cdiv(cols, c.threads_per_row * c.vector_width) end
  local function row_values(c) return items(c) * c.vector_width end

  -- Defaults that fit the shape (a search starts there): the widest vector that divides cols, a
  -- warp a row, or as many threads as hold the row in registers (8192 columns: 128), 4 rows a
  -- block within 1024 threads, and the one-pass online algorithm where no row fits at all.
  local d_vec = 8
  while cols % d_vec ~= 0 do d_vec = d_vec // 2 end
  local d = { threads_per_row = 32, vector_width = d_vec }
  while d.threads_per_row < 1024 and row_values(d) > MAX_VALUES_PER_THREAD do d.threads_per_row = d.threads_per_row * 2 end
  local d_tpr = d.threads_per_row
  local d_alg = row_values(d) <= MAX_VALUES_PER_THREAD and "registers" or "online"
  local d_rows = math.max(1, math.min(4, 1024 // d_tpr))

  local space = S.new {
    name = "softmax",
    params = {
      { "rows_per_block", S.pow2(1, 64), default = d_rows },
      { "threads_per_row", S.pow2(1, 1024), default = d_tpr },
      { "vector_width", S.choice { 1, 2, 4, 8 }, default = d_vec },
      { "algorithm", S.choice { "registers", "online", "two_pass" }, default = d_alg },
      { "cache_hint", S.choice { "default", "nc", "stream", "no_l1" } },
    },
    bounds = {
      -- whole warps only: rows narrower than a warp reduce with full-warp shuffles
      { name = "threads", min = 32, max = 1024, terms = { { 1, "rows_per_block", "threads_per_row" } } },
    },
    constraints = {
      { name = "vector width divides cols", fn = function(c)
        if cols % c.vector_width == 0 then return true end
        return false, string.format("vector_width %d does not divide cols %d", c.vector_width, cols)
      end },
      { name = "row fits in registers", fn = function(c)
        if c.algorithm ~= "registers" then return true end
        local n = row_values(c)
        if n <= MAX_VALUES_PER_THREAD then return true end
        return false, string.format("registers algorithm needs %d values per thread, over %d", n, MAX_VALUES_PER_THREAD)
      end },
    },
  }

  local MODE = { registers = 0, online = 1, two_pass = 2 }
  local HINT = { default = 0, nc = 1, stream = 2, no_l1 = 3 }
  local function args() return { "X", "Y", { i32 = rows }, { i32 = cols } } end
  return {
    name = "softmax", shape = { rows = rows, cols = cols }, dtype = "fp16",
    key_shape = string.format("%dx%d", rows, cols),
    source_files = { "../common/fp16.cuh", "softmax.cu" },
    minimal = true, -- no textures, runtime API or device launches: NVRTC -minimal (htune.problem)
    space = space,
    items = items,
    describe = {
      rows_per_block = "rows handled by one thread block (block = rows_per_block * threads_per_row threads)",
      threads_per_row = "threads cooperating on one row; reductions by warp shuffles, across warps through shared memory",
      vector_width = "fp16 elements per global load/store (8 = 16-byte accesses)",
      algorithm = "registers: row read once and held in registers; online: one read computing running max and sum, a second read to write; two_pass: a max pass, a sum pass and a write pass (three reads)",
      cache_hint = "global access hint: default, nc (read-only path), stream (.cs evict-first loads and stores), no_l1 (L1::no_allocate loads)",
    },
    compile = function(c)
      local it = c.algorithm == "registers" and items(c) or 1
      return { name_expr = string.format("softmax_kernel<%d,%d,%d,%d,%d,%d>", c.threads_per_row,
        c.rows_per_block, c.vector_width, it, MODE[c.algorithm], HINT[c.cache_hint]),
        defines = { HTUNE_NO_REFERENCE = 1 }, options = { "-std=c++17" } }
    end,
    launch = function(c)
      return { grid = { cdiv(rows, c.rows_per_block), 1, 1 },
               block = { c.threads_per_row * c.rows_per_block, 1, 1 }, smem = 0 }
    end,
    buffers = {
      { name = "X", dtype = "fp16", count = rows * cols, init = "random", seed = 1 },
      { name = "Y", dtype = "fp16", count = rows * cols, output = true },
    },
    args = args,
    reference = {
      name_expr = "softmax_reference",
      launch = function() return { grid = { cdiv(rows, 128), 1, 1 }, block = { 128, 1, 1 }, smem = 0 } end,
      args = args,
    },
    tolerance = { atol = 1e-3, rtol = 1e-2 },
    -- No vendor softmax: the device copy of X into Y (same bytes) is the speed-of-light reference.
    baseline = { name = "memcpy", params = { 0 } },
    flops = 5 * rows * cols,            -- max, subtract, exp, sum, scale per element
    bytes = 2 * 2 * rows * cols,        -- read X once, write Y once
  }
end

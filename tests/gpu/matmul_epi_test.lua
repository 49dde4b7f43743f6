-- GPU: kernels/matmul with MATMUL_EPI_SMEM=1 (C staged in the pipeline's shared memory, stored
-- as 16-byte rows; off by default until scripts/ab-define has timed it) matches the reference on
-- a dividing shape and on odd ones for sampled configs, through htune.evaluate.
-- HTUNE_MATMUL_EPI_CONFIGS=N configs per shape (default 10).
--   build/htune run tests/gpu/run.lua matmul_epi
local htune = require "htune"
local check = dofile(htune.sys.root .. "/tests/gpu/problem_check.lua")

local CONFIGS = tonumber(os.getenv("HTUNE_MATMUL_EPI_CONFIGS") or "") or 10
local cases = {
  { M = 1024, N = 1024, K = 1024 },   -- MATMUL_EVEN=1 code
  { M = 1000, N = 1000, K = 1000 },   -- tails, 16-byte rows
  { M = 257, N = 129, K = 77 },       -- odd N: element stores
  { M = 1, N = 300, K = 64 },
}

local tests = {}
for i, shape in ipairs(cases) do
  tests[string.format("matmul MATMUL_EPI_SMEM=1 %dx%dx%d matches reference", shape.M, shape.N, shape.K)] = function()
    local opts = { defines = { MATMUL_EPI_SMEM = 1 } }
    for k, v in pairs(shape) do opts[k] = v end
    local p = assert(htune.problem("matmul", opts))
    check.expect_sampled_match(p, CONFIGS, 500 + i, nil, "^matmul_kernel<")
  end
end
return tests

-- GPU: the Hopper wgmma matmul (kernels/matmul_wgmma) matches its reference on odd shapes for
-- sampled valid configs, through htune.evaluate (NVRTC for sm_90a, the worker, the on-GPU
-- comparison). Skips (passes with a message) on a device that is not compute capability 9.0.
local htune = require "htune"
local check = dofile(htune.sys.root .. "/tests/gpu/problem_check.lua")

local CONFIGS = tonumber(os.getenv("HTUNE_WGMMA_CONFIGS") or "") or 12
local cases = {
  { M = 1024, N = 1024, K = 1024 },  -- every tile divides: WGMMA_EVEN=1 code
  { M = 1000, N = 1000, K = 1000 },
  { M = 257, N = 129, K = 77 },     -- K and N odd: the plain-load producer path
  { M = 1, N = 300, K = 64 },
  { M = 300, N = 8, K = 72 },
  { M = 4097, N = 136, K = 200 },   -- aligned cp.async path with M, N and K tails
}

local tests = {}
for i, shape in ipairs(cases) do
  tests[string.format("matmul_wgmma %dx%dx%d matches reference", shape.M, shape.N, shape.K)] = function()
    if not check.hopper() then return check.skip("not a compute capability 9.0 device") end
    local p = assert(htune.problem("matmul_wgmma", shape))
    check.expect_match(p, check.sample(p, CONFIGS, 200 + i))
  end
end
return tests

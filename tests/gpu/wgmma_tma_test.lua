-- GPU: matmul_wgmma's TMA loads (loads = "tma": matmul_wgmma_tma_kernel, two CUtensorMap args
-- the worker encodes from its buffers) match the reference through the live backend for
-- sampled configs, on 1024^3, a shape with M, N and K tails, and one whose K (64) is smaller
-- than some block_k boxes; and every tile order of two configs, as arguments and compiled in.
-- Skips (passes with a message) on a device that is not cc 9.0.
-- HTUNE_WGMMA_TMA_CONFIGS=N configs per shape (default 8).
--   build/htune run tests/gpu/run.lua wgmma_tma
local htune = require "htune"
local check = dofile(htune.sys.root .. "/tests/gpu/problem_check.lua")

local CONFIGS = tonumber(os.getenv("HTUNE_WGMMA_TMA_CONFIGS") or "") or 8
local cases = {
  { M = 1024, N = 1024, K = 1024 },
  { M = 4097, N = 136, K = 200 },
  { M = 256, N = 512, K = 64 },
}

local function tma(c) return c.loads == "tma" end

local tests = {}
for i, shape in ipairs(cases) do
  tests[string.format("matmul_wgmma tma %dx%dx%d matches reference", shape.M, shape.N, shape.K)] = function()
    if not check.hopper() then return check.skip("not a compute capability 9.0 device") end
    local p = assert(htune.problem("matmul_wgmma", shape))
    check.expect_sampled_match(p, CONFIGS, 300 + i, tma, "^matmul_wgmma_tma_kernel<")
  end
end
-- The tile order as kernel arguments (the default) and compiled in, every schedule, group and
-- order of two TMA configs with tails.
for _, mode in ipairs { "runtime", "compiled" } do
  tests["matmul_wgmma tma tile order " .. mode .. ", every schedule at 4097x136x200, matches reference"] = function()
    if not check.hopper() then return check.skip("not a compute capability 9.0 device") end
    local p = assert(htune.problem("matmul_wgmma", { M = 4097, N = 136, K = 200, tile_order = mode }))
    local nk, n = check.expect_every_order(p, 2, 320, tma)
    print(string.format("  %d configs, %d kernels", n, nk))
    if mode == "runtime" then assert(nk <= 4, nk .. " kernels for 2 configs x 2 schedules") end
  end
end
return tests

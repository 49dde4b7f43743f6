-- GPU: matmul_wgmma in clusters of 2 (opts.clusters, cluster = 2: matmul_wgmma_tma_cl2_kernel, A multicast to
-- the pair, each CTA's slots freed by the consumers of both) matches the reference through the
-- live backend for sampled cluster configs: 1024^3, M/N/K tails with an even tile count along N,
-- K (64) below some block_k boxes, and a persistent grid with many more tiles than clusters.
-- Skips (passes with a message) on a device that is not cc 9.0.
-- HTUNE_WGMMA_CLUSTER_CONFIGS=N configs per shape (default 8).
--   build/htune run tests/gpu/run.lua wgmma_cluster
local htune = require "htune"
local check = dofile(htune.sys.root .. "/tests/gpu/problem_check.lua")

local CONFIGS = tonumber(os.getenv("HTUNE_WGMMA_CLUSTER_CONFIGS") or "") or 8
local cases = {
  { shape = { M = 1024, N = 1024, K = 1024 } },
  { shape = { M = 4097, N = 1000, K = 200 } },
  { shape = { M = 256, N = 512, K = 64 } },
  { shape = { M = 2048, N = 2048, K = 256 }, persistent = true },
}

local tests = {}
for i, case in ipairs(cases) do
  local shape = case.shape
  tests[string.format("matmul_wgmma cluster 2 %dx%dx%d%s matches reference", shape.M, shape.N, shape.K,
    case.persistent and " persistent" or "")] = function()
    if not check.hopper() then return check.skip("not a compute capability 9.0 device") end
    local opts = { clusters = true }
    for k, v in pairs(shape) do opts[k] = v end
    local p = assert(htune.problem("matmul_wgmma", opts))
    local function want(c) return c.cluster == 2 and (not case.persistent or c.pid_type == "persistent_interleaved") end
    check.expect_sampled_match(p, CONFIGS, 400 + i, want, "^matmul_wgmma_tma_cl2_kernel<")
  end
end
return tests

-- call 32: matmul_wgmma template variants against the default on the same configs, one process,
-- 5 rounds with the variants' order alternating; median latency per config and variant.
--   build/htune run kernels/h200-logs/call32-ab-wgmma.lua [--variant LABEL:NAME=V[,NAME=V]] ...
-- An upper-case NAME is a macro (opts.defines); a lower-case one a config parameter set on every
-- config (cluster=2 also turns on opts.clusters). A variant whose shared memory does not fit a
-- config prints '-' there. Calls 29-30 ran the cluster A/B with a script since folded into this
-- one: `--variant cl2:cluster=2 [--variant cl2-nomc:cluster=2,WG_CL_NOMC=1]`.
-- The A/B itself now lives in htune.ab (scripts/ab-variants.lua is the general command).
local ab = require "htune.ab"
local variants = {}
local i = 1
while arg[i] do
  if arg[i] == "--variant" and arg[i + 1] then
    variants[#variants + 1] = assert(ab.parse_variant(arg[i + 1]))
    i = i + 2
  else error("unknown argument " .. arg[i]) end
end
local shapes = {
  { M = 1024, N = 1024, K = 1024, tiles = {
    { 128, 64, 64, 12, 8, "flat" }, { 128, 64, 64, 12, 6, "flat" }, { 64, 128, 128, 8, 4, "flat" },
    { 64, 128, 64, 8, 8, "flat" }, { 128, 128, 64, 12, 4, "flat" }, { 128, 64, 128, 12, 3, "flat" } } },
  { M = 4096, N = 4096, K = 4096, tiles = {
    { 128, 256, 64, 12, 3, "persistent_interleaved" }, { 128, 256, 64, 12, 4, "persistent_interleaved" },
    { 256, 128, 64, 12, 3, "persistent_interleaved" } } },
}
for _, sh in ipairs(shapes) do
  local configs = {}
  for n, t in ipairs(sh.tiles) do
    configs[n] = { block_m = t[1], block_n = t[2], block_k = t[3], num_warps = t[4], num_stages = t[5],
                   pid_type = t[6], loads = "tma" }
  end
  local rows, all = ab.run { problem = "matmul_wgmma", shape = { M = sh.M, N = sh.N, K = sh.K },
                             configs = configs, variants = variants, rounds = 5 }
  print(string.format("== %dx%dx%d (medians of 5 rounds, us; ratio to base)", sh.M, sh.N, sh.K))
  print(ab.format(rows, all))
end

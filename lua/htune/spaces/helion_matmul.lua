-- The 12-parameter Helion matmul config space of ../shared/seed.txt (4,128,768,000 configs).
-- Returns an htune.Space; defaults are a conventional starting point, not a tuned result.
local S = require "htune.space"

return S.new {
  name = "helion_matmul",
  params = {
    { "block_m", S.pow2(16, 256), default = 64 },
    { "block_n", S.pow2(16, 256), default = 64 },
    { "block_k", S.pow2(16, 128), default = 32 },
    { "num_warps", S.pow2(1, 16), default = 4 },
    { "num_stages", S.int(1, 8, 1), default = 3 },
    { "pid_type", S.choice { "flat", "xyz", "persistent_blocked", "persistent_interleaved" } },
    { "indexing", S.list(3, S.choice { "pointer", "tensor_descriptor" }) },
    { "loop_orders", S.perm(2) },
    { "l2_groupings", S.pow2(1, 64) },
    { "load_eviction_policies", S.list(2, S.choice { "", "first", "last" }) },
    { "range_unroll_factors", S.list(2, S.choice { 0, 1, 2, 4 }) },
    { "range_num_stages", S.list(2, S.choice { 0, 1, 2, 3 }) },
  },
}

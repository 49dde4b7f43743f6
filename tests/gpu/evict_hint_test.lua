-- GPU: matmul configs that faulted with CUDA_ERROR_ILLEGAL_INSTRUCTION on the H100 when
-- recorded (data/matmul.replay.gz rows '!fault': all vector_width 8 with an L2 eviction hint
-- and block_n == block_k; cause and fix in kernels/matmul/matmul.cu at B_LANE_XOR) now run and
-- match the reference, at the recorded 1024^3 and on a shape with tails. HTUNE_EVICT_CONFIGS=N
-- takes the first N faulted rows (default 10; the re-measured H100 table now holds 1).
local htune = require "htune"
local replay = require "htune.backends.replay"
local check = dofile(htune.sys.root .. "/tests/gpu/problem_check.lua")

local N = tonumber(os.getenv("HTUNE_EVICT_CONFIGS") or "") or 10

-- The first n configs recorded as faults on the H100, then every fault of the H200 table (3 in
-- its samples of 2026-12-02, one-warp 32x16x16 tiles with both operands hinted; fixed by
-- copy_base in matmul.cu), decoded with the space of a problem of shape `shape`.
local function faulted(p, n)
  local out = {}
  for _, name in ipairs { "matmul", "matmul-h200" } do
    local t = assert(replay.read(htune.sys.root .. "/data/" .. name .. ".replay.gz"))
    local limit = name == "matmul" and n or math.huge
    local k = 0
    for _, row in ipairs(t.rows) do
      if row.reason == "fault" and k < limit then out[#out + 1], k = p.space:at(row.index), k + 1 end
    end
  end
  assert(#out > 0, "no fault rows in data/matmul.replay.gz")
  return out
end

local tests = {}
for _, shape in ipairs { { M = 1024, N = 1024, K = 1024 }, { M = 1000, N = 1000, K = 1000 } } do
  tests[string.format("matmul %s: recorded eviction-hint faults run and match", check.shape_text(shape))] = function()
    local p = assert(htune.problem("matmul", shape))
    local cfgs = faulted(p, N)
    for _, c in ipairs(cfgs) do
      local ev = c.load_eviction_policies
      assert(c.vector_width == 8 and (ev[1] ~= "" or ev[2] ~= ""), "not a hinted 16-byte config: " .. p.compile(c).name_expr)
      assert((p.space:validate(c)), "recorded config no longer valid: " .. p.compile(c).name_expr)
    end
    check.expect_match(p, cfgs)
  end
end
return tests

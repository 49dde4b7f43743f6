-- GPU: every kernel matches its reference within tolerance on odd shapes for 20 random valid
-- configs each (through htune.evaluate, which compiles, launches, and compares with the
-- problem's reference). Run by tests/gpu/run.lua; skipped there without a GPU.
local htune = require "htune"
local check = dofile(htune.sys.root .. "/tests/gpu/problem_check.lua")

local CONFIGS = 20
local cases = {
  { "matmul", { M = 1000, N = 1000, K = 1000 } },
  { "matmul", { M = 1, N = 300, K = 64 } },
  { "matmul", { M = 300, N = 1, K = 72 } },
  { "matmul", { M = 257, N = 129, K = 77 } },
  { "matmul", { M = 1024, N = 1024, K = 1024 } }, -- every tile divides: MATMUL_EVEN=1 code
  { "matmul", { M = 512, N = 768, K = 384 } },    -- some tiles divide, some do not
  { "softmax", { rows = 4097, cols = 129 } },
  { "softmax", { rows = 1, cols = 8192 } },
  { "softmax", { rows = 3, cols = 1000 } },
}

local tests = {}
for i, case in ipairs(cases) do
  local name, shape = case[1], case[2]
  tests[string.format("%s %s matches reference", name, check.shape_text(shape))] = function()
    local p = assert(htune.problem(name, shape))
    check.expect_match(p, check.sample(p, CONFIGS, 100 + i))
  end
end
return tests

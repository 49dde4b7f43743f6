-- GPU: every kernel matches its reference within tolerance on odd shapes for 20 random valid
-- configs each (through htune.evaluate, which compiles, launches, and compares with the
-- problem's reference). Run by tests/gpu/run.lua; skipped there without a GPU.
local htune = require "htune"

local CONFIGS = 20
local cases = {
  { "matmul", { M = 1000, N = 1000, K = 1000 } },
  { "matmul", { M = 1, N = 300, K = 64 } },
  { "matmul", { M = 300, N = 1, K = 72 } },
  { "matmul", { M = 257, N = 129, K = 77 } },
  { "softmax", { rows = 4097, cols = 129 } },
  { "softmax", { rows = 1, cols = 8192 } },
  { "softmax", { rows = 3, cols = 1000 } },
}

local function sample(p, n, seed)
  local r, out, seen = htune.rng(seed), {}, {}
  for _ = 1, 50 * n do
    if #out >= n then break end
    local c = p.space:sample(r)
    local h = p.space:hash(c)
    if not seen[h] then seen[h] = true; out[#out + 1] = c end
  end
  return out
end

local tests = {}
for i, case in ipairs(cases) do
  local name, shape = case[1], case[2]
  local parts = {}
  for k, v in pairs(shape) do parts[#parts + 1] = k .. "=" .. v end
  table.sort(parts)
  tests[string.format("%s %s matches reference", name, table.concat(parts, ","))] = function()
    local p = assert(htune.problem(name, shape))
    local cfgs = sample(p, CONFIGS, 100 + i)
    local results, err = htune.evaluate(p, cfgs, { check = true })
    assert(results, "htune.evaluate: " .. tostring(err))
    assert(#results == #cfgs, string.format("%d results for %d configs", #results, #cfgs))
    for j, r in ipairs(results) do
      assert(r.ok, string.format("%s: %s (%s)\n%s", p.compile(cfgs[j]).name_expr, tostring(r.reason),
        p.key, tostring(r.log or "")))
    end
  end
end
return tests

-- GPU: the Hopper wgmma matmul (kernels/matmul_wgmma) matches its reference on odd shapes for
-- sampled valid configs, through htune.evaluate (NVRTC for sm_90a, the worker, the on-GPU
-- comparison). Skips (passes with a message) on a device that is not compute capability 9.0.
local htune = require "htune"

local CONFIGS = tonumber(os.getenv("HTUNE_WGMMA_CONFIGS") or "") or 12
local cases = {
  { M = 1000, N = 1000, K = 1000 },
  { M = 257, N = 129, K = 77 },     -- K and N odd: the plain-load producer path
  { M = 1, N = 300, K = 64 },
  { M = 300, N = 8, K = 72 },
  { M = 4097, N = 136, K = 200 },   -- aligned cp.async path with M, N and K tails
}

local function hopper()
  local devs = htune.cuda.devices()
  return devs and devs[1] and devs[1].cc == "9.0"
end

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
for i, shape in ipairs(cases) do
  tests[string.format("matmul_wgmma %dx%dx%d matches reference", shape.M, shape.N, shape.K)] = function()
    if not hopper() then print("  skipped: not a compute capability 9.0 device"); return end
    local p = assert(htune.problem("matmul_wgmma", shape))
    local cfgs = sample(p, CONFIGS, 200 + i)
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

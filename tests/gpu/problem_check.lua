-- Shared by the GPU kernel tests (tests/gpu/*_test.lua): sampling distinct valid configs of a
-- problem, and checking configs against the problem's reference through htune.evaluate
-- (compile, launch, on-GPU compare within the spec's tolerance). Not a test file itself.
local htune = require "htune"

local M = {}

-- n distinct valid configs of p's space from rng seed `seed` (only those keep(cfg) accepts, if given).
function M.sample(p, n, seed, keep)
  local r, out, seen = htune.rng(seed), {}, {}
  for _ = 1, 50 * n do
    if #out >= n then break end
    local c = p.space:sample(r)
    local h = p.space:hash(c)
    if not seen[h] and (not keep or keep(c)) then seen[h] = true; out[#out + 1] = c end
  end
  return out
end

-- Raises naming the config (its template instantiation), the reason and the log unless every
-- config of cfgs ran and matched the reference.
function M.expect_match(p, cfgs)
  local results, err = htune.evaluate(p, cfgs, { check = true })
  assert(results, "htune.evaluate: " .. tostring(err))
  assert(#results == #cfgs, string.format("%d results for %d configs", #results, #cfgs))
  for j, r in ipairs(results) do
    assert(r.ok, string.format("%s: %s (%s)\n%s", p.compile(cfgs[j]).name_expr, tostring(r.reason),
      p.key, tostring(r.log or "")))
  end
  return results
end

-- Each pid_type x l2_grouping (the space's smallest two, a middle one and its largest) x
-- loop_order of n sampled configs (keep(cfg) as in sample) matches the reference; returns how
-- many distinct kernels they compiled to and how many configs there were.
function M.expect_every_order(p, n, seed, keep)
  local values = {}
  for _, q in ipairs(p.space:params()) do values[q.name] = q.values end
  local g = values.l2_grouping
  local groups = { g[1], g[2], g[#g // 2 + 1], g[#g] }
  local cfgs, kernels, nk = {}, {}, 0
  for _, base in ipairs(M.sample(p, n, seed, keep)) do
    for _, pid in ipairs(values.pid_type) do
      for _, g in ipairs(groups) do
        for _, order in ipairs { { 0, 1 }, { 1, 0 } } do
          local c = {}
          for k, x in pairs(base) do c[k] = x end
          c.pid_type, c.l2_grouping, c.loop_order = pid, g, order
          assert(p.space:validate(c))
          cfgs[#cfgs + 1] = c
          local e = p.compile(c).name_expr
          if not kernels[e] then kernels[e] = true; nk = nk + 1 end
        end
      end
    end
  end
  M.expect_match(p, cfgs)
  return nk, #cfgs
end

-- Valid configs of p's space: its default with each partial table of `partials` applied, then
-- `common` (a table set on every one, optional); raises naming the first invalid one.
function M.configs(p, partials, common)
  local out = {}
  for i, t in ipairs(partials) do
    local c = p.space:default()
    for k, x in pairs(t) do c[k] = x end
    for k, x in pairs(common or {}) do c[k] = x end
    local ok, why = p.space:validate(c)
    assert(ok, string.format("config %d is not valid: %s", i, tostring(why)))
    out[i] = c
  end
  return out
end

-- n sampled configs that keep(cfg) accepts (raises unless there are n) all match the reference;
-- each one's template instantiation matches name_pattern; prints each with its latency.
function M.expect_sampled_match(p, n, seed, keep, name_pattern)
  local cfgs = M.sample(p, n, seed, keep)
  assert(#cfgs == n, string.format("sampled %d of %d wanted configs", #cfgs, n))
  for j, r in ipairs(M.expect_match(p, cfgs)) do
    local name = p.compile(cfgs[j]).name_expr
    assert(name:match(name_pattern), name .. " does not match " .. name_pattern)
    print(string.format("  %-52s %9.2f us", name, r.latency_us))
  end
end

-- "k=v,..." of a shape table, keys sorted: stable test names.
function M.shape_text(shape)
  local parts = {}
  for k, v in pairs(shape) do parts[#parts + 1] = k .. "=" .. v end
  table.sort(parts)
  return table.concat(parts, ",")
end

-- A test that cannot run here returns check.skip(why): tests/gpu/run.lua counts and prints it
-- apart from the passes.
function M.skip(why) return "skip", why end

-- True on a compute capability 9.0 (Hopper) device.
function M.hopper()
  local devs = htune.cuda.devices()
  return devs and devs[1] and devs[1].cc == "9.0"
end

return M

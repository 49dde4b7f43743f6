-- calls 29-30: matmul_wgmma cluster = 2 (A multicast to the pair) against cluster = 1 on the
-- same tiles, one process, rounds alternating the order; median latency per config. With
-- --nomc, also cluster = 2 compiled with WG_CL_NOMC=1 (each CTA loads all of A itself: the
-- cluster launch and paired slot protocol without the multicast).
--   build/htune run kernels/h200-logs/call29-ab-cluster.lua [--nomc] [--quick]
local htune = require "htune"
local function median(t) table.sort(t) local n = #t return n % 2 == 1 and t[(n + 1) // 2] or (t[n // 2] + t[n // 2 + 1]) / 2 end
local shapes = {
  { M = 1024, N = 1024, K = 1024, tiles = {
    { 128, 64, 64, 12, 6, "flat" }, { 128, 64, 64, 8, 6, "flat" }, { 64, 128, 64, 8, 8, "flat" },
    { 128, 128, 64, 12, 4, "flat" }, { 128, 128, 64, 12, 6, "persistent_interleaved" }, { 64, 256, 64, 8, 4, "flat" },
    { 128, 64, 128, 12, 3, "flat" }, { 64, 64, 64, 8, 8, "flat" } } },
  { M = 4096, N = 4096, K = 4096, tiles = {
    { 128, 256, 64, 12, 4, "persistent_interleaved" }, { 128, 256, 64, 12, 4, "flat" }, { 128, 128, 64, 12, 6, "persistent_interleaved" },
    { 256, 128, 64, 12, 4, "persistent_interleaved" } } },
}
local nomc, quick = false, false
for _, a in ipairs(arg or {}) do
  if a == "--nomc" then nomc = true elseif a == "--quick" then quick = true else error("unknown argument " .. a) end
end
-- variants: {label, cluster, defines}
local variants = { { "cl1", 1 }, { "cl2", 2 } }
if nomc then variants[3] = { "cl2-nomc", 2, { WG_CL_NOMC = 1 } } end
for _, sh in ipairs(shapes) do
  if quick and #sh.tiles > 4 then for k = #sh.tiles, 5, -1 do sh.tiles[k] = nil end end
  local probs = {}
  local rows = {}
  for _, t in ipairs(sh.tiles) do
    local row = {}
    for v, var in ipairs(variants) do
      local p = probs[v] or assert(htune.problem("matmul_wgmma", { M = sh.M, N = sh.N, K = sh.K, clusters = true, defines = var[3] }))
      probs[v] = p
      local c = p.space:default()
      c.block_m, c.block_n, c.block_k, c.num_warps, c.num_stages, c.pid_type, c.loads, c.cluster = t[1], t[2], t[3], t[4], t[5], t[6], "tma", var[2]
      local ok, why = p.space:validate(c)
      assert(ok, why)
      row[v] = { cfg = c, name = p.compile(c).name_expr, lat = {} }
    end
    rows[#rows + 1] = row
  end
  for round = 1, 5 do
    for v = 1, #variants do
      local vv = round % 2 == 1 and v or #variants + 1 - v
      local list = {}
      for k, row in ipairs(rows) do list[k] = row[vv].cfg end
      local res, err = htune.evaluate(probs[vv], list, { check = round == 1 })
      assert(res, err)
      for k, row in ipairs(rows) do
        if res[k].ok then row[vv].lat[#row[vv].lat + 1] = res[k].latency_us
        elseif round == 1 then print("FAILED", variants[vv][1], row[vv].name, res[k].reason, (res[k].log or ""):sub(1, 300)) end
      end
    end
  end
  print(string.format("== %dx%dx%d (medians of 5 rounds, us)", sh.M, sh.N, sh.K))
  for _, row in ipairs(rows) do
    local parts, base = {}, nil
    for v, var in ipairs(variants) do
      local m = #row[v].lat > 0 and median(row[v].lat)
      if v == 1 then base = m end
      parts[#parts + 1] = string.format("%s %8s%s", var[1], m and string.format("%.2f", m) or "-",
        (v > 1 and m and base) and string.format(" (%.3f)", m / base) or "")
    end
    print(string.format("%-50s %s", row[1].name, table.concat(parts, "  ")))
  end
end

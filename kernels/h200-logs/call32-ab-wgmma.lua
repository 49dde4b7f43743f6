-- call 32: matmul_wgmma template variants against the default on the same configs, one process,
-- 5 rounds with the variants' order alternating; median latency per config and variant.
--   build/htune run kernels/h200-logs/call32-ab-wgmma.lua [--variant LABEL:NAME=V[,NAME=V]] ...
-- An upper-case NAME is a macro (opts.defines); a lower-case one a config parameter set on every
-- config (cluster=2 also turns on opts.clusters). A variant whose shared memory does not fit a
-- config prints '-' there. Calls 29-30 ran the cluster A/B with a script since folded into this
-- one: `--variant cl2:cluster=2 [--variant cl2-nomc:cluster=2,WG_CL_NOMC=1]`.
local htune = require "htune"
local median = require("htune.convergence").median
local variants = { { "base", {}, {} } }
local i = 1
while arg[i] do
  if arg[i] == "--variant" and arg[i + 1] then
    local label, list = arg[i + 1]:match("^([%w_%-+]+):(.+)$")
    assert(label, "--variant wants LABEL:NAME=V[,NAME=V], got " .. arg[i + 1])
    local d, params = {}, {}
    for k, v in list:gmatch("([%a_][%w_]*)=([^,]+)") do
      v = math.tointeger(tonumber(v)) or v
      if k:match("^[%u_][%u%d_]*$") then d[k] = v else params[k] = v end
    end
    variants[#variants + 1] = { label, d, params }
    i = i + 2
  else error("unknown argument " .. arg[i]) end
end
local SMEM_MAX = 232448 - 1024
local shapes = {
  { M = 1024, N = 1024, K = 1024, tiles = {
    { 128, 64, 64, 12, 8, "flat" }, { 128, 64, 64, 12, 6, "flat" }, { 64, 128, 128, 8, 4, "flat" },
    { 64, 128, 64, 8, 8, "flat" }, { 128, 128, 64, 12, 4, "flat" }, { 128, 64, 128, 12, 3, "flat" } } },
  { M = 4096, N = 4096, K = 4096, tiles = {
    { 128, 256, 64, 12, 3, "persistent_interleaved" }, { 128, 256, 64, 12, 4, "persistent_interleaved" },
    { 256, 128, 64, 12, 3, "persistent_interleaved" } } },
}
for _, sh in ipairs(shapes) do
  local rows, probs = {}, {}
  for v, var in ipairs(variants) do
    probs[v] = assert(htune.problem("matmul_wgmma", { M = sh.M, N = sh.N, K = sh.K, defines = next(var[2]) and var[2] or nil,
      clusters = var[3].cluster ~= nil or nil }))
  end
  for _, t in ipairs(sh.tiles) do
    local row = {}
    for v, p in ipairs(probs) do
      local c = p.space:default()
      c.block_m, c.block_n, c.block_k, c.num_warps, c.num_stages, c.pid_type, c.loads = t[1], t[2], t[3], t[4], t[5], t[6], "tma"
      for k, x in pairs(variants[v][3]) do c[k] = x end
      assert(p.space:validate(c))
      local fits = p.launch(c).smem <= SMEM_MAX
      row[v] = { cfg = c, name = p.compile(c).name_expr, lat = {}, fits = fits }
    end
    rows[#rows + 1] = row
  end
  for round = 1, 5 do
    for k = 1, #variants do
      local v = round % 2 == 1 and k or #variants + 1 - k
      local list, idx = {}, {}
      for r, row in ipairs(rows) do if row[v].fits then list[#list + 1] = row[v].cfg; idx[#list] = r end end
      local res, err = htune.evaluate(probs[v], list, { check = round == 1 })
      assert(res, err)
      for n, r in ipairs(idx) do
        local cell = rows[r][v]
        if res[n].ok then cell.lat[#cell.lat + 1] = res[n].latency_us
        elseif round == 1 then print("FAILED", variants[v][1], cell.name, res[n].reason, (res[n].log or ""):sub(1, 300)) end
      end
    end
  end
  print(string.format("== %dx%dx%d (medians of 5 rounds, us; ratio to base)", sh.M, sh.N, sh.K))
  for _, row in ipairs(rows) do
    local parts, base = {}, nil
    for v, var in ipairs(variants) do
      local m = #row[v].lat > 0 and median(row[v].lat)
      if v == 1 then base = m end
      parts[#parts + 1] = string.format("%s %7s%s", var[1], m and string.format("%.2f", m) or "-",
        (v > 1 and m and base) and string.format(" (%.3f)", m / base) or "")
    end
    print(string.format("%-46s %s", row[1].name, table.concat(parts, "  ")))
  end
end

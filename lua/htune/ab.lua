-- htune.ab: template variants against the default on the same configs, in one process.
-- Each round times every variant's configs once (htune.evaluate), the variants' order
-- alternating between rounds so drift shows as noise rather than as a difference; the result
-- is the median latency of each config under each variant.
--
--   local ab = require "htune.ab"
--   local v = ab.parse_variant("epi:MATMUL_EPI_SMEM=1")      -- { label, defines, params }
--   local rows = ab.run { problem = "matmul", shape = { M = 4096, N = 4096, K = 4096 },
--                         configs = { { block_m = 128, ... }, ... }, variants = { v }, rounds = 5 }
--   print(ab.format(rows, variants))
--
-- A variant is a label with upper-case NAME=V pairs (template macros, opts.defines) and
-- lower-case ones: a parameter of the problem's space is set on every config (cluster=N also
-- sets opts.clusters: matmul_wgmma, matmul with loads = tma_ws); any other name is a problem option (e.g. matmul's
-- tile_order=compiled). A variant whose launch does not fit a config's shared memory shows '-'.
local htune = require "htune"
local median = require("htune.convergence").median

local M = {}

-- a number where the text reads as one, true/false as booleans (problem options such as
-- matmul's stream_k=true), else the text
local scalar = require("htune.problem").parse_value

-- "LABEL:NAME=V[,NAME=V]" -> { label, defines, params }, or nil and a message naming the text.
function M.parse_variant(text)
  local label, list = tostring(text):match("^([%w_%-+]+):(.+)$")
  if not label then return nil, "a variant is LABEL:NAME=V[,NAME=V], got '" .. tostring(text) .. "'" end
  local d, params, n = {}, {}, 0
  for k, v in list:gmatch("([%a_][%w_]*)=([^,]+)") do
    v = scalar(v)
    if k:match("^[%u_][%u%d_]*$") then d[k] = v else params[k] = v end
    n = n + 1
  end
  if n == 0 then return nil, "variant '" .. label .. "' sets nothing (want NAME=V after the colon)" end
  return { label, d, params }
end

-- "k=v,k=v" -> a table of config parameters (numbers where they read as numbers); a value with
-- colons is a list, empty items kept: loop_order=1:0 -> {1, 0}, load_eviction_policies=first:
-- -> {"first", ""}.
function M.parse_config(text)
  local c, n = {}, 0
  for k, v in tostring(text):gmatch("([%a_][%w_]*)=([^,]+)") do
    if v:find(":", 1, true) then
      local list = {}
      for item in (v .. ":"):gmatch("([^:]*):") do list[#list + 1] = scalar(item) end
      c[k] = list
    else
      c[k] = scalar(v)
    end
    n = n + 1
  end
  if n == 0 then return nil, "a config is name=value[,name=value], got '" .. tostring(text) .. "'" end
  return c
end

-- Runs the A/B; returns rows (one per config: per variant { name, lat = {...}, fits }).
-- o: problem, shape {M,N,K}, configs (partial configs over the space's default), variants
-- (parse_variant results; the base variant is added first), rounds (default 5), opts (extra
-- problem options), force (time configs the space's constraints reject, e.g. to test a
-- constraint; values must still be in the space), smem_max (bytes a block may use, default
-- matmul_common.SMEM_MAX - 1024),
-- backend (htune.evaluate's, default live; tests use synthetic), no_check (skip round 1's check
-- against the reference: for diagnostic variants whose results are wrong by design, such as
-- matmul's MATMUL_WS_NOLOAD).
function M.run(o)
  local variants = { { "base", {}, {} } }
  for _, v in ipairs(o.variants or {}) do variants[#variants + 1] = v end
  local smem_max = o.smem_max or (require("htune.problems.matmul_common").SMEM_MAX - 1024)
  local probs, is_param = {}, {} -- is_param[v][name]: a parameter of variant v's space
  for v, var in ipairs(variants) do
    local po = {}
    for k, x in pairs(o.shape or {}) do po[k] = x end
    for k, x in pairs(o.opts or {}) do po[k] = x end
    po.defines = next(var[2]) and var[2] or nil
    if var[3].cluster ~= nil then po.clusters = true end
    for k, x in pairs(var[3]) do if not is_param[1][k] then po[k] = x end end -- (v > 1 only)
    probs[v] = assert(htune.problem(o.problem, po))
    is_param[v] = {}
    for _, q in ipairs(probs[v].space:params()) do is_param[v][q.name] = true end
  end
  local rows = {}
  for ci, partial in ipairs(o.configs) do
    local row = {}
    for v, p in ipairs(probs) do
      local c = p.space:default()
      for k, x in pairs(partial) do c[k] = x end
      for k, x in pairs(variants[v][3]) do if is_param[v][k] then c[k] = x end end
      local ok, why = p.space:validate(c)
      if not ok and not o.force then error(("config %d is not valid for %s: %s"):format(ci, o.problem, tostring(why)), 2) end
      if not ok and v == 1 then io.write(("config %d breaks %s's constraints (%s): timed anyway (force)\n"):format(ci, o.problem, tostring(why))) end
      local l = p.launch(c)
      row[v] = { cfg = c, name = p.compile(c).name_expr, lat = {}, fits = (l.smem or 0) <= smem_max }
    end
    rows[#rows + 1] = row
  end
  for round = 1, o.rounds or 5 do
    for k = 1, #variants do
      local v = round % 2 == 1 and k or #variants + 1 - k
      local list, idx = {}, {}
      for r, row in ipairs(rows) do if row[v].fits then list[#list + 1] = row[v].cfg; idx[#list] = r end end
      if #list > 0 then
        local res, err = htune.evaluate(probs[v], list, { check = round == 1 and not o.no_check, backend = o.backend })
        assert(res, err)
        for n, r in ipairs(idx) do
          local cell = rows[r][v]
          if res[n].ok then cell.lat[#cell.lat + 1] = res[n].latency_us
          elseif round == 1 then
            io.write(("FAILED %s %s %s %s\n"):format(variants[v][1], cell.name, tostring(res[n].reason), (res[n].log or ""):sub(1, 300)))
          end
        end
      end
    end
  end
  return rows, variants
end

-- One line per config: each variant's median (us) and its ratio to the base.
function M.format(rows, variants)
  local out = {}
  for _, row in ipairs(rows) do
    local parts, base = {}, nil
    for v, var in ipairs(variants) do
      local m = #row[v].lat > 0 and median(row[v].lat)
      if v == 1 then base = m end
      parts[#parts + 1] = string.format("%s %7s%s", var[1], m and string.format("%.2f", m) or "-",
        (v > 1 and m and base) and string.format(" (%.3f)", m / base) or "")
    end
    out[#out + 1] = string.format("%-46s %s", row[1].name, table.concat(parts, "  "))
  end
  return table.concat(out, "\n")
end

return M

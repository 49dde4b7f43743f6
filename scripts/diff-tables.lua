-- diff-tables: compares two replay tables of the same space config by config (after a kernel
-- change, measure the same configs with the old and the new source: `scripts/record
-- --configs-from`), so "did the change slow anything down" is a number per config.
--   htune run scripts/diff-tables.lua OLD NEW [--top K]
-- Prints the configs both measured, the NEW/OLD latency ratio (median, geometric mean, 10th and
-- 90th percentiles), the same over OLD's K fastest rows (default 10), the largest changes, each
-- table's best and the configs that failed in one table only. A config read several times in
-- one table counts at its median.
local replay = require "htune.backends.replay"

local USAGE = "usage: htune run scripts/diff-tables.lua OLD NEW [--top K]"

local function die(msg)
  io.stderr:write("diff-tables: ", msg, "\n", USAGE, "\n")
  os.exit(2)
end

local function median(xs)
  table.sort(xs)
  local n = #xs
  if n == 0 then return nil end
  return n % 2 == 1 and xs[(n + 1) // 2] or (xs[n // 2] + xs[n // 2 + 1]) / 2
end

-- index -> {us = median latency or nil, reason = first failure reason}
local function load(path)
  local t, err = replay.read(path)
  if not t then die(err) end
  local by, order = {}, {}
  for _, r in ipairs(t.rows) do
    local e = by[r.index]
    if not e then e = { lat = {} }; by[r.index] = e; order[#order + 1] = r.index end
    if r.latency_us then e.lat[#e.lat + 1] = r.latency_us else e.reason = e.reason or r.reason end
  end
  for _, e in pairs(by) do e.us = median(e.lat) end
  return by, order, t.meta
end

local function percentile(sorted, q)
  return sorted[math.max(1, math.min(#sorted, math.floor(q * (#sorted - 1) + 1.5)))]
end

local function ratio_line(label, ratios)
  if #ratios == 0 then return string.format("%-26s no configs measured in both", label) end
  local s = {}
  local logsum = 0
  for i, r in ipairs(ratios) do s[i] = r; logsum = logsum + math.log(r) end
  table.sort(s)
  return string.format("%-26s n %4d  median %.4f  geomean %.4f  p10 %.4f  p90 %.4f", label, #s, median(s),
    math.exp(logsum / #s), percentile(s, 0.1), percentile(s, 0.9))
end

local function main(argv)
  local files, top = {}, 10
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "--top" then
      top = math.tointeger(tonumber(argv[i + 1]))
      if not top or top < 1 then die("--top must be a whole number >= 1, got " .. tostring(argv[i + 1])) end
      i = i + 2
    elseif a == "-h" or a == "--help" then print(USAGE) return 0
    elseif a:sub(1, 2) == "--" then die("unknown option " .. a)
    else files[#files + 1] = a; i = i + 1 end
  end
  if #files ~= 2 then die("needs two tables, got " .. #files) end
  local A, order_a, ma = load(files[1])
  local B, _, mb = load(files[2])
  if ma.space ~= mb.space then die(string.format("the tables hold different spaces ('%s' vs '%s')", tostring(ma.space), tostring(mb.space))) end
  print(string.format("OLD %s: %s, commit %s", files[1], ma.device or "?", ma.commit or "?"))
  print(string.format("NEW %s: %s, commit %s", files[2], mb.device or "?", mb.commit or "?"))
  local pairs_, only_fail = {}, {}
  for _, idx in ipairs(order_a) do
    local a, b = A[idx], B[idx]
    if b then
      if a.us and b.us then pairs_[#pairs_ + 1] = { idx = idx, a = a.us, b = b.us, r = b.us / a.us }
      elseif (a.us == nil) ~= (b.us == nil) then
        only_fail[#only_fail + 1] = string.format("  %d: OLD %s, NEW %s", idx, a.us and string.format("%.3f us", a.us) or tostring(a.reason),
          b.us and string.format("%.3f us", b.us) or tostring(b.reason))
      end
    end
  end
  local all = {}
  for k, p in ipairs(pairs_) do all[k] = p.r end
  print(ratio_line("NEW/OLD, all", all))
  table.sort(pairs_, function(x, y) return x.a < y.a end)
  local best = {}
  for k = 1, math.min(top, #pairs_) do best[k] = pairs_[k].r end
  print(ratio_line(string.format("NEW/OLD, OLD's %d fastest", top), best))
  local bymin_a, bymin_b
  for _, p in ipairs(pairs_) do
    if not bymin_a or p.a < bymin_a.a then bymin_a = p end
    if not bymin_b or p.b < bymin_b.b then bymin_b = p end
  end
  if bymin_a then
    print(string.format("best: OLD %.3f us (config %d), NEW %.3f us (config %d): NEW/OLD %.4f", bymin_a.a, bymin_a.idx,
      bymin_b.b, bymin_b.idx, bymin_b.b / bymin_a.a))
  end
  table.sort(pairs_, function(x, y) return x.r > y.r end)
  print("largest changes (NEW/OLD):")
  for k = 1, math.min(3, #pairs_) do
    print(string.format("  %d: %.3f -> %.3f us (%.4f)", pairs_[k].idx, pairs_[k].a, pairs_[k].b, pairs_[k].r))
  end
  for k = math.max(4, #pairs_ - 2), #pairs_ do
    print(string.format("  %d: %.3f -> %.3f us (%.4f)", pairs_[k].idx, pairs_[k].a, pairs_[k].b, pairs_[k].r))
  end
  if #only_fail > 0 then
    print(#only_fail .. " configs failed in one table only:")
    for _, l in ipairs(only_fail) do print(l) end
  end
  return 0
end

return main(arg or {})

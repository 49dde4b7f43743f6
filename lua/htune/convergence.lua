-- Best-so-far curves of tuning runs and their median and band over seeds, as scripts/compare
-- plots them (vs wall time and vs evaluations). A seed with no valid result yet counts as +inf,
-- never as its later first value, so every statistic drawn is non-increasing along the axis.
local M = {}

-- curve(trace) -> points {n=eval index, t=wall s, us=best so far}, one where the best improved.
-- trace: results in completion order (wall_ms non-decreasing), as htune.tune returns them.
function M.curve(trace)
  local pts, best = {}, nil
  for i, r in ipairs(trace) do
    if r.ok and r.latency_us and (not best or r.latency_us < best) then
      best = r.latency_us
      pts[#pts + 1] = { n = i, t = (r.wall_ms or 0) / 1000, us = best }
    end
  end
  return pts
end

-- best_at(pts, axis, x) -> the best latency at x on axis "t" or "n"; math.huge before the first.
function M.best_at(pts, axis, x)
  local v = math.huge
  for _, p in ipairs(pts) do
    if p[axis] <= x + 1e-12 then v = p.us else break end
  end
  return v
end

-- Median of numbers that may be math.huge (an even count averages the middle two, so it is
-- finite only when more than half the values are).
function M.median(vals)
  local t = table.move(vals, 1, #vals, 1, {})
  if #t == 0 then return math.huge end
  table.sort(t)
  local m = #t // 2
  return #t % 2 == 1 and t[m + 1] or (t[m] + t[m + 1]) / 2
end

-- The x positions: evals 1..max (at most ~300 steps), wall time 0..max in 200 steps.
local function xs_for(runs, axis)
  local xmax = 0
  for _, r in ipairs(runs) do xmax = math.max(xmax, (axis == "t" and r.wall_s or r.evals) or 0) end
  local xs = {}
  if axis == "n" then
    local step = math.max(1, math.floor(xmax) // 300)
    for x = 1, math.floor(xmax), step do xs[#xs + 1] = x end
    if #xs > 0 and xs[#xs] ~= xmax then xs[#xs + 1] = xmax end
  else
    for i = 0, 200 do xs[#xs + 1] = xmax * i / 200 end
  end
  return xs
end

-- series(runs, axis) -> rows {x=, median=, lo=, hi=}, ceiling. runs: {curve=, wall_s=, evals=}
-- per seed. Over all seeds at each x, a seed without a result counting as +inf: median (nil until
-- more than half the seeds have a result), lo = the best seed, hi = the worst seed with +inf
-- clipped to the ceiling (the highest best-so-far any seed reaches). Rows start at the first x
-- where some seed has a result. Each of median, lo and hi is non-increasing in x.
function M.series(runs, axis)
  local ceiling = -math.huge
  for _, r in ipairs(runs) do
    if r.curve[1] then ceiling = math.max(ceiling, r.curve[1].us) end
  end
  local rows = {}
  if ceiling == -math.huge then return rows, nil end
  for _, x in ipairs(xs_for(runs, axis)) do
    local vals, lo, hi = {}, math.huge, -math.huge
    for i, r in ipairs(runs) do
      vals[i] = M.best_at(r.curve, axis, x)
      lo, hi = math.min(lo, vals[i]), math.max(hi, vals[i])
    end
    if lo < math.huge then
      local med = M.median(vals)
      rows[#rows + 1] = { x = x, median = med < math.huge and med or nil, lo = lo, hi = math.min(hi, ceiling) }
    end
  end
  return rows, ceiling
end

-- The rule in a line short enough for a plot's title.
M.RULE = "a seed with no result yet counts as +inf, so the median starts once over half have one; band = best..worst seed"

return M

-- htune.convergence: best-so-far over seeds never rises, whatever the seeds' start times
-- (constructed traces, including seeds that start late or never find a valid config).
local C = require "htune.convergence"

-- A trace from {wall_s, latency_us|false} pairs (false: a failed trial).
local function trace(points)
  local t = {}
  for i, p in ipairs(points) do
    t[i] = { ok = p[2] and true or false, latency_us = p[2] or nil, wall_ms = p[1] * 1000 }
  end
  return t
end

local function run(points)
  local tr = trace(points)
  return { curve = C.curve(tr), wall_s = #points > 0 and points[#points][1] or 0, evals = #points }
end

local function assert_monotone(rows, what)
  local prev = {}
  for _, r in ipairs(rows) do
    for _, k in ipairs { "median", "lo", "hi" } do
      if r[k] and prev[k] then
        assert(r[k] <= prev[k] + 1e-9, string.format("%s: %s rises at x=%g: %g -> %g", what, k, r.x, prev[k], r[k]))
      end
      if prev[k] and not r[k] then error(string.format("%s: %s vanishes at x=%g", what, k, r.x)) end
      prev[k] = r[k] or prev[k]
    end
  end
end

describe("htune.convergence", function()
  -- Seed 1 finds 10 us at 1 s; seed 2's first valid result (50 us) comes at 3 s; seed 3 at 5 s.
  local late = { run { { 1, 10 }, { 6, 9 } }, run { { 1, false }, { 3, 50 }, { 6, 40 } }, run { { 5, 30 }, { 6, 8 } } }

  it("would rise if a seed without a result were left out (the scenario is real)", function()
    local old = {}
    for _, x in ipairs { 2, 4 } do
      local have = {}
      for _, r in ipairs(late) do
        local v = C.best_at(r.curve, "t", x)
        if v < math.huge then have[#have + 1] = v end
      end
      old[#old + 1] = C.median(have)
    end
    assert.is_true(old[2] > old[1]) -- 30 after 10: the old plot rose
  end)

  it("counts a seed without a result as +inf: the median starts when more than half have one", function()
    local rows = C.series(late, "t")
    local at = {}
    for _, r in ipairs(rows) do at[#at + 1] = r end
    assert_monotone(rows, "late seeds vs time")
    local function row_at(x)
      for i = #rows, 1, -1 do if rows[i].x <= x then return rows[i] end end
    end
    assert.is_nil(row_at(2).median) -- one seed of three has a result
    assert.are.equal(10, row_at(2).lo)
    assert.are.equal(50, row_at(2).hi) -- +inf clipped to the highest value any seed reaches
    assert.are.equal(50, row_at(4).median) -- two of three: the median is the worse of them
    assert.are.equal(30, row_at(5.5).median)
    assert.are.equal(9, rows[#rows].median)
    assert.are.equal(8, rows[#rows].lo)
    assert.are.equal(40, rows[#rows].hi)
    assert.is_true(rows[1].x >= 1) -- no row before any seed has a result
  end)

  it("is non-increasing vs evaluations too, with an even number of seeds", function()
    local runs = { run { { 1, 20 }, { 2, 12 }, { 3, 11 }, { 4, 5 } }, run { { 1, false }, { 2, false }, { 3, 7 }, { 4, 6 } } }
    local rows = C.series(runs, "n")
    assert_monotone(rows, "even seeds vs evals")
    assert.is_nil(rows[1].median) -- 20 and +inf
    assert.are.equal((11 + 7) / 2, rows[3].median)
  end)

  it("never draws a median when most seeds find nothing, and nothing at all when none do", function()
    local rows = C.series({ run { { 1, 5 } }, run { { 1, false } }, run {} }, "t")
    assert.is_true(#rows > 0)
    for _, r in ipairs(rows) do assert.is_nil(r.median) end
    local none, ceiling = C.series({ run { { 1, false } }, run {} }, "n")
    assert.are.equal(0, #none)
    assert.is_nil(ceiling)
  end)

  it("holds over 200 random sets of staggered seeds on both axes", function()
    local rng = require("htune.rng").new(7)
    for set = 1, 200 do
      local runs = {}
      for s = 1, 1 + set % 5 do
        local pts, t = {}, rng:float() * 3
        for _ = 1, rng:int(0, 12) do
          t = t + rng:float() * 0.5
          pts[#pts + 1] = { t, rng:float() < 0.3 and false or 1 + rng:float() * 100 }
        end
        runs[s] = run(pts)
      end
      assert_monotone((C.series(runs, "t")), "set " .. set .. " vs time")
      assert_monotone((C.series(runs, "n")), "set " .. set .. " vs evals")
    end
  end)
end)

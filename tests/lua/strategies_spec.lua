-- The shipped strategies on the toy problem: each runs cleanly without repeats, exhaustive
-- finds the true optimum of a small space, portfolio shifts evals to the better arm, and
-- (the CI version of scripts/eval-strategies) pattern beats random at 100 evals.
local htune = require "htune"
local toy = require "htune.problems.toy"

local function tune(strategy, evals, seed, extra)
  local o = { problem = toy.new(), strategy = strategy, backend = "synthetic", budget = { evals = evals },
              quiet = true, seed = seed or 1 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return htune.tune(o)
end

describe("strategies", function()
  for _, name in ipairs { "random", "pattern", "de", "surrogate", "portfolio" } do
    it(name .. " spends its budget without errors or repeats", function()
      local res = tune(name, 60, 3)
      assert.is_nil(res.message)
      assert.are.equal(60, res.evals)
      assert.is_true(res.best.ok)
      local seen = {}
      for _, t in ipairs(res.trace) do assert.is_nil(seen[t.hash]); seen[t.hash] = true end
    end)
  end

  -- A spec whose defaults break its own constraint at this shape (softmax's register-resident
  -- row at 8192 columns did): every strategy starts from a valid config instead of stopping
  -- with "proposed an invalid config" before its first eval.
  for _, name in ipairs { "random", "pattern", "de", "surrogate", "portfolio" } do
    it(name .. " starts from a valid config where the space's default is not", function()
      local S = htune.space
      local p = { name = "gap", key = "gap", space = S.new { name = "gap", params = {
        { "x", S.int(0, 9, 1), default = 9 }, { "y", S.int(0, 9, 1), default = 9 } },
        constraints = { { name = "x + y <= 12", fn = function(c) return c.x + c.y <= 12, "x + y over 12" end } } } }
      p.landscape = function(c) return 1 + (c.x - 3) ^ 2 + (c.y - 7) ^ 2 end
      assert.is_false((p.space:validate(p.space:default())))
      local res = htune.tune { problem = p, strategy = name, backend = "synthetic", budget = { evals = 30 }, quiet = true, seed = 2 }
      assert.is_nil(res.message)
      assert.are.equal(30, res.evals)
      for _, t in ipairs(res.trace) do assert.is_true((p.space:validate(t.cfg))) end
    end)
  end

  it("start_config: the default where valid, else one valid config kept for the run", function()
    local util = require "htune.strategies.util"
    local S = htune.space
    local function state(default)
      return { space = S.new { name = "s", params = { { "x", S.int(0, 9, 1), default = default } },
        constraints = { { name = "x < 8", fn = function(c) return c.x < 8 end } } }, rng = htune.rng(5) }
    end
    local st = state(4)
    assert.are.same({ x = 4 }, util.start_config(st))
    st = state(9)
    local a = util.start_config(st)
    assert.is_true((st.space:validate(a)))
    local first = a.x
    a.x = first == 0 and 1 or 0   -- a copy: the caller's edits do not move the next start
    assert.are.same({ x = first }, util.start_config(st))
  end)

  it("exhaustive measures every valid config of a small space and finds the optimum", function()
    local S = htune.space
    local p = { name = "bowl", key = "bowl", space = S.new { name = "bowl", params = {
      { "x", S.int(0, 9, 1) }, { "y", S.int(0, 9, 1) } },
      constraints = { { name = "not both 9", fn = function(c) return not (c.x == 9 and c.y == 9) end } } } }
    p.landscape = function(c) return 1 + (c.x - 3) ^ 2 + (c.y - 7) ^ 2 end
    local res = htune.tune { problem = p, strategy = "exhaustive", backend = "synthetic", budget = { evals = 1000 }, quiet = true }
    assert.are.equal("strategy done", res.stopped_because)
    assert.are.equal(99, res.evals)
    assert.are.same({ x = 3, y = 7 }, { x = res.best.cfg.x, y = res.best.cfg.y })
  end)

  it("portfolio gives more evals to the arm that improves faster", function()
    -- an arm that only proposes slow configs never improves the best, so it gets less
    local slow = { name = "slow", propose = function(state, n)
      local out = {}
      for _ = 1, n do
        local c = state.space:sample(state.rng)
        c.num_warps, c.block_k, c.num_stages = 1, 16, 1
        if state.space:validate(c) then out[#out + 1] = c end
      end
      return out
    end, observe = function() end }
    local by = { pattern = 0, slow = 0 }
    for seed = 1, 3 do
      local res = tune("portfolio", 150, seed, { strategy_options = { arms = { "pattern", slow } } })
      assert.are.equal(150, res.evals)
      for _, arm in ipairs(res.report) do by[arm.name] = by[arm.name] + arm.evals end
    end
    assert.is_true(by.pattern > 1.5 * by.slow, string.format("pattern %d evals, slow %d", by.pattern, by.slow))
  end)

  it("surrogate's exploitation step: the best's two-field moves join the runner-up's single moves once the best's are measured", function()
    local S = htune.space
    local sp = S.new { name = "grid", params = { { "a", S.int(1, 5, 1) }, { "b", S.int(1, 5, 1) },
                                                 { "c", S.choice { "x", "y" } } } }
    local surrogate = require "htune.strategies.surrogate"
    local state = { space = sp, rng = htune.rng(5), history = {}, seen = {}, budget = { evals = 50 },
                    options = { initial = 4, explore = 0, exploit = 1 } }
    local function measure(c, us)
      local r = { cfg = c, hash = sp:hash(c), ok = true, latency_us = us }
      state.history[#state.history + 1], state.seen[r.hash] = r, r
    end
    local best, second = { a = 3, b = 3, c = "x" }, { a = 4, b = 3, c = "x" }
    measure(best, 1)
    for i, n in ipairs(sp:neighbors(best)) do measure(n, (sp:hash(n) == sp:hash(second)) and 1.5 or 3 + i) end
    measure({ a = 1, b = 1, c = "y" }, 20)  -- a far, slow point: its neighbours must wait
    surrogate.init(state)
    state.surrogate.n_proposed = 4
    local function dist(u, v) return math.abs(u.a - v.a) + math.abs(u.b - v.b) + (u.c == v.c and 0 or 1) end
    local step = {}  -- the runner-up's unmeasured single moves and the best's two-field moves
    for _, n1 in ipairs(sp:neighbors(best)) do
      for _, n2 in ipairs(sp:neighbors(n1)) do
        if not state.seen[sp:hash(n2)] and sp:hash(n2) ~= sp:hash(best) then step[sp:hash(n2)] = n2 end
      end
    end
    for _, n in ipairs(sp:neighbors(second)) do if not state.seen[sp:hash(n)] then step[sp:hash(n)] = n end end
    local size = 0
    for _ in pairs(step) do size = size + 1 end
    local out = surrogate.propose(state, size)
    assert.are.equal(size, #out)
    local pairs_only = 0
    for _, c in ipairs(out) do
      assert.is_truthy(step[sp:hash(c)], "not in the exploitation step: " .. sp:to_json(c))
      if dist(c, second) > 1 then pairs_only = pairs_only + 1 end
    end
    assert.is_true(pairs_only > 0)
  end)

  it("pattern's moves jump to every value of a choice of numbers, other fields one step; no_jumps leaves that out", function()
    local S, util = htune.space, require "htune.strategies.util"
    local sp = S.new { name = "mv", params = { { "g", S.choice { 1, 2, 4, 8, 16 } }, { "t", S.pow2(16, 256) },
      { "mode", S.choice { "a", "b", "c" } } }, constraints = { { name = "no g=2", fn = function(c) return c.g ~= 2 end } } }
    local cfg = { g = 8, t = 64, mode = "b" }
    local function set(list)
      local out = {}
      for _, c in ipairs(list) do out[#out + 1] = string.format("g%d t%d %s", c.g, c.t, c.mode) end
      table.sort(out)
      return table.concat(out, " | ")
    end
    -- g: 4 and 16 (the neighbours), then 1 (2 is invalid); t: 32 and 128; mode: a and c
    assert.are.equal("g1 t64 b | g16 t64 b | g4 t64 b | g8 t128 b | g8 t32 b | g8 t64 a | g8 t64 c", set(util.moves(sp, cfg)))
    assert.are.equal("g16 t64 b | g4 t64 b | g8 t128 b | g8 t32 b | g8 t64 a | g8 t64 c", set(util.moves(sp, cfg, nil, true)))
  end)

  it("loads a user strategy file", function()
    local climb = dofile(htune.sys.root .. "/examples/custom_strategy.lua")
    local res = tune(climb, 40, 1)
    assert.is_nil(res.message)
    assert.are.equal("climb", res.strategy)
    assert.is_true(res.best.latency_us < toy.new().baseline_us)
  end)

  it("pattern speculates under a time-only budget: a generation's best so far has its neighbours polled", function()
    local S, pattern = htune.space, require "htune.strategies.pattern"
    local space = S.new { name = "bowl", params = { { "x", S.int(0, 9, 1) }, { "y", S.int(0, 9, 1) } } }
    local function f(c) return 1 + (c.x - 7) ^ 2 + (c.y - 5) ^ 2 end
    local function keys(cfgs) local t = {} for _, c in ipairs(cfgs) do t[#t + 1] = c.x .. "," .. c.y end table.sort(t) return t end
    -- Drives pattern by hand: the initial population is the default (0,0) alone, then one
    -- generation, {0,1} and {1,0}, of which only {1,0} (the better) has been measured.
    local function drive(budget)
      local st = { space = space, rng = htune.rng(1), history = {}, seen = {}, evals = 0, budget = budget,
                   options = { initial_population = 0, copies = 1 } }
      local function measure(cfgs, which)
        for _, c in ipairs(cfgs) do
          if not which or which(c) then
            local h = space:hash(c)
            local r = { cfg = c, hash = h, ok = true, latency_us = f(c) }
            st.seen[h], st.history[#st.history + 1], st.evals = r, r, st.evals + 1
            pattern.observe(st, { r })
          end
        end
      end
      pattern.init(st)
      measure(pattern.propose(st, 50))
      local gen = pattern.propose(st, 50)
      assert.are.same({ "0,1", "1,0" }, keys(gen))
      measure(gen, function(c) return c.x == 1 end)
      return st, measure, gen
    end
    local st, measure, gen = drive({ seconds = 10 })
    local spec = pattern.propose(st, 50)
    assert.are.same({ "1,1", "2,0" }, keys(spec)) -- the unvisited neighbours of {1,0}, queued now
    measure(gen, function(c) return c.x == 0 end)
    measure(spec)
    -- The copy moves to {1,0}, whose generation speculation has measured, and on to {2,0}.
    assert.are.same({ "2,1", "3,0" }, keys(pattern.propose(st, 50)))
    -- Under an evals budget it waits for the generation.
    local st2 = drive({ evals = 100 })
    assert.are.same({}, keys(pattern.propose(st2, 50)))
  end)

  it("pattern beats random at 100 evals (5 fixed seeds)", function()
    local best_known = math.huge
    local p = toy.new()
    for i = 0, p.space:size() - 1 do
      local c = p.space:at(i)
      if c and p.space:validate(c) then
        local us = p.landscape(c)
        if us and us < best_known then best_known = us end
      end
    end
    local mean = {}
    for _, name in ipairs { "pattern", "random" } do
      local s = 0
      for seed = 1, 5 do s = s + best_known / tune(name, 100, seed).best.latency_us end
      mean[name] = s / 5
    end
    assert.is_true(mean.pattern > mean.random, string.format("pattern %.3f random %.3f", mean.pattern, mean.random))
    assert.is_true(mean.pattern > 0.97, string.format("pattern %.3f", mean.pattern))
  end)
end)

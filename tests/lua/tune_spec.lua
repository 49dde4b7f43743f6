-- The tuning driver: budgets, trace, dedup, overlap with the backend, and bad strategies
-- (errors, invalid configs, endless empty proposals, runaway loops, slow calls).
local htune = require "htune"
local toy = require "htune.problems.toy"

local function run(strategy, extra)
  local o = { problem = toy.new(), strategy = strategy, backend = "synthetic", budget = { evals = 30 }, quiet = true, seed = 2 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return htune.tune(o)
end

-- A strategy built from a propose function.
local function strat(name, propose)
  return { name = name, init = function() end, propose = propose, observe = function() end }
end

describe("htune.tune", function()
  it("stops at the evals budget with a full trace and a re-benchmarked best", function()
    local res = run("random", { budget = { evals = 25 } })
    assert.are.equal(25, res.evals)
    assert.are.equal(25, #res.trace)
    assert.are.equal("evals", res.stopped_because)
    local seen = {}
    for _, t in ipairs(res.trace) do
      assert.is_nil(seen[t.hash], "measured twice: " .. t.hash)
      seen[t.hash] = true
      assert.is_truthy(t.cfg and t.wall_ms and (t.ok == false or t.latency_us))
    end
    assert.is_truthy(res.best.rebench)
    assert.is_true(res.time.strategy_ms >= 0 and res.time.backend_wait_ms >= 0)
  end)

  it("stops at target_us and at the seconds budget", function()
    local target = run("pattern", { budget = { evals = 500, target_us = 12 } })
    assert.are.equal("target", target.stopped_because)
    assert.is_true(target.best.screen_us <= 12)
    local timed = run("random", { budget = { seconds = 0.15 }, backend_options = { latency_ms = 10 } })
    assert.are.equal("seconds", timed.stopped_because)
    assert.is_true(timed.wall_s < 0.5, "wall " .. timed.wall_s)
  end)

  it("ends a borrowed backend's run at the seconds budget, cancelling trials still queued", function()
    local be = require("htune.backends.synthetic").open(toy.new(), { latency_ms = 300, workers = 1 })
    local res = run("random", { backend = be, budget = { seconds = 0.2 }, queue = 8 })
    assert.are.equal("seconds", res.stopped_because)
    -- Waiting for the 8 queued trials would take 8 x 300 ms; cancelling ends it at the budget.
    assert.is_true(res.wall_s < 0.6, "wall " .. res.wall_s)
    assert.is_true(res.cancelled >= 6, "cancelled " .. res.cancelled)
    assert.are.equal(0, be:pending())
    local again = run("random", { backend = be, budget = { evals = 2 }, queue = 2 })
    assert.are.equal(2, again.evals) -- the backend is usable after
  end)

  it("keeps the backend's queue full so evals overlap", function()
    local res = run("random", { budget = { evals = 40 }, backend_options = { latency_ms = 10, workers = 4 } })
    assert.are.equal(40, res.evals)
    -- 40 evals of 10 ms on 4 workers: 100 ms if overlapped, 400 ms if serial
    assert.is_true(res.wall_s < 0.25, "wall " .. res.wall_s)
  end)

  it("keeps as many trials in flight as the backend's info.queue says, else max(8, 2 x workers)", function()
    local function max_in_flight(queue)
      local be = require("htune.backends.synthetic").open(toy.new(), { latency_ms = 5, workers = 1 })
      be.info.queue = queue
      local submit, most = be.submit, 0
      be.submit = function(self, trials)
        submit(self, trials)
        most = math.max(most, self:pending())
      end
      run("random", { backend = be, budget = { evals = 30 } })
      return most
    end
    assert.are.equal(20, max_in_flight(20)) -- live: its compile lookahead + 2
    assert.are.equal(8, max_in_flight(nil))
    assert.are.equal(8, max_in_flight(3))
  end)

  it("measures a repeated config once and stops a strategy that proposes nothing new", function()
    local calls, observed = 0, 0
    local s = strat("stuck", function(state) calls = calls + 1 return { state.space:default() } end)
    s.observe = function(_, results) observed = observed + #results end
    local res = run(s)
    assert.are.equal(1, res.evals)
    assert.are.equal("error", res.stopped_because)
    assert.matches("strategy stuck proposed no new configs in %d+ rounds", res.message)
    assert.is_true(observed > 1) -- cached results are fed back
    assert.is_true(calls >= 100)
  end)

  it("names the strategy and the field of an invalid config and keeps what it has", function()
    local n = 0
    local res = run(strat("broken", function(state)
      n = n + 1
      if n == 1 then return { state.space:default() } end
      local c = state.space:default()
      c.block_m = 48
      return { c }
    end))
    assert.are.equal("error", res.stopped_because)
    assert.matches("strategy broken proposed an invalid config", res.message)
    assert.matches("block_m", res.message)
    assert.matches("48", res.message)
    assert.are.equal(1, res.evals)
    assert.is_truthy(res.best)
  end)

  it("reports a strategy that raises, loops forever or is too slow", function()
    local res = run(strat("oops", function() error("no luck") end))
    assert.matches("strategy oops: propose failed: .*no luck", res.message)
    res = run(strat("spin", function() while true do end end), { strategy_instructions = 100000 })
    assert.matches("strategy spin exceeded its budget", res.message)
    res = run(strat("sleepy", function() htune.sys.sleep_ms(30) return {} end), { strategy_call_ms = 10 })
    assert.matches("strategy sleepy took %d+ ms in propose", res.message)
    res = run(strat("odd", function() return 42 end))
    assert.matches("strategy odd: propose returned number", res.message)
  end)

  it("stops a strategy that returns nothing forever, quickly and with what it has", function()
    local n = 0
    local t0 = htune.sys.now_ms()
    local res = run(strat("silent", function(state)
      n = n + 1
      if n == 1 then return { state.space:default() } end
      return {}
    end))
    assert.are.equal("error", res.stopped_because)
    assert.matches("strategy silent proposed no new configs in 100 rounds", res.message)
    assert.are.equal(1, res.evals)
    assert.is_truthy(res.best and res.best.latency_us)
    assert.is_true(htune.sys.now_ms() - t0 < 2000)
  end)

  it("names the strategy and the value for entries that are not configs and failing hooks", function()
    local res = run(strat("junk", function() return { 42 } end))
    assert.matches("strategy junk proposed an invalid config %(#1 of 1%): config must be a table, got number", res.message)
    local c
    res = run(strat("extra", function(state) c = state.space:default() c.colour = "red" return { c } end))
    assert.matches("strategy extra proposed an invalid config .*unknown field 'colour'", res.message)
    res = run(strat("odd", function() return "configs" end))
    assert.matches("propose returned string %(configs%)", res.message)
    local s = strat("blind", function(state) return { state.space:sample(state.rng) } end)
    s.observe = function() error("cannot see") end
    res = run(s)
    assert.are.equal("error", res.stopped_because)
    assert.matches("strategy blind: observe failed: .*cannot see", res.message)
    assert.are.equal(1, res.evals)
    s = strat("late", function() return {} end)
    s.init = function() error("no init") end
    res = run(s)
    assert.matches("strategy late: init failed: .*no init", res.message)
    assert.are.equal(0, res.evals)
  end)

  it("bounds a strategy that waits: bad request lists, wake times that never end", function()
    local s = strat("waiter", function() return {} end)
    s.waits = function() return { "not a request" } end
    local res = run(s)
    assert.are.equal("error", res.stopped_because)
    assert.matches("strategy waiter: waits returned a bad request list", res.message)
    local calls = 0
    s = strat("dozy", function() calls = calls + 1 return {} end)
    s.waits = function() return {}, 40 end -- "something to do in 40 ms", forever
    local t0 = htune.sys.now_ms()
    res = run(s, { max_wait_ms = 300 })
    assert.are.equal("error", res.stopped_because)
    assert.matches("strategy dozy proposed nothing for 0%.%d s while waiting", res.message)
    assert.is_true(calls <= 15, "propose called " .. calls .. " times in 300 ms: the driver spun")
    assert.is_true(htune.sys.now_ms() - t0 < 1500)
    s = strat("wrongwait", function() return {} end)
    s.waits = function() return 7 end
    res = run(s)
    assert.matches("strategy wrongwait: waits returned number", res.message)
  end)

  it("takes seed, quiet, db, resume and budget from htune.defaults where the call gives none", function()
    htune.defaults.budget = { evals = 6 }
    htune.defaults.seed = 9
    local ok, res = pcall(run, "random", { budget = false })
    local ok2, own = pcall(run, "random", { budget = { evals = 4 } })
    htune.defaults.budget, htune.defaults.seed = nil, nil
    assert.is_true(ok, tostring(res))
    assert.is_true(ok2, tostring(own))
    assert.are.equal(6, res.evals)
    assert.are.equal(4, own.evals)
  end)

  it("raises on misuse and gives a clear error for db/resume without the store hooks", function()
    assert.has_error(function() htune.tune { problem = toy.new(), strategy = "nope", backend = "synthetic" } end)
    assert.has_error(function() htune.tune { problem = 3 } end)
    if not pcall(require, "htune.record") then
      local res, err, code = run("random", { db = "/nonexistent/x.db" })
      assert.is_nil(res)
      assert.are.equal("ENOSTORE", code)
      assert.matches("htune.record", err)
    end
  end)
end)

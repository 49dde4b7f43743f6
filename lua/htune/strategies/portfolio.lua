-- Portfolio: runs several strategies at once, each with its own state, and gives each free
-- slot to the arm with the highest UCB score of "log-improvement of the global best per eval",
-- so evaluations drift toward whichever strategy is improving fastest. Results are routed back
-- to the arm(s) that proposed them.
local util = require "htune.strategies.util"

local M = { name = "portfolio" }

local function sub_state(state, name, i, share)
  return {
    space = state.space, problem = state.problem, rng = require("htune.rng")(state.rng:int(1, 2 ^ 31) + i),
    history = {}, best = nil, evals = 0, options = state.options[name] or {}, seen = state.seen,
    budget = { evals = share },
  }
end

function M.init(state)
  local names = state.options.arms or { "pattern", "surrogate", "de" }
  local evals = util.budget_evals(state, 300)
  local pf = { arms = {}, owner = {}, c = state.options.exploration or 0.5,
               decay = state.options.decay or 0.97, floor = state.options.floor or 0.5,
               yield = state.options.yield or 0.5, total = 0 }
  for i, name in ipairs(names) do
    local s = type(name) == "table" and name or require("htune.strategies." .. name)
    local arm = { s = s, name = s.name or tostring(name), evals = 0, recent = 0, gain = 0, proposed = 0 }
    arm.state = sub_state(state, arm.name, i, math.max(20, evals // #names))
    if s.init then s.init(arm.state) end
    pf.arms[i] = arm
  end
  state.portfolio = pf
end

-- Discounted UCB: recent log-improvement per eval, plus exploration scaled by the best rate.
-- Arms below a floor share (half their fair share of evals) go first.
local function score(pf, arm)
  local floor = pf.floor * (pf.total + 1) / #pf.arms
  if arm.evals + arm.proposed < floor then return math.huge - (arm.evals + arm.proposed) end
  local n = arm.recent + arm.proposed + 1
  local top = 1e-3
  for _, a in ipairs(pf.arms) do top = math.max(top, a.gain / (a.recent + 1)) end
  return arm.gain / n + pf.c * top * math.sqrt(math.log(pf.total + 2) / n)
end

local function discount(pf)
  for _, a in ipairs(pf.arms) do a.gain, a.recent = a.gain * pf.decay, a.recent * pf.decay end
end

local function ask(state, arm, k)
  local cfgs = arm.s.propose(arm.state, k) or {}
  local pf = state.portfolio
  for _, c in ipairs(cfgs) do
    local h = state.space:hash(c)
    pf.owner[h] = pf.owner[h] or {}
    pf.owner[h][#pf.owner[h] + 1] = arm
  end
  arm.proposed = arm.proposed + #cfgs
  return cfgs
end

-- Fills slots from the best-scoring arm that has work; an arm scoring under `yield` times the
-- best one does not take slots while the best waits on its own results (so a strategy that
-- measures in generations is not crowded out while a generation is in flight).
function M.propose(state, n)
  local pf, out, idle = state.portfolio, {}, {}
  local top, top_arm = -math.huge, nil
  for _, arm in ipairs(pf.arms) do
    local sc = score(pf, arm)
    if not (arm.s.done and arm.s.done(arm.state)) and sc > top then top, top_arm = sc, arm end
  end
  while #out < n do
    local best, best_score
    for _, arm in ipairs(pf.arms) do
      local sc = score(pf, arm)
      if not idle[arm] and not (arm.s.done and arm.s.done(arm.state)) and (not best or sc > best_score) then
        best, best_score = arm, sc
      end
    end
    if not best or (idle[top_arm] and best_score < pf.yield * top) then break end
    local cfgs = ask(state, best, math.min(n - #out, 4))
    if #cfgs == 0 then idle[best] = true end
    for _, c in ipairs(cfgs) do out[#out + 1] = c end
  end
  return out
end

function M.observe(state, results)
  local pf = state.portfolio
  for _, r in ipairs(results) do
    for _, arm in ipairs(pf.owner[r.hash] or {}) do
      local st = arm.state
      st.history[#st.history + 1] = r
      st.evals = st.evals + 1
      if util.perf(r) < util.perf(st.best) then st.best = r end
      arm.proposed = math.max(0, arm.proposed - 1)
      if not r.cached then
        pf.total, arm.evals, arm.recent = pf.total + 1, arm.evals + 1, arm.recent + 1
        discount(pf)
      end
      if r.ok and r.latency_us and pf.best_us and r.latency_us < pf.best_us then
        arm.gain = arm.gain + math.log(pf.best_us / r.latency_us)
      end
      arm.s.observe(st, { r })
    end
    pf.owner[r.hash] = nil
    if r.ok and r.latency_us and (not pf.best_us or r.latency_us < pf.best_us) then pf.best_us = r.latency_us end
  end
end

-- Evaluations and improvement credit per arm, for reports.
function M.report(state)
  local out = {}
  for _, arm in ipairs(state.portfolio.arms) do out[#out + 1] = { name = arm.name, evals = arm.evals, gain = arm.gain } end
  return out
end

return M

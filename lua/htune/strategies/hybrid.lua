-- Hybrid: pattern search whose restarts may start from LLM configs, and whose climbs the LLM
-- never interrupts. By default hybrid is pattern search, config for config (its own random
-- population and default, the same climb), until a climb has converged: there, where pattern
-- would restart from its next-best population member, hybrid first measures the LLM's reserve
-- (one batch, the newest reply kept: asked at the start, and again ahead of need whenever
-- nothing improved in stall_evals results, showing the run's fastest configs), then restarts
-- from the best unstarted, unpolled point, LLM configs included (reserve_first=false: the
-- reserve waits until no such point is left, where pattern would draw a fresh random
-- population). Any eval before pattern's own best delays it by one, so LLM configs go only
-- where a climb has ended. own_population=false lets the LLM's initial reply be the population
-- (random configs make it up where the reply fell short; initial_first=true measures it as it
-- arrives, one that beats the best restarting the climb when it stops, or at once with preempt).
-- probe=k: a converged climb measures at most k configs of the reserve before its restart (each
-- one delays pattern's next find by an eval; the whole reserve still stands where no start
-- point is left). screen (on unless screen=false): reserve configs whose screen_k (1) nearest
-- measured configs average no faster than screen_margin x the restart point are dropped first;
-- in scripts/bench-hybrid.lua it kept pattern's pace in more seeds than no screen on every
-- recorded table (README, "LLM").
local llm = require "htune.strategies.llm"
local pattern = require "htune.strategies.pattern"
local util = require "htune.strategies.util"

local M = { name = "hybrid" }

function M.init(state)
  local o = state.options
  local evals = util.budget_evals(state, 200)
  local h = {
    llm = llm.new_data(state, o), since_improve = 0, best_us = math.huge, consults = 0, llm_pending = {}, llm_measured = {},
    initial = o.initial_population or math.max(5, math.min(30, math.floor(evals * 0.1))),
    stall_evals = o.stall_evals or math.max(12, 2 * #state.space:params()),
    preempt = o.preempt == true, reserve_first = o.reserve_first ~= false,
    probe = o.probe, probes = 0, -- reserve configs taken since the climb stopped
    screen = o.screen ~= false, screen_k = o.screen_k or 1, screen_margin = o.screen_margin or 1,
    enc = {}, -- space:encode of measured configs, by hash (screen)
  }
  h.llm.batch = o.batch or h.initial
  state.hybrid = h
  local saved, popts = state.options, {}
  for k, v in pairs(o.pattern or {}) do popts[k] = v end
  -- pattern draws its own random population (own_population=false: the LLM's initial reply is it)
  h.own_population = o.own_population ~= false
  -- the LLM's initial configs are measured as they arrive only when they are the population
  if o.initial_first == nil then h.initial_first = not h.own_population else h.initial_first = o.initial_first end
  if not h.own_population then popts.initial_population = popts.initial_population or 0 end
  h.restarts = popts.restarts ~= false
  popts.restarts = false -- hybrid decides what a converged search measures next
  state.options = popts
  pattern.init(state)
  state.options = saved
end

-- Evals not yet spent or planned (measured, in flight, or waiting in the reserve).
local function remaining(state, h)
  local evals = state.budget and state.budget.evals
  if not evals then return math.huge end
  local pending = 0
  for _ in pairs(h.llm_pending) do pending = pending + 1 end
  return evals - state.evals - pending - #h.llm.ready
end

local function consult(state, h, n_configs, tag)
  local d = h.llm
  n_configs = math.min(n_configs, remaining(state, h))
  if #d.inflight >= d.concurrency or n_configs <= 0 then return end
  -- the whole history: the prompt's fastest configs are the run's (hybrid keeps no islands, and
  -- the last 40 results alone missed a best found earlier)
  llm.launch(state, d, n_configs, tag, state.history)
  h.consults = h.consults + 1
  h.since_improve = 0
end

-- Pattern search drops what it queued and starts copies from the best unstarted points.
local function restart_pattern(state)
  local p = state.pattern
  for _, cfg in ipairs(p.queue) do
    local hh = state.space:hash(cfg)
    p.visited[hh], p.waiting[hh] = nil, nil
  end
  p.queue = {}
  if next(p.waiting) == nil then p.phase = "population" end
end

-- Moves ready LLM configs into out: all of them, or only those tagged tag. Returns out.
local function take(state, h, n, out, hashes, tag)
  local d, keep = h.llm, {}
  local want, tags = {}, {}
  for _, x in ipairs(d.ready) do
    tags[x.hash] = x.tag
    if tag == nil or x.tag == tag then want[#want + 1] = x else keep[#keep + 1] = x end
  end
  d.ready = want
  llm.take_ready(state, d, n, out, hashes)
  for _, x in ipairs(d.ready) do keep[#keep + 1] = x end
  d.ready = keep
  for _, cfg in ipairs(out) do h.llm_pending[state.space:hash(cfg)] = tags[state.space:hash(cfg)] or true end
  return out
end

-- The reserve holds at most one batch: the newest replies (asked with the newest results) win.
local function trim_reserve(h)
  local d = h.llm
  while #d.ready > d.batch do table.remove(d.ready, 1) end
end

-- A restart point for pattern's rule (pattern.startable): a measured config no copy started
-- from nor polled.
local function has_candidate(state)
  for _, r in ipairs(state.history) do
    if r.hash and pattern.startable(state.pattern, r.hash) then return true end
  end
  return false
end

-- screen: drops reserve configs whose screen_k nearest measured configs (space:encode distance)
-- are on average no faster than screen_margin x the restart point pattern would take, so a
-- converged climb measures only LLM configs the run's own data does not already rule out.
local function restart_us(state)
  local best = math.huge
  for _, r in ipairs(state.history) do
    if r.hash and pattern.startable(state.pattern, r.hash) and util.perf(r) < best then best = util.perf(r) end
  end
  return best
end

local function predicted_us(state, h, cfg)
  local enc = state.space:encode(cfg)
  local near = {}
  for _, r in ipairs(state.history) do
    if r.ok and r.latency_us then
      local e = h.enc[r.hash]
      if not e then e = state.space:encode(r.cfg); h.enc[r.hash] = e end
      local d2 = 0
      for i = 1, #enc do local x = enc[i] - e[i]; d2 = d2 + x * x end
      near[#near + 1] = { d2, r.latency_us }
    end
  end
  table.sort(near, function(a, b) return a[1] < b[1] end)
  local sum, n = 0, math.min(h.screen_k, #near)
  for i = 1, n do sum = sum + near[i][2] end
  return n > 0 and sum / n or -math.huge
end

local function screen_reserve(state, h)
  local d, keep = h.llm, {}
  local bar = restart_us(state)
  if bar == math.huge then return end
  for _, x in ipairs(d.ready) do
    if predicted_us(state, h, x.cfg) < bar * h.screen_margin then keep[#keep + 1] = x else h.screened = (h.screened or 0) + 1 end
  end
  d.ready = keep
end

-- Initial configs the LLM delivered or will deliver (measured, waiting, or in flight).
local function initial_count(h)
  local n = 0
  for _, tag in pairs(h.llm_pending) do if tag == "initial" then n = n + 1 end end
  for _, tag in pairs(h.llm_measured) do if tag == "initial" then n = n + 1 end end
  for _, x in ipairs(h.llm.ready) do if x.tag == "initial" then n = n + 1 end end
  for _, job in ipairs(h.llm.inflight) do if job.tag == "initial" then n = n + job.n end end
  return n
end

-- Pattern search restarts from the best unstarted points (LLM configs included) once. Before
-- the first restart, random configs make up the population to `initial` members where the
-- LLM's reply fell short (entries the space rejected), as pattern's own population would be.
local function restart_converged(state, h, n)
  local p = state.pattern
  if not h.restarts then return {} end
  -- with own_population pattern drew its whole random population itself: nothing to top up
  local short = h.own_population and 0 or h.initial - initial_count(h)
  if not h.topped_up and short > 0 then
    h.topped_up = true
    local saved = p.cfg.initial
    p.phase, p.cfg.initial = "start", short
    local out = pattern.propose(state, n)
    p.cfg.initial = saved
    return out
  end
  h.topped_up = true
  p.phase, p.cfg.restarts = "search", true
  local out = pattern.propose(state, n)
  p.cfg.restarts = false
  return out
end

-- Every copy stopped. A copy stops short of the best when a better point turned up outside its
-- candidates; its restart from the best unstarted point then continues the climb (no LLM
-- configs in the way). Converged: the best point's neighbourhood has been searched too.
local function stopped(state) return state.pattern.phase == "stopped" and #state.pattern.queue == 0 end

local function converged(state)
  local best, p = state.best, state.pattern
  if not stopped(state) then return false end
  if best == nil or best.hash == nil or p.started[best.hash] then return true end
  for _, copy in ipairs(p.copies) do if copy.current.hash == best.hash then return true end end
  return false
end

-- The rest of propose: reserve, restart or pattern's own step. Pattern can stop inside its
-- propose (its last copy ends with no candidate left); then this runs once more, so the restart
-- comes in the same call instead of after the next event (the GPU sat idle until an LLM reply
-- arrived: 21% of bench-llm --quick's hybrid wall time on two of three seeds).
local function fill(state, h, n, out, hashes, again)
  local d = h.llm
  -- The reserve stands where pattern would draw a fresh random population: no start point left.
  local stop = stopped(state)
  local cand = stop and has_candidate(state)   -- neither consult nor trim_reserve changes it
  local exhausted = stop and h.topped_up and not cand
  local need_reserve = exhausted
  -- reserve_first: a converged climb measures the reserve before restarting from a population
  -- member, so the restart can start from an LLM config
  if not stop then h.probes = 0 end
  if h.reserve_first and stop and converged(state) and (#d.ready > 0 or next(h.llm_pending) ~= nil)
     and (h.probe == nil or h.probes < h.probe or next(h.llm_pending) ~= nil) then
    need_reserve = true
  end
  -- a stall consult refreshes a full reserve too (trim_reserve keeps the newest batch): replies
  -- asked before the last results would show the LLM an older best
  if #d.inflight == 0 and (h.since_improve >= h.stall_evals or (need_reserve and #d.ready < d.batch)) then
    consult(state, h, d.batch, "reserve")
  end
  trim_reserve(h)
  local more
  if need_reserve and h.screen and cand then
    screen_reserve(state, h)
    if #d.ready == 0 and next(h.llm_pending) == nil then need_reserve = false end
  end
  if need_reserve then
    local k = n - #out
    if h.probe and not exhausted then k = math.min(k, math.max(0, h.probe - h.probes)) end
    local before = #out
    take(state, h, k, out, hashes)
    h.probes = h.probes + (#out - before)
    -- The restart waits for the reserve's results.
    more = (#out == 0 and next(h.llm_pending) == nil) and restart_converged(state, h, n) or {}
  elseif stop then
    more = restart_converged(state, h, n - #out)
  else
    more = #out < n and pattern.propose(state, n - #out) or {}
  end
  for _, cfg in ipairs(more) do
    local hh = state.space:hash(cfg)
    if not hashes[hh] then out[#out + 1], hashes[hh] = cfg, true end
  end
  if again and #out == 0 and not stop and stopped(state) then return fill(state, h, n, out, hashes, false) end
  return out
end

function M.propose(state, n)
  local h = state.hybrid
  local d = h.llm
  if not h.started then
    h.started = true
    consult(state, h, h.initial, "initial")
  end
  llm.collect(state, d)
  local out, hashes = {}, {}
  if h.initial_first then take(state, h, n, out, hashes, "initial") end
  return fill(state, h, n, out, hashes, true)
end

function M.observe(state, results)
  local h = state.hybrid
  local improved_by_llm = false
  for _, r in ipairs(results) do
    if not r.cached then
      h.llm.proposed[r.hash] = nil
      local from_llm = h.llm_pending[r.hash] ~= nil
      if from_llm then h.llm_measured[r.hash] = h.llm_pending[r.hash] end
      h.llm_pending[r.hash] = nil
      if util.perf(r) < h.best_us then
        h.best_us, h.since_improve = util.perf(r), 0
        improved_by_llm = improved_by_llm or from_llm
      else
        h.since_improve = h.since_improve + 1
      end
    end
  end
  pattern.observe(state, results)
  if improved_by_llm and h.preempt and not stopped(state) then restart_pattern(state) end
  llm.collect(state, h.llm)
end

-- Only with pattern={restarts=false}: converged, and nothing from the LLM left to measure.
function M.done(state)
  local h = state.hybrid
  return not h.restarts and converged(state) and #h.llm.ready == 0 and #h.llm.inflight == 0 and next(h.llm_pending) == nil
end

-- The driver's event loop: the LLM requests in flight, and parsing replies as they arrive.
function M.waits(state) return (llm.waits_of(state.hybrid.llm)) end

function M.poll(state)
  local d = state.hybrid.llm
  llm.collect(state, d)
  return #d.ready
end

function M.report(state)
  local h = state.hybrid
  if not h then return nil end
  local r = llm.report { llm = h.llm, space = state.space }
  r.consults = h.consults
  return r
end

return M

-- Hybrid: pattern search refines while the LLM proposes. At the start the LLM is asked for the
-- initial population (pattern search starts from the default config meanwhile, so nothing
-- waits); its configs are measured first as they arrive, and when one beats the best so far
-- pattern search restarts its copies from the best points. When the search stalls (no
-- improvement in stall_evals results, or every copy stopped) the LLM is consulted again.
local llm = require "htune.strategies.llm"
local pattern = require "htune.strategies.pattern"
local util = require "htune.strategies.util"

local M = { name = "hybrid" }

function M.init(state)
  local o = state.options
  local evals = util.budget_evals(state, 200)
  local h = {
    llm = llm.new_data(state, o), since_improve = 0, best_us = math.huge, consults = 0,
    initial = o.initial_population or math.max(5, math.min(30, math.floor(evals * 0.1))),
    stall_evals = o.stall_evals or math.max(12, 2 * #state.space:params()), batch_seen = {},
  }
  h.llm.batch = o.batch or h.initial
  state.hybrid = h
  local saved, popts = state.options, {}
  for k, v in pairs(o.pattern or {}) do popts[k] = v end
  popts.initial_population = 0
  state.options = popts
  pattern.init(state)
  state.options = saved
end

local function consult(state, h, n_prompts)
  local d = h.llm
  for _ = 1, n_prompts do
    if #d.inflight >= d.concurrency then break end
    llm.launch(state, d, d.batch)
  end
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

local function copies_stopped(state)
  local p = state.pattern
  if p.phase ~= "search" then return false end
  for _, c in ipairs(p.copies) do if c.active then return false end end
  return true
end

function M.propose(state, n)
  local h = state.hybrid
  local d = h.llm
  if not h.started then
    h.started = true
    consult(state, h, math.max(1, math.ceil(h.initial / d.batch)))
  end
  llm.collect(state, d)
  if #d.inflight == 0 and #d.ready == 0 and (h.since_improve >= h.stall_evals or copies_stopped(state)) then
    consult(state, h, 1)
  end
  local out, hashes = {}, {}
  llm.take_ready(state, d, n, out, hashes)
  for _, cfg in ipairs(out) do h.batch_seen[state.space:hash(cfg)] = true end
  if #out < n then
    for _, cfg in ipairs(pattern.propose(state, n - #out)) do
      local hh = state.space:hash(cfg)
      if not hashes[hh] then out[#out + 1], hashes[hh] = cfg, true end
    end
  end
  return out
end

function M.observe(state, results)
  local h = state.hybrid
  local improved_by_llm = false
  for _, r in ipairs(results) do
    if not r.cached then
      h.llm.proposed[r.hash] = nil
      if util.perf(r) < h.best_us then
        h.best_us, h.since_improve = util.perf(r), 0
        improved_by_llm = improved_by_llm or h.batch_seen[r.hash] == true
      else
        h.since_improve = h.since_improve + 1
      end
    end
  end
  pattern.observe(state, results)
  if improved_by_llm then restart_pattern(state) end
  llm.collect(state, h.llm)
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

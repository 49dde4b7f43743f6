-- Pattern search with the semantics of Helion's PatternSearch: an initial random population
-- (plus the default config), then `copies` searches from its best members; each generation
-- measures every unvisited neighbour of each copy's current point (single-field changes, and
-- pairs of changes among block-size fields); a copy moves to its best candidate and stops when
-- that is no better than its current point by min_improvement, or after max_generations.
-- Beyond Helion: when every copy has stopped and budget remains, it restarts (restarts=false
-- makes it stop like Helion's) from the best measured config that no copy has polled, i.e. from
-- an unused member of a population, else from a fresh random population. A polled config sits
-- one move from a point a copy already searched, so restarting there re-polls the same basin
-- (fresh_restarts=false restores that; on the H100 softmax replay every copy then ended in the
-- same local minimum: 3/50 seeds within 2% at 100 evals, 19/50 with fresh restarts).
local util = require "htune.strategies.util"

local M = { name = "pattern" }

local function settings(state)
  local o, evals = state.options, util.budget_evals(state, 200)
  return {
    initial = o.initial_population or math.max(5, math.min(30, math.floor(evals * 0.1))),
    -- one copy under 200 evals: a generation of a matmul config's neighbours costs ~35 evals,
    -- so two copies leave a 100-eval run one generation each (measured in scripts/eval-strategies)
    copies = o.copies or (evals < 200 and 1 or 2),
    max_generations = o.max_generations or 20,
    min_improvement = o.min_improvement or 0.001,
    pair_prefix = o.pair_prefix == nil and "block" or o.pair_prefix,
    restarts = o.restarts ~= false,
    fresh_restarts = o.fresh_restarts ~= false,
    -- speculate: with room in the queue while a generation finishes, poll the neighbours of its
    -- best result so far. Default on when the budget is time only (an idle compile slot costs
    -- nothing), off under an evals budget (a speculative eval could be wasted).
    speculate = o.speculate == nil and not (state.budget and state.budget.evals) or o.speculate == true,
  }
end

function M.init(state)
  state.pattern = { cfg = settings(state), visited = {}, queue = {}, waiting = {}, copies = {},
                    started = {}, polled = {}, phase = "start", speculated = {}, speculated_from = {} }
end

-- Enqueues cfg unless visited; returns its hash or nil.
local function enqueue(state, p, cfg)
  local h = state.space:hash(cfg)
  if p.visited[h] then return nil end
  p.visited[h] = true
  p.waiting[h] = true
  p.queue[#p.queue + 1] = cfg
  return h
end

-- A copy's next generation: the unvisited neighbours of its point, and those that a speculative
-- poll from the same point already queued or measured.
local function expand(state, p, copy)
  copy.candidates = {}
  local from = copy.current.hash
  for _, n in ipairs(util.moves(state.space, copy.current.cfg, p.cfg.pair_prefix)) do
    local h = enqueue(state, p, n)
    if not h then
      h = state.space:hash(n)
      if p.speculated_from[h] ~= from then h = nil end
    end
    if h then copy.candidates[#copy.candidates + 1] = h; p.polled[h] = true end
  end
  copy.active = #copy.candidates > 0
end

-- The copy's point or the best of its candidates measured so far, whichever is faster.
local function best_candidate(state, copy)
  local best = copy.current
  for _, h in ipairs(copy.candidates) do
    local r = state.seen[h]
    if type(r) == "table" and util.perf(r) < util.perf(best) then best = r end
  end
  return best
end

-- Speculation: the best measured candidate of an active copy's unfinished generation, when it
-- beats the copy's point, has its neighbours queued now (once per point); expand takes them
-- over if the copy moves there.
local function speculate(state, p)
  for _, copy in ipairs(p.copies) do
    local best = copy.active and best_candidate(state, copy)
    if best and best ~= copy.current and not p.speculated[best.hash] then
      p.speculated[best.hash] = true
      for _, n in ipairs(util.moves(state.space, best.cfg, p.cfg.pair_prefix)) do
        local h = enqueue(state, p, n)
        if h then p.speculated_from[h] = best.hash end
      end
    end
  end
end

local function start_population(state, p, count)
  if not p.default_tried then
    p.default_tried = true
    enqueue(state, p, util.start_config(state))
  end
  for _, cfg in ipairs(util.sample_unseen(state, count, p.visited)) do enqueue(state, p, cfg) end
  p.phase = "population"
end

-- startable(p, hash): a measured config may start a copy: it has not been a starting point yet
-- (nor, with fresh_restarts, been polled by a copy). Hybrid asks the same of its restarts.
function M.startable(p, hash)
  return not p.started[hash] and not (p.cfg.fresh_restarts and p.polled[hash])
end

-- New copies from the best measured configs that are startable.
local function start_copies(state, p)
  p.copies = {}
  for _, r in ipairs(util.ranked(state.history)) do
    if #p.copies >= p.cfg.copies then break end
    if M.startable(p, r.hash) then
      p.started[r.hash] = true
      local copy = { current = r, generations = 0 }
      expand(state, p, copy)
      if copy.active then p.copies[#p.copies + 1] = copy end
    end
  end
  p.phase = "search"
end

-- A copy moves to its best candidate, or stops when that is not better enough.
local function step_copy(state, p, copy)
  local best = best_candidate(state, copy)
  copy.generations = copy.generations + 1
  local cur = util.perf(copy.current)
  if best == copy.current or copy.generations >= p.cfg.max_generations or
      (cur < math.huge and math.abs(util.perf(best) / cur - 1) < p.cfg.min_improvement) then
    if util.perf(best) < cur then copy.current = best end
    copy.active = false
    return
  end
  copy.current = best
  expand(state, p, copy)
end

local function advance(state, p)
  if p.phase == "start" then return start_population(state, p, p.cfg.initial) end
  if p.phase == "population" then
    start_copies(state, p)
  else
    for _, copy in ipairs(p.copies) do if copy.active then step_copy(state, p, copy) end end
  end
  for _, copy in ipairs(p.copies) do if copy.active then return end end
  if not p.cfg.restarts then p.phase = "stopped" return end
  start_copies(state, p)
  if #p.copies == 0 then start_population(state, p, math.max(4, p.cfg.initial // 2)) end
end

function M.propose(state, n)
  local p = state.pattern
  if #p.queue == 0 and next(p.waiting) == nil and p.phase ~= "stopped" then advance(state, p) end
  if #p.queue < n and p.cfg.speculate and p.phase == "search" then speculate(state, p) end
  local out = {}
  while #out < n and #p.queue > 0 do out[#out + 1] = table.remove(p.queue, 1) end
  return out
end

function M.observe(state, results)
  local p = state.pattern
  for _, r in ipairs(results) do p.waiting[r.hash] = nil end
end

function M.done(state) return state.pattern.phase == "stopped" and #state.pattern.queue == 0 end

return M

-- Differential evolution over config fields: a population of measured configs; each generation
-- every member i gets a child built from three others (a + F*(b - c) on ordinal fields'
-- value indices, b's value on other fields where b and c differ) crossed with i at rate CR;
-- the child replaces i when faster. Invalid children fall back to space:crossover + mutate.
local util = require "htune.strategies.util"

local M = { name = "de" }

function M.init(state)
  local o, evals = state.options, util.budget_evals(state, 400)
  state.de = {
    size = o.population_size or math.max(6, math.min(40, math.floor(evals / 5))),
    cr = o.crossover_rate or 0.8, f = o.scale or 0.8,
    params = state.space:params(), queue = {}, waiting = {}, visited = {}, pop = nil, children = {},
  }
end

local function enqueue(state, d, cfg)
  local h = state.space:hash(cfg)
  if d.visited[h] then return nil end
  d.visited[h] = true
  d.waiting[h] = true
  d.queue[#d.queue + 1] = cfg
  return h
end

local function ordinal(p)
  if p.kind == "choice" or p.kind == "bool" or not p.values then return false end
  for _, v in ipairs(p.values) do if type(v) ~= "number" then return false end end
  return true
end

local function index_of(values, v)
  for i, x in ipairs(values) do if x == v then return i end end
  return nil
end

local function mutate_field(d, p, a, b, c)
  local va, vb, vc = a[p.name], b[p.name], c[p.name]
  if util.same_value(vb, vc) then return va end
  if not ordinal(p) then return vb end
  local ia, ib, ic = index_of(p.values, va), index_of(p.values, vb), index_of(p.values, vc)
  if not (ia and ib and ic) then return vb end
  local delta = ib - ic
  local step = (delta > 0 and 1 or -1) * math.max(1, math.floor(d.f * math.abs(delta) + 0.5))
  return p.values[math.max(1, math.min(#p.values, ia + step))]
end

local function child_of(state, d, i)
  local rng, n = state.rng, #d.pop
  local picks, used = {}, { [i] = true }
  while #picks < 3 do
    local j = rng:int(1, n)
    if not used[j] or n < 4 then used[j] = true; picks[#picks + 1] = d.pop[j].cfg end
  end
  local x, child = d.pop[i].cfg, util.copy(d.pop[i].cfg)
  local forced = d.params[rng:int(1, #d.params)].name
  for _, p in ipairs(d.params) do
    if p.name == forced or rng:float() < d.cr then
      child[p.name] = mutate_field(d, p, picks[1], picks[2], picks[3])
    end
  end
  if state.space:validate(child) then return child end
  return state.space:mutate(state.space:crossover(x, picks[1], rng), rng, 1)
end

local function next_generation(state, d)
  if not d.pop then
    if not d.started then
      d.started = true
      enqueue(state, d, util.start_config(state))
      for _, c in ipairs(util.sample_unseen(state, d.size - 1, d.visited)) do enqueue(state, d, c) end
      return
    end
    local ranked = util.ranked(state.history)
    d.pop = {}
    for k = 1, math.min(d.size, #ranked) do d.pop[k] = ranked[k] end
    if #d.pop < 4 then d.pop, d.started = nil, false return end
  else
    for i, h in pairs(d.children) do
      local r = state.seen[h]
      if type(r) == "table" and util.perf(r) < util.perf(d.pop[i]) then d.pop[i] = r end
    end
  end
  d.children = {}
  for i = 1, #d.pop do
    for _ = 1, 5 do
      local h = enqueue(state, d, child_of(state, d, i))
      if h then d.children[i] = h break end
    end
  end
end

function M.propose(state, n)
  local d = state.de
  if #d.queue == 0 and next(d.waiting) == nil then next_generation(state, d) end
  if #d.queue == 0 and next(d.waiting) == nil then
    for _, c in ipairs(util.sample_unseen(state, n, d.visited)) do enqueue(state, d, c) end
  end
  local out = {}
  while #out < n and #d.queue > 0 do out[#out + 1] = table.remove(d.queue, 1) end
  return out
end

function M.observe(state, results)
  for _, r in ipairs(results) do state.de.waiting[r.hash] = nil end
end

return M

-- Helpers shared by the shipped strategies: result ordering, config copies, unseen sampling,
-- and a small random-forest classifier over space encodings (used by surrogate).
-- Strategies keep their own data in `state[<their name>]`; nothing here holds state.
local M = {}

local INF = math.huge

-- Latency of a result for ordering; failures sort last.
function M.perf(r)
  if r and r.ok and r.latency_us then return r.latency_us end
  return INF
end

function M.copy(cfg)
  local t = {}
  for k, v in pairs(cfg) do
    if type(v) == "table" then
      local a = {}
      for i, x in ipairs(v) do a[i] = x end
      t[k] = a
    else
      t[k] = v
    end
  end
  return t
end

function M.same_value(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

-- Results of `history` sorted fastest first (failures dropped).
function M.ranked(history)
  local ok = {}
  for _, r in ipairs(history) do if r.ok and r.latency_us then ok[#ok + 1] = r end end
  table.sort(ok, function(a, b) return a.latency_us < b.latency_us end)
  return ok
end

-- The config a search starts from: the space's default where it is valid; where a spec's
-- defaults do not fit the shape (softmax's register-resident row at 8192 columns), its first
-- valid one-field neighbour, else a random valid config. Chosen once a strategy state
-- (state.start_cfg), so that every call of a strategy starts from the same one (a portfolio's
-- arms, each with its own state and rng, may draw different random ones); a copy.
function M.start_config(state)
  if not state.start_cfg then
    local sp = state.space
    local cfg = sp:default()
    if not sp:validate(cfg) then cfg = sp:neighbors(cfg)[1] or sp:sample(state.rng) end
    state.start_cfg = cfg
  end
  return M.copy(state.start_cfg)
end

-- Up to n distinct random configs whose hashes are neither in state.seen nor in `exclude`
-- (a hash set, only read).
function M.sample_unseen(state, n, exclude)
  local out, sp, mine = {}, state.space, {}
  exclude = exclude or {}
  for _ = 1, n * 20 do
    if #out >= n then break end
    local cfg = sp:sample(state.rng)
    local h = sp:hash(cfg)
    if not state.seen[h] and not exclude[h] and not mine[h] then
      mine[h] = true
      out[#out + 1] = cfg
    end
  end
  return out
end

-- Evaluations this strategy may plan for (the driver's evals budget, or a default).
function M.budget_evals(state, default)
  return (state.budget and state.budget.evals) or default
end

---------------------------------------------------------------------------------------------
-- Random forest: rows are arrays of numbers in [0,1]; targets 0/1 labels (a classifier: leaves
-- hold the fraction of positives) or numbers (regression: leaves hold the mean). Trees split on
-- `feature <= threshold` at the best impurity gain among random features and thresholds.

-- Impurity of a node from its count, sum and sum of squares: Gini for 0/1 labels equals
-- 2 * variance, so one formula serves classification and regression.
local function impurity(n, sum, sq)
  if n == 0 then return 0 end
  local mean = sum / n
  return sq / n - mean * mean
end

local function best_split(X, y, idx, features, rng)
  local best = { gain = 0 }
  local n, sum, sq = #idx, 0, 0
  for _, i in ipairs(idx) do sum = sum + y[i]; sq = sq + y[i] * y[i] end
  local parent = impurity(n, sum, sq)
  for _ = 1, features do
    local f = rng:int(1, #X[idx[1]])
    local thr = X[idx[rng:int(1, n)]][f]
    local ln, ls, lq = 0, 0, 0
    for _, i in ipairs(idx) do
      if X[i][f] <= thr then ln = ln + 1; ls = ls + y[i]; lq = lq + y[i] * y[i] end
    end
    local rn = n - ln
    if ln > 0 and rn > 0 then
      local gain = parent - (ln * impurity(ln, ls, lq) + rn * impurity(rn, sum - ls, sq - lq)) / n
      if gain > best.gain then best = { gain = gain, f = f, thr = thr } end
    end
  end
  return best, sum / n
end

local function grow(X, y, idx, depth, opts, rng)
  local split, frac = best_split(X, y, idx, opts.features, rng)
  if depth >= opts.max_depth or #idx < opts.min_leaf * 2 or not split.f then return { leaf = frac } end
  local l, r = {}, {}
  for _, i in ipairs(idx) do
    if X[i][split.f] <= split.thr then l[#l + 1] = i else r[#r + 1] = i end
  end
  return { f = split.f, thr = split.thr,
           l = grow(X, y, l, depth + 1, opts, rng), r = grow(X, y, r, depth + 1, opts, rng) }
end

-- fit_forest(X, y, rng, {trees=16, max_depth=6, min_leaf=2, features=2*sqrt(d)}) -> forest
function M.fit_forest(X, y, rng, opts)
  opts = opts or {}
  local d = #X[1]
  local o = { trees = opts.trees or 16, max_depth = opts.max_depth or 6, min_leaf = opts.min_leaf or 2,
              features = opts.features or math.max(2, math.floor(2 * math.sqrt(d))) }
  local forest = {}
  for t = 1, o.trees do
    local idx = {}
    for k = 1, #X do idx[k] = rng:int(1, #X) end
    forest[t] = grow(X, y, idx, 0, o, rng)
  end
  return forest
end

-- Mean leaf value over the trees for one encoded row (positive fraction, or regression mean).
-- Also returns the standard deviation across trees (an uncertainty estimate).
function M.predict_forest(forest, x)
  local s, sq = 0, 0
  for _, node in ipairs(forest) do
    while not node.leaf do node = (x[node.f] <= node.thr) and node.l or node.r end
    s, sq = s + node.leaf, sq + node.leaf * node.leaf
  end
  local mean = s / #forest
  return mean, math.sqrt(math.max(0, sq / #forest - mean * mean))
end

local function differing_field(a, b)
  for k, v in pairs(a) do if not M.same_value(v, b[k]) then return k end end
end

-- A choice of numbers (matmul's num_warps, l2_grouping): every valid config with one of its
-- values other than cfg's and the neighbours' (space:neighbors gives it one step up and down).
local function choice_jumps(space, cfg, singles)
  local near, out = {}, {}
  for _, n in ipairs(singles) do
    local f = differing_field(cfg, n)
    if f then near[f .. "=" .. tostring(n[f])] = true end
  end
  local function with(name, v)
    local n = {}
    for k, x in pairs(cfg) do n[k] = x end
    n[name] = v
    return n
  end
  for _, q in ipairs(space:params()) do
    local numeric = q.kind == "choice" and math.type(q.values[1])
    for _, v in ipairs(numeric and q.values or {}) do
      local n = v ~= cfg[q.name] and not near[q.name .. "=" .. tostring(v)] and with(q.name, v)
      if n and space:validate(n) == true then out[#out + 1] = n end
    end
  end
  return out
end

-- Pattern search's moves from cfg: its single-field neighbours; every value of a choice of
-- numbers, not just the adjacent ones (latency is not monotone in them: on the H200 matmul
-- table, from l2_grouping 8 the step to 4 is slower while 2 and 1 are 2% faster, so pattern and
-- the surrogate stopped at 8 in 90 of 100 seeds); plus pairs of changes among the fields named
-- prefix* (both strategies use prefix "block": the tile sizes, whose neighbours in one field
-- alone often cannot hold the same work per block). no_jumps leaves the choice jumps out.
function M.moves(space, cfg, prefix, no_jumps)
  local out = {}
  local singles = space:neighbors(cfg)
  for _, n in ipairs(singles) do out[#out + 1] = n end
  if not no_jumps then
    for _, n in ipairs(choice_jumps(space, cfg, singles)) do out[#out + 1] = n end
  end
  if not prefix or prefix == "" then return out end
  for _, n1 in ipairs(singles) do
    local f1 = differing_field(cfg, n1)
    if f1 and f1:sub(1, #prefix) == prefix then
      for _, n2 in ipairs(space:neighbors(n1)) do
        local f2 = differing_field(n1, n2)
        if f2 and f2 > f1 and f2:sub(1, #prefix) == prefix and not M.same_value(n2[f2], cfg[f2]) then
          out[#out + 1] = n2
        end
      end
    end
  end
  return out
end

return M

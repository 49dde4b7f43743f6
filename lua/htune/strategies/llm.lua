-- LLM-guided evolution in the OpenEvolve style, with the LLM's latency hidden: a population
-- database split into islands (crowding keeps each diverse), several prompts in flight (each
-- asks for a batch of configs, showing one island's elites, other islands' bests, failures and
-- the reasons earlier proposals were rejected), and propose() that never waits: it returns the
-- LLM's parsed configs that are ready, then cheap local moves (mutations of island elites).
-- waits/poll let the driver's event loop parse replies as they arrive and sleep on them.
local prompt = require "htune.prompt"
local parse = require "htune.llm_parse"
local util = require "htune.strategies.util"
local sys = require "htune.sys"

local M = { name = "llm" }

M.defaults = { batch = 8, concurrency = 3, islands = 3, island_size = 16, migrate_every = 24,
               temperature = 0.7, max_tokens = 2048, local_fill = true, error_backoff_ms = 1000 }

-- The client from options: an htune.LLMClient, or the fields of htune.llm.client{...}.
function M.open_client(o)
  if o.client then return o.client end
  if not o.base_url then error("strategy llm: strategy_options needs 'client' or 'base_url' and 'model'", 0) end
  local c, err = require("htune.llm").client {
    base_url = o.base_url, model = o.model, api_key_env = o.api_key_env, protocol = o.protocol,
    max_concurrency = o.concurrency or M.defaults.concurrency, timeout_ms = o.timeout_ms,
    connect_timeout_ms = o.connect_timeout_ms, retries = o.retries, cache_dir = o.cache_dir,
    backoff_ms = o.backoff_ms,
  }
  if not c then error("strategy llm: " .. tostring(err), 0) end
  return c
end

local function setting(o, k) if o[k] ~= nil then return o[k] end return M.defaults[k] end

function M.new_data(state, o)
  local d = { client = M.open_client(o), inflight = {}, ready = {}, proposed = {}, origin = {},
              rejected = {}, next_island = 1, observed = 0, pause_until = 0,
              stats = { calls = 0, ok_calls = 0, errors = 0, cached_calls = 0, accepted = 0, rejected = 0,
                        local_moves = 0, llm_evals = 0, prompt_tokens = 0, completion_tokens = 0,
                        llm_ms = 0, last_error = nil } }
  for k in pairs(M.defaults) do d[k] = setting(o, k) end
  d.template, d.device = o.template, o.device or state.device
  d.n_islands, d.islands = d.islands, {}
  for i = 1, d.n_islands do d.islands[i] = { members = {} } end
  return d
end

function M.init(state) state.llm = M.new_data(state, state.options) end

---------------------------------------------------------------------------------------------
-- Islands: each keeps at most island_size results; a new result replaces its nearest member
-- when it is better and close (crowding), else the worst member when better.

local function dist(a, b)
  local s = 0
  for i = 1, #a do s = s + (a[i] - b[i]) ^ 2 end
  return math.sqrt(s)
end

local function add_member(state, d, isl, r)
  r.enc = r.enc or state.space:encode(r.cfg)
  local m = isl.members
  if #m < d.island_size then m[#m + 1] = r return end
  local near, nd, worst = 1, math.huge, 1
  for i, x in ipairs(m) do
    local dd = dist(x.enc, r.enc)
    if dd < nd then near, nd = i, dd end
    if util.perf(x) > util.perf(m[worst]) then worst = i end
  end
  local crowd = 0.25 * math.sqrt(#r.enc)
  if nd < crowd and util.perf(r) < util.perf(m[near]) then m[near] = r
  elseif util.perf(r) < util.perf(m[worst]) then m[worst] = r end
end

-- Mean pairwise distance of an island's members (its diversity).
function M.diversity(state, isl)
  local m, s, n = isl.members, 0, 0
  for i = 1, #m do for j = i + 1, #m do s, n = s + dist(m[i].enc, m[j].enc), n + 1 end end
  return n > 0 and s / n or 0
end

local function island_best(isl)
  local b
  for _, r in ipairs(isl.members) do if not b or util.perf(r) < util.perf(b) then b = r end end
  return b
end

local function migrate(state, d)
  for i, isl in ipairs(d.islands) do
    local b = island_best(isl)
    local dst = d.islands[i % #d.islands + 1]
    if b and util.perf(b) < math.huge then add_member(state, d, dst, b) end
  end
end

---------------------------------------------------------------------------------------------
-- Prompts in flight.

local function prompt_history(state, d, isl)
  local out, have = {}, {}
  local function put(r) if r and r.hash and not have[r.hash] then have[r.hash] = true out[#out + 1] = r end end
  for _, r in ipairs(isl.members) do put(r) end
  for _, other in ipairs(d.islands) do if other ~= isl then put(island_best(other)) end end
  local h = state.history
  for i = math.max(1, #h - 40), #h do put(h[i]) end
  return out
end

local function remaining(state, d)
  local evals = state.budget and state.budget.evals
  if not evals then return math.huge end
  local mine = 0
  for _ in pairs(d.proposed) do mine = mine + 1 end
  return evals - state.evals - mine
end

-- One prompt for n_configs; tag (any value) is copied to the reply's ready entries. history:
-- the results the prompt shows (default: the island's elites, other islands' bests, the last 40).
function M.launch(state, d, n_configs, tag, history)
  local idx = d.next_island
  d.next_island = idx % #d.islands + 1
  local messages = prompt.build(state.problem, { history = history or prompt_history(state, d, d.islands[idx]),
    rejected = d.rejected, device = d.device, n = n_configs, template = d.template })
  local h = d.client:request { messages = messages, max_tokens = d.max_tokens, temperature = d.temperature }
  d.inflight[#d.inflight + 1] = { handle = h, island = idx, n = n_configs, t0 = sys.now_ms(), tag = tag }
  d.stats.calls = d.stats.calls + 1
end

local function launch_some(state, d)
  if sys.now_ms() < d.pause_until then return end
  while #d.inflight < d.concurrency do
    local want = remaining(state, d) - #d.ready - #d.inflight * d.batch
    if want <= 0 then return end
    M.launch(state, d, math.min(d.batch, want))
  end
end

local function note_rejects(d, rejected)
  for _, r in ipairs(rejected) do
    d.rejected[#d.rejected + 1] = r
    d.stats.rejected = d.stats.rejected + 1
  end
  while #d.rejected > 32 do table.remove(d.rejected, 1) end
end

local function absorb_reply(state, d, job, res)
  local st = d.stats
  st.llm_ms = st.llm_ms + (res.latency_ms or 0)
  if not res.ok then
    st.errors, st.last_error = st.errors + 1, (res.code or "?") .. ": " .. tostring(res.error)
    d.pause_until = sys.now_ms() + d.error_backoff_ms * math.min(30, st.errors)
    return
  end
  st.ok_calls = st.ok_calls + 1
  if res.cached then st.cached_calls = st.cached_calls + 1 end
  st.prompt_tokens = st.prompt_tokens + (res.usage and res.usage.prompt_tokens or 0)
  st.completion_tokens = st.completion_tokens + (res.usage and res.usage.completion_tokens or 0)
  local seen = function(h) return state.seen[h] or d.proposed[h] or d.origin[h] end
  local p = parse.parse(state.space, res.text, { seen = seen, limit = job.n * 2 })
  note_rejects(d, p.rejected)
  for i, cfg in ipairs(p.configs) do
    d.ready[#d.ready + 1] = { cfg = cfg, hash = p.hashes[i], island = job.island, tag = job.tag }
    d.origin[p.hashes[i]] = { island = job.island, source = "llm" }
  end
  st.accepted = st.accepted + #p.configs
end

-- Moves finished prompts' configs into d.ready; never blocks.
function M.collect(state, d)
  if #d.inflight == 0 then return end
  d.client:poll(0)
  local keep = {}
  for _, job in ipairs(d.inflight) do
    local res = job.handle:result()
    if res then absorb_reply(state, d, job, res) else keep[#keep + 1] = job end
  end
  d.inflight = keep
end

---------------------------------------------------------------------------------------------
-- Local moves: mutations of island elites (tournament of two), neighbours of the global best.

local function parent(state, d, isl)
  local m = isl.members
  if #m == 0 then return state.best end
  local a, b = m[state.rng:int(1, #m)], m[state.rng:int(1, #m)]
  return util.perf(a) <= util.perf(b) and a or b
end

local function fresh(state, d, cfg, out_hashes)
  local h = state.space:hash(cfg)
  if state.seen[h] or d.proposed[h] or out_hashes[h] then return nil end
  return h
end

local function local_move(state, d, out_hashes)
  local sp, rng = state.space, state.rng
  local idx = rng:int(1, #d.islands)
  for _ = 1, 12 do
    local p = parent(state, d, d.islands[idx])
    local cfg = p and p.cfg and sp:mutate(p.cfg, rng, rng:int(1, 2)) or sp:sample(rng)
    local h = fresh(state, d, cfg, out_hashes)
    if h then return cfg, h, idx end
  end
  for _, cfg in ipairs(util.sample_unseen(state, 1, d.proposed)) do
    local h = fresh(state, d, cfg, out_hashes)
    if h then return cfg, h, idx end
  end
end

-- Moves ready LLM configs into out (up to n in all), skipping any measured meanwhile.
function M.take_ready(state, d, n, out, hashes)
  while #out < n and #d.ready > 0 do
    local x = table.remove(d.ready, 1)
    if not state.seen[x.hash] and not hashes[x.hash] then
      out[#out + 1], hashes[x.hash], d.proposed[x.hash] = x.cfg, true, true
      d.stats.llm_evals = d.stats.llm_evals + 1
    end
  end
  return out
end

function M.propose(state, n)
  local d = state.llm
  M.collect(state, d)
  launch_some(state, d)
  local out, hashes = {}, {}
  if not d.default_tried then
    d.default_tried = true
    local cfg = util.start_config(state)
    local h = state.space:hash(cfg)
    out[1], hashes[h], d.proposed[h], d.origin[h] = cfg, true, true, { island = 1, source = "local" }
  end
  -- Only LLM configs wanted (local_fill=false): an empty answer lets the driver wait on waits().
  M.take_ready(state, d, n, out, hashes)
  while d.local_fill and #out < n do
    local cfg, h, idx = local_move(state, d, hashes)
    if not cfg then break end
    out[#out + 1], hashes[h], d.proposed[h] = cfg, true, true
    d.origin[h] = d.origin[h] or { island = idx, source = "local" }
    d.stats.local_moves = d.stats.local_moves + 1
  end
  return out
end

function M.observe(state, results)
  local d = state.llm
  for _, r in ipairs(results) do
    if r.hash and not r.cached then
      d.proposed[r.hash] = nil
      local o = d.origin[r.hash] or { island = state.rng:int(1, #d.islands) }
      if r.ok and r.latency_us and r.cfg then add_member(state, d, d.islands[o.island], r) end
      d.observed = d.observed + 1
      if d.observed % d.migrate_every == 0 then migrate(state, d) end
    end
  end
  M.collect(state, d)
  launch_some(state, d)
end

-- The requests in flight, for the driver's wait, and the ms until a paused client may launch.
function M.waits_of(d)
  local hs = {}
  for k, job in ipairs(d.inflight) do hs[k] = job.handle end
  local wake = d.pause_until - sys.now_ms()
  return hs, (#hs == 0 and wake > 0) and wake or nil
end

function M.waits(state) return M.waits_of(state.llm) end

-- Called by the driver when a reply arrived: parse it now; returns configs ready to propose.
function M.poll(state)
  local d = state.llm
  M.collect(state, d)
  launch_some(state, d)
  return #d.ready
end

function M.report(state)
  local d = state.llm
  if not d then return nil end
  local r = {}
  for k, v in pairs(d.stats) do r[k] = v end
  r.inflight, r.diversity = #d.inflight, {}
  for i, isl in ipairs(d.islands) do r.diversity[i] = M.diversity(state, isl) end
  r.mean_llm_ms = r.ok_calls + r.errors > 0 and r.llm_ms / (r.ok_calls + r.errors) or 0
  r.client = d.client.stats and d.client:stats() or nil
  return r
end

return M

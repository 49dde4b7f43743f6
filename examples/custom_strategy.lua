-- A user strategy in ~30 lines: greedy hill climbing with random restarts, run on the toy problem.
local htune = require "htune"

local climb = { name = "climb" }

function climb.init(state) state.climb = { current = nil, queue = {} } end

function climb.propose(state, n)
  local c = state.climb
  if #c.queue == 0 then
    local base = state.best and state.best.cfg or state.space:default()
    for _, nb in ipairs(state.space:neighbors(base)) do
      if not state.seen[state.space:hash(nb)] then c.queue[#c.queue + 1] = nb end
    end
    if #c.queue == 0 then c.queue[1] = state.space:sample(state.rng) end -- stuck: restart
  end
  local out = {}
  while #out < n and #c.queue > 0 do out[#out + 1] = table.remove(c.queue) end
  return out
end

function climb.observe(state, results) end

if arg and arg[0] and arg[0]:match("custom_strategy%.lua$") then
  local res = htune.tune { problem = require("htune.problems.toy").new(), strategy = climb,
                           backend = "synthetic", budget = { evals = 100 } }
  print(string.format("climb: best %.2f us after %d evals", res.best.latency_us, res.evals))
end
return climb

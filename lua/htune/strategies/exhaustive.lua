-- Exhaustive search for small spaces: walks the dense index 0..size-1 (space:at), skipping
-- configs that break bounds or constraints; done when the index runs out.
local M = { name = "exhaustive" }

M.max_size = 5000000

function M.init(state)
  local size = state.space:size()
  local limit = state.options.max_size or M.max_size
  if size > limit then
    error(string.format("space has %d configs, more than exhaustive's max_size %d", size, limit))
  end
  state.exhaustive = { next = 0, size = size }
end

function M.propose(state, n)
  local ex, out = state.exhaustive, {}
  while #out < n and ex.next < ex.size do
    local cfg = state.space:at(ex.next)
    ex.next = ex.next + 1
    if cfg and state.space:validate(cfg) then out[#out + 1] = cfg end
  end
  return out
end

function M.observe(state, results) end

function M.done(state) return state.exhaustive.next >= state.exhaustive.size end

return M

-- The htune Lua module: gathers the C bindings and the Lua library into one table.
--   local htune = require "htune"
local M = {}

M.sys = require "htune.sys"
M.version = M.sys.version
M.space = require "htune.space"
M.rng = require "htune.rng"

-- Modules that load lazily (`htune.nvrtc`, `htune.tune`, ...) so that a script that
-- only samples spaces does not pay for the rest.
local lazy = {
  nvrtc = "htune.nvrtc", cuda = "htune.cuda", bench = "htune.bench", llm = "htune.llm",
  store = "htune.store",
}
setmetatable(M, {
  __index = function(t, k)
    local mod = lazy[k]
    if not mod then return nil end
    local v = require(mod)
    rawset(t, k, v)
    return v
  end,
})

return M

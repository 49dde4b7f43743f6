-- The htune Lua module: gathers the C bindings and the Lua library into one table.
--   local htune = require "htune"
local M = {}

M.sys = require "htune.sys"
M.version = M.sys.version
M.space = require "htune.space"
M.rng = require "htune.rng"
-- Run-wide fallbacks for htune.tune (seed, quiet, db, resume, budget); `htune run` flags fill it.
M.defaults = {}

-- Entry points implemented in their own modules, loaded on first use so that a script
-- that only samples spaces does not pay for compilers, drivers or HTTP.
function M.tune(opts) return require("htune.tune").tune(opts) end
function M.problem(name, opts) return require("htune.problem").load(name, opts) end
function M.evaluate(problem, configs, opts) return require("htune.evaluate").evaluate(problem, configs, opts) end
function M.best(problem, opts) return require("htune.record").best(problem, opts) end

local lazy = {
  nvrtc = "htune.nvrtc", cuda = "htune.cuda", bench = "htune.bench", llm = "htune.llm",
  store = "htune.store", prompt = "htune.prompt",
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

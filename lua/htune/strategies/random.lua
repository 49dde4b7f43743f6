-- Random search: uniform valid samples from the space, never repeating a config.
local util = require "htune.strategies.util"

local M = { name = "random" }

function M.init(state) end

function M.propose(state, n) return util.sample_unseen(state, n) end

function M.observe(state, results) end

return M

-- The toy problem's full synthetic table: every valid config of htune.problems.toy measured by
-- the synthetic backend, written as a replay file. scripts/eval-strategies.lua and its CI check
-- tests/cli/quality_check.lua both replay it, so they cannot build it differently.
local replay = require "htune.backends.replay"

local M = {}

-- write(path) -> the toy problem whose table now stands at path (raises when it cannot write).
function M.write(path)
  local p = require("htune.problems.toy").new()
  local be = require("htune.backends.synthetic").open(p, {})
  local rows = {}
  for i = 0, p.space:size() - 1 do
    local c = p.space:at(i)
    if c and p.space:validate(c) then rows[#rows + 1] = be:measure(c, 10, 0) end
  end
  assert(replay.write(path, p, rows, { device = "synthetic (toy landscape)", driver = "none", commit = "n/a", how = "all valid" }))
  return p
end

return M

-- `htune import FILE`: adds an htune JSON export or a Kernel Tuner cache file to the store;
-- importing the same file again merges into the same runs instead of duplicating them.
local record = require "htune.record"
local exchange = require "htune.exchange"

local M = { summary = "import an htune export or a Kernel Tuner cache file into the results store" }
M.usage = [[
usage: htune import FILE [--db PATH]

FILE is an htune JSON export (htune export --format json) or a Kernel Tuner cache file
(tune_kernel(..., cache=FILE)), also one cut short by an interrupted session. Kernel Tuner
entries become trials: times in ms become *_us, "InvalidConfig" / "CompilationFailedConfig" /
"RuntimeFailedConfig" become reason "invalid" / "compile" / "fault".
]]

function M.run(args)
  local o, pos = exchange.parse_args(args, { ["--db"] = true })
  if not o or #pos ~= 1 then
    io.stderr:write("htune import: " .. (pos or "expected one FILE") .. "\n" .. M.usage)
    return 2
  end
  local f, ferr = io.open(pos[1], "rb")
  if not f then io.stderr:write("htune import: " .. ferr .. "\n") return 1 end
  local text = f:read("a")
  f:close()
  local st, err = record.open_store(o.db)
  if not st then io.stderr:write("htune import: " .. err .. "\n") return 1 end
  local n, ierr = exchange.import(st, text)
  st:close()
  if not n then io.stderr:write("htune import: " .. pos[1] .. ": " .. ierr .. "\n") return 1 end
  io.stdout:write(string.format("imported %d run(s) (%d merged into existing), %d trials from %s (%s)\n",
    n.runs, n.merged, n.trials, pos[1], n.kind))
  return 0
end

return M

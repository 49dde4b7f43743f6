-- `htune export --format csv|json RUN`: writes runs and their trials from the store to stdout
-- (or -o FILE); the JSON is what `htune import` and the replay backend read.
local record = require "htune.record"
local exchange = require "htune.exchange"

local M = { summary = "export runs from the results store as CSV or JSON" }
M.usage = [[
usage: htune export [--format csv|json] RUN [--db PATH] [-o FILE]

RUN is a run id, "latest", "all", or a problem name (all its runs). JSON (the default) is one
object {"format":"htune-export","version":1,"runs":[...]} documented in docs/lua-api.md; CSV
has one row per trial with the config as JSON and its scalar fields as cfg.* columns.
]]

function M.run(args)
  local o, pos = exchange.parse_args(args, { ["--format"] = true, ["--db"] = true, ["-o"] = true })
  local fmt = o and (o.format or "json")
  if not o or #pos ~= 1 or (fmt ~= "csv" and fmt ~= "json") then
    local why = not o and pos or #pos ~= 1 and "expected one RUN" or "--format takes csv or json, got '" .. fmt .. "'"
    io.stderr:write("htune export: " .. why .. "\n" .. M.usage)
    return 2
  end
  local st, err = record.open_store(o.db)
  if not st then io.stderr:write("htune export: " .. err .. "\n") return 1 end
  local runs, rerr = exchange.select_runs(st, pos[1])
  if not runs then io.stderr:write("htune export: " .. rerr .. "\n") return 1 end
  local out = io.stdout
  if o.o then
    out, err = io.open(o.o, "w")
    if not out then io.stderr:write("htune export: " .. err .. "\n") return 1 end
  end
  local ok, werr = exchange["export_" .. fmt](st, runs, out)
  if out ~= io.stdout then out:close() end
  st:close()
  if not ok then io.stderr:write("htune export: " .. tostring(werr) .. "\n") return 1 end
  return 0
end

return M

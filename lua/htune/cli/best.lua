-- `htune best PROBLEM [--shape MxNxK]`: the fastest measured config for the key (kernel source
-- hash, shape, dtype, device) from the store; a changed kernel source finds nothing.
local record = require "htune.record"
local exchange = require "htune.exchange"
local cjson = require "cjson.safe"

local M = { summary = "print the best known config for a problem (from the results store)" }
M.usage = [[
usage: htune best PROBLEM [--shape MxNxK] [--dtype fp16] [--device NAME] [--db PATH] [--json] [-n N]

Prints the fastest measured config of PROBLEM for the key (kernel source hash, shape, dtype,
device). When PROBLEM has a spec (kernels/PROBLEM), its current kernel source must match the
one measured; otherwise runs of that problem name are searched. --shape MxNxK (or RxC) picks
the shape; -n N prints the N fastest. The store is --db PATH, else $HTUNE_DB, else
~/.local/share/htune/htune.db. Exit code 1 when nothing matches.
]]

local FLAGS = { ["--shape"] = true, ["--dtype"] = true, ["--device"] = true, ["--db"] = true, ["--json"] = false,
                ["-n"] = true }

-- The problem as the key needs it: from its spec when one loads, else just the name and shape.
-- Returns the problem and, when its spec did not load, why (said if nothing matches).
local function key_problem(name, o)
  local dims = {}
  for d in (o.shape or ""):gmatch("%d+") do dims[#dims + 1] = math.tointeger(tonumber(d)) end
  local popts = #dims == 3 and { M = dims[1], N = dims[2], K = dims[3] } or #dims == 2 and { rows = dims[1], cols = dims[2] } or {}
  popts.dtype = o.dtype
  local okp, problem = pcall(function() return require("htune.problem").load(name, popts) end)
  if okp and type(problem) == "table" then return problem end
  return { name = name, shape_text = o.shape, dtype = o.dtype }, not okp and tostring(problem) or nil
end

local function show(r)
  local s = r.stats or {}
  io.stdout:write(string.format("%s %s %s %s  run %s (%s)  kernel source %s\n", tostring(r.problem), tostring(r.shape),
    tostring(r.dtype), tostring(r.device), tostring(r.run), tostring(r.strategy), tostring(r.source_hash)))
  io.stdout:write(string.format("%s  latency_us=%.3f median_us=%s min_us=%s reps=%s noise_pct=%s\n", r.cfg_json,
    r.latency_us, tostring(s.median_us), tostring(s.min_us), tostring(s.reps), tostring(s.noise_pct)))
end

function M.run(args)
  local o, pos = exchange.parse_args(args, FLAGS)
  if not o or #pos ~= 1 then
    io.stderr:write("htune best: " .. (pos or "expected one PROBLEM") .. "\n" .. M.usage)
    return 2
  end
  local n = o.n and math.tointeger(tonumber(o.n))
  if o.n and not (n and n >= 1) then
    io.stderr:write("htune best: -n takes a count of 1 or more, got '" .. o.n .. "'\n")
    return 2
  end
  if o.shape and not (o.shape:match("^%d+x%d+x%d+$") or o.shape:match("^%d+x%d+$")) then
    io.stderr:write("htune best: --shape takes MxNxK or ROWSxCOLS, got '" .. o.shape .. "'\n")
    return 2
  end
  local problem, why = key_problem(pos[1], o)
  local found, err = record.best(problem, { db = o.db, device = o.device, n = n or 1 })
  if not found then
    io.stderr:write("htune best: " .. tostring(err) .. (why and " (the spec did not load: " .. why .. ")" or "") .. "\n")
    return 1
  end
  for _, r in ipairs(found) do
    if o.json then
      r.log = nil
      io.stdout:write(cjson.encode(r), "\n")
    else show(r) end
  end
  return 0
end

return M

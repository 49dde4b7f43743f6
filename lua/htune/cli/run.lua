-- `htune run [FLAGS] SCRIPT [args...]`: runs a Lua script with htune loaded and `arg` set;
-- a script not found as given is looked up among the shipped examples. FLAGS before the
-- script become htune.defaults, which every htune.tune call of the script falls back on.
local sys = require "htune.sys"

local M = { summary = "run a Lua tuning script (htune run --list shows the shipped ones)" }
M.usage = [[
usage: htune run SCRIPT.lua [ARGS...]
       htune run [--db PATH] [--resume] [--quiet] [--seed N]
                 [--budget-evals N] [--budget-seconds S] SCRIPT.lua [ARGS...]
       htune run --list

Runs SCRIPT with the htune module available (local htune = require "htune")
and the global `arg` set to {[0]=SCRIPT, ARGS...}. A SCRIPT that is not a file
is looked up in the shipped examples folder (name with or without .lua).

Flags go before SCRIPT (what follows it is the script's own). They set
htune.defaults: every htune.tune call of the script uses them where the call
itself gives no value (a budget field the call sets wins over the flag's).
  --db PATH           record every trial in the SQLite store at PATH; an
                      unfinished run with the same run key (problem, kernel
                      source, device, strategy, seed, space) is resumed
  --resume            continue the newest run with the same run key: its
                      trials are fed to the strategy and never re-measured;
                      without --db the store is $HTUNE_DB, else
                      ~/.local/share/htune/htune.db
  --quiet             no progress lines
  --seed N            seed for strategies and backends (integer)
  --budget-evals N    stop after N evaluations (including resumed ones)
  --budget-seconds S  stop after S seconds of tuning
Without --db or --resume nothing is recorded.
]]

-- flag -> {field, kind}; kind: true (no value), "int", "num", "str".
local FLAGS = {
  ["--db"] = { "db", "str" }, ["--resume"] = { "resume", true }, ["--quiet"] = { "quiet", true },
  ["--seed"] = { "seed", "int" }, ["--budget-evals"] = { "evals", "int" }, ["--budget-seconds"] = { "seconds", "num" },
}

-- parse_flags(args) -> defaults table, index of SCRIPT | nil, message.
function M.parse_flags(args)
  local d, i = {}, 1
  while args[i] and args[i]:match("^%-%-") and args[i] ~= "--list" do
    local f = FLAGS[args[i]]
    if not f then return nil, "unknown flag '" .. args[i] .. "' (htune run --help)" end
    local field, kind, v = f[1], f[2], true
    if kind ~= true then
      v = args[i + 1]
      if v == nil then return nil, args[i] .. " needs a value" end
      local n = tonumber(v)
      if kind == "int" then n = math.tointeger(n) end
      if kind ~= "str" and not n then return nil, args[i] .. " takes a" .. (kind == "int" and "n integer" or " number") .. ", got '" .. v .. "'" end
      if kind ~= "str" and field ~= "seed" and n <= 0 then return nil, args[i] .. " must be positive, got '" .. v .. "'" end
      if kind ~= "str" then v = n end
      i = i + 1
    end
    if field == "evals" or field == "seconds" then
      d.budget = d.budget or {}
      d.budget[field] = v
    else
      d[field] = v
    end
    i = i + 1
  end
  return d, i
end


local function examples_dir() return sys.root .. "/examples" end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

-- First comment line of a script, for the listing.
local function describe(path)
  local f = io.open(path)
  if not f then return "" end
  for line in f:lines() do
    local text = line:match("^%-%-%s*(.-)%s*$")
    if text and text ~= "" then f:close() return text end
  end
  f:close()
  return ""
end

function M.resolve(name)
  if exists(name) then return name end
  for _, cand in ipairs { name, name .. ".lua" } do
    local p = examples_dir() .. "/" .. cand
    if not name:find("/") and exists(p) then return p end
  end
  return nil
end

function M.list()
  io.stdout:write("shipped scripts (" .. examples_dir() .. "):\n")
  for _, f in ipairs(sys.listdir(examples_dir()) or {}) do
    if f:match("%.lua$") then
      io.stdout:write(string.format("  %-22s %s\n", f, describe(examples_dir() .. "/" .. f)))
    end
  end
  return 0
end

function M.run(args)
  local defaults, first = M.parse_flags(args)
  if not defaults then
    io.stderr:write("htune run: ", first, "\n")
    return 2
  end
  if args[first] == "--list" then return M.list() end
  local name = args[first]
  if not name then
    io.stderr:write(M.usage)
    return 2
  end
  local path = M.resolve(name)
  if not path then
    io.stderr:write("htune run: no script '" .. name .. "' here or among the shipped examples (htune run --list)\n")
    return 2
  end
  local chunk, err = loadfile(path)
  if not chunk then
    io.stderr:write("htune run: " .. err .. "\n")
    return 1
  end
  local script_args = { [0] = path }
  for i = first + 1, #args do script_args[i - first] = args[i] end
  _G.arg = script_args
  local htune = require "htune"
  for k, v in pairs(defaults) do htune.defaults[k] = v end
  local code = chunk(table.unpack(script_args))
  return math.type(code) == "integer" and code or 0
end

return M

-- `htune run SCRIPT [args...]`: runs a Lua script with htune loaded and `arg` set;
-- a script not found as given is looked up among the shipped examples.
local sys = require "htune.sys"

local M = { summary = "run a Lua tuning script (htune run --list shows the shipped ones)" }
M.usage = [[
usage: htune run SCRIPT.lua [ARGS...]
       htune run --list

Runs SCRIPT with the htune module available (local htune = require "htune")
and the global `arg` set to {[0]=SCRIPT, ARGS...}. A SCRIPT that is not a file
is looked up in the shipped examples folder (name with or without .lua).
]]

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
  if args[1] == "--list" then return M.list() end
  local name = args[1]
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
  for i = 2, #args do script_args[i - 1] = args[i] end
  _G.arg = script_args
  local code = chunk(table.unpack(script_args))
  return math.type(code) == "integer" and code or 0
end

return M

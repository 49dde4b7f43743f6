-- The htune command line: routes `htune CMD ...` to lua/htune/cli/CMD.lua.
-- Each command module returns {summary=, usage=, run=function(args) -> exit code}.
local sys = require "htune.sys"

local cli_dir = sys.root .. "/lua/htune/cli"

local function commands()
  local names = {}
  for _, f in ipairs(sys.listdir(cli_dir) or {}) do
    local name = f:match("^([%w_%-]+)%.lua$")
    if name and name ~= "main" and name ~= "util" then names[#names + 1] = name end
  end
  return names
end

local function usage(out)
  out:write("htune " .. sys.version .. " - GPU kernel autotuning, scripted in Lua\n\n")
  out:write("usage: htune COMMAND [ARGS...]\n\ncommands:\n")
  for _, name in ipairs(commands()) do
    local ok, cmd = pcall(require, "htune.cli." .. name)
    if ok and not cmd.hidden then out:write(string.format("  %-10s %s\n", name, cmd.summary or "")) end
  end
  out:write("\n  htune COMMAND --help   shows a command's options\n  htune --version\n")
end

local args = { ... }
local name = args[1]
if name == nil or name == "--help" or name == "-h" or name == "help" then
  usage(name and io.stdout or io.stderr)
  return name and 0 or 2
end
local path = cli_dir .. "/" .. name .. ".lua"
if not name:match("^[%w_%-]+$") or not io.open(path) then
  io.stderr:write("htune: unknown command '" .. name .. "'\n\n")
  usage(io.stderr)
  return 2
end
local cmd = require("htune.cli." .. name)
table.remove(args, 1)
if args[1] == "--help" or args[1] == "-h" then
  io.stdout:write(cmd.usage or ("usage: htune " .. name .. "\n"))
  return 0
end
return cmd.run(args) or 0

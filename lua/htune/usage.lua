-- A script's --help: its leading comment block is its usage text. A script calls
--   require("htune.usage").on_help(arg)
-- first thing; with -h or --help among the arguments it prints that block (comment markers
-- removed) and exits 0, before the script opens a GPU, a server or a database.
local M = {}

-- The comment lines at the top of the file at path (after a #! line), without "-- ".
function M.header(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local out = {}
  for line in f:lines() do
    if not (#out == 0 and line:match("^#!")) then
      local text = line:match("^%-%- ?(.*)$")
      if not text then break end
      out[#out + 1] = text
    end
  end
  f:close()
  return table.concat(out, "\n")
end

-- True when argv (a script's arg table) asks for help.
function M.asked(argv)
  for i = 1, #argv do
    if argv[i] == "-h" or argv[i] == "--help" then return true end
  end
  return false
end

function M.on_help(argv)
  if not M.asked(argv) then return end
  local text = M.header(argv[0]) or ""
  if text == "" then text = "no usage text at the top of " .. tostring(argv[0]) end
  io.write(text, "\n")
  os.exit(0)
end

return M

-- `htune cache stats|clear`: the NVRTC compile cache ($HTUNE_CACHE_DIR or ~/.cache/htune/nvrtc).
local M = { summary = "show or clear the compile cache (htune cache stats|clear)" }
M.usage = [[
usage: htune cache stats [--dir DIR]
       htune cache clear [--dir DIR]

stats   entries, bytes and the size limit of the NVRTC compile cache
clear   removes every cache entry
The cache lives in $HTUNE_CACHE_DIR, else ~/.cache/htune/nvrtc, unless --dir says otherwise.
]]

local function human(bytes)
  local units, v, i = { "B", "KiB", "MiB", "GiB", "TiB" }, bytes, 1
  while v >= 1024 and i < #units do v, i = v / 1024, i + 1 end
  return i == 1 and string.format("%d B", v) or string.format("%.1f %s", v, units[i])
end

function M.run(args)
  local verb, dir = args[1], nil
  for i = 2, #args do
    if args[i] == "--dir" and args[i + 1] then dir = args[i + 1] end
  end
  if verb ~= "stats" and verb ~= "clear" then
    io.stderr:write(M.usage)
    return 2
  end
  local nv = require "htune.nvrtc"
  if dir then nv.cache { dir = dir } end
  if verb == "clear" then
    local n, err = nv.cache_clear()
    if not n then
      io.stderr:write("htune cache: " .. err .. "\n")
      return 1
    end
    io.stdout:write(string.format("removed %d entries from %s\n", n, nv.cache().dir))
    return 0
  end
  local st, err = nv.cache_stats()
  if not st then
    io.stderr:write("htune cache: " .. err .. "\n")
    return 1
  end
  io.stdout:write(string.format("dir        %s\nentries    %d\nbytes      %d (%s)\nmax_bytes  %d (%s)\n",
    st.dir, st.entries, st.bytes, human(st.bytes), st.max_bytes, human(st.max_bytes)))
  return 0
end

return M

-- bench-pch: NVRTC's automatic precompiled headers (-pch, CUDA 12.8+) against plain compiles and
-- against one program per batch, serially on one thread, on the header-heavy matmul stand-in.
--   htune run scripts/bench-pch.lua [N configs, default 8]
require("htune.usage").on_help(arg)
local nv = require "htune.nvrtc"
local sys = require "htune.sys"

local n = math.tointeger(tonumber(arg and arg[1] or "8"))
if not n or n < 1 then
  io.stderr:write("bench-pch: N configs takes a whole number of 1 or more, got '" .. tostring(arg[1]) .. "'\n")
  os.exit(2)
end
local f = assert(io.open(sys.root .. "/kernels/bench/matmul_mma.cu"))
local src = f:read("a")
f:close()
local exprs = {}
for _, bm in ipairs { 32, 64, 128 } do for _, bn in ipairs { 32, 64, 128 } do for _, st in ipairs { 2, 3 } do
  exprs[#exprs + 1] = ("matmul_mma<%d,%d,32,2,2,%d>"):format(bm, bn, st)
end end end
nv.cache { enabled = false }
local pchdir = os.tmpname()
os.remove(pchdir)
os.execute("mkdir -p " .. pchdir)

local function per_config(options, batch)
  local t0 = sys.now_ms()
  for i = 1, n, batch do
    local r = nv.compile { source = src, name_exprs = { table.unpack(exprs, i, math.min(n, i + batch - 1)) }, options = options }
    assert(r.ok, r.log)
  end
  return (sys.now_ms() - t0) / n
end

local plain = { "-std=c++17" }
local pch = { "-std=c++17", "-pch", "--pch-dir=" .. pchdir }
print(("%d configs of kernels/bench/matmul_mma.cu, NVRTC %s, serial"):format(n, nv.version()))
print(("headers only (empty program)  %7.1f ms"):format(per_config(plain, n) and (function()
  local t0 = sys.now_ms(); nv.compile { source = src, options = plain }; return sys.now_ms() - t0 end)()))
print(("one program per config        %7.1f ms/config"):format(per_config(plain, 1)))
print(("-pch, one program per config  %7.1f ms/config"):format(per_config(pch, 1)))
print(("one program per 4 configs     %7.1f ms/config"):format(per_config(plain, 4)))
print(("one program for all %2d        %7.1f ms/config"):format(n, per_config(plain, n)))
os.execute("rm -rf " .. pchdir)

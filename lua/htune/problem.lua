-- htune.problem: loads a kernel's problem spec (kernels/<name>/spec.lua under sys.root, or a
-- path to a spec.lua) and returns the problem table of the Problem contract (docs/lua-api.md),
-- with the CUDA source read from beside the spec (one file, or several joined into one text),
-- its hash, and the cache key filled in.
local sys = require "htune.sys"

local M = {}

-- NVRTC's {major, minor}, or nil where libnvrtc is missing (asked once).
local nvrtc_ver
local function nvrtc_version()
  if nvrtc_ver == nil then
    local ok, nv = pcall(require, "htune.nvrtc")
    local major, minor
    -- without libnvrtc, version() returns nil, the error and its code: no version then
    if ok and nv.version then
      local s, ma, mi = nv.version()
      if s then major, minor = ma, mi end
    end
    nvrtc_ver = major and { major, minor } or false
  end
  return nvrtc_ver or nil
end

local REQUIRED = { "name", "space", "compile", "launch", "buffers", "args", "reference",
                   "tolerance", "flops", "bytes", "describe" }

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

-- The spec path and its directory for a name ("matmul") or a path (".../spec.lua").
local function locate(name_or_path)
  if name_or_path:find("/", 1, true) or name_or_path:match("%.lua$") then
    return name_or_path, name_or_path:match("^(.*)/[^/]*$") or "."
  end
  local dir = sys.root .. "/kernels/" .. name_or_path
  return dir .. "/spec.lua", dir
end

local function check_opts(opts)
  for _, k in ipairs { "M", "N", "K", "rows", "cols", "sm_count" } do
    local v = opts[k]
    if v ~= nil and (math.type(v) ~= "integer" or v < 1) then
      error(string.format("htune.problem: opts.%s must be a positive integer, got %s", k, tostring(v)), 3)
    end
  end
  if opts.dtype ~= nil and opts.dtype ~= "fp16" then
    error(string.format("htune.problem: opts.dtype '%s' is not supported (only fp16)", tostring(opts.dtype)), 3)
  end
  for _, k in ipairs { "clusters", "stream_k" } do
    if opts[k] ~= nil and type(opts[k]) ~= "boolean" then
      error(string.format("htune.problem: opts.%s must be true or false, got %s", k, tostring(opts[k])), 3)
    end
  end
  if opts.defines ~= nil then
    if type(opts.defines) ~= "table" then
      error("htune.problem: opts.defines must be a table {NAME = value}, got " .. type(opts.defines), 3)
    end
    for k, v in pairs(opts.defines) do
      if type(k) ~= "string" or not k:match("^[%a_][%w_]*$") then
        error(string.format("htune.problem: opts.defines: '%s' is not a macro name", tostring(k)), 3)
      end
      local t = math.type(v) or type(v)
      if t ~= "integer" and t ~= "string" and t ~= "boolean" then
        error(string.format("htune.problem: opts.defines.%s must be an integer, string or boolean, got %s", k, tostring(v)), 3)
      end
    end
  end
end

-- parse_define("NAME=VALUE") -> name, value (an integer when VALUE is one, else the text), or
-- nil when NAME is not a macro name: the --define of scripts/record.lua and bench-compile.lua.
function M.parse_define(s)
  local name, v = tostring(s):match("^([%a_][%w_]*)=(.*)$")
  if not name then return nil end
  return name, math.tointeger(tonumber(v)) or v
end

-- parse_value(text) -> a number when the text reads as one, true / false for those words, else
-- the text: the values of --opt here and of ab's variants and configs.
function M.parse_value(v)
  if v == "true" or v == "false" then return v == "true" end
  return math.tointeger(tonumber(v)) or tonumber(v) or v
end

-- parse_defines("NAME=V[,NAME=V]", into) -> into (a new table by default) with each pair
-- parse_define read, or nil and the first item that is not NAME=V: the --define of
-- bench-tune.lua and clock-probe.lua.
function M.parse_defines(list, into)
  into = into or {}
  for item in tostring(list):gmatch("[^,]+") do
    local k, v = M.parse_define(item)
    if not k then return nil, item end
    into[k] = v
  end
  return into
end

-- parse_opt("name=value") -> name, parse_value(value), or nil when name is not a lower-case
-- option name: the --opt of bench-tune.lua and bench-compile.lua.
function M.parse_opt(s)
  local name, v = tostring(s):match("^([%l_][%w_]*)=(.+)$")
  if not name then return nil end
  return name, M.parse_value(v)
end

-- parse_shape("MxNxK") -> {M=, N=, K=} (positive integers), or nil: the --shape of ab-variants.lua
-- and clock-probe.lua.
function M.parse_shape(text)
  local m, n, k = tostring(text):match("^(%d+)x(%d+)x(%d+)$")
  m, n, k = math.tointeger(tonumber(m)), math.tointeger(tonumber(n)), math.tointeger(tonumber(k))
  if not (m and n and k) or m < 1 or n < 1 or k < 1 then return nil end
  return { M = m, N = n, K = k }
end

-- parse_opts("name=v[,name=v]", into) -> into (a new table by default) with each pair parse_opt
-- read, or nil and the first item that is not name=v: the --opt of bench-tune.lua and
-- ab-variants.lua.
function M.parse_opts(list, into)
  into = into or {}
  for item in tostring(list):gmatch("[^,]+") do
    local k, v = M.parse_opt(item)
    if not k then return nil, item end
    into[k] = v
  end
  return into
end

-- job_key(ce) -> string: the identity of a compile job from problem.compile(cfg)'s result
-- (name_expr, defines, options): configs with equal keys compile to the same kernel.
function M.job_key(ce)
  local d = {}
  for k, v in pairs(ce.defines or {}) do d[#d + 1] = k .. "=" .. tostring(v) end
  table.sort(d)
  return ce.name_expr .. "|" .. table.concat(d, ",") .. "|" .. table.concat(ce.options or {}, " ")
end

-- A value as text, a table's keys sorted (so equal launches and arguments read equal).
local function canon(v)
  if type(v) ~= "table" then return type(v) == "string" and string.format("%q", v) or tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = tostring(k) .. "=" .. canon(v[k]) end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- experiment_key(problem, cfg) -> string or nil. Configs with equal keys are one experiment:
-- the same kernel (job_key of compile(cfg)) launched with the same grid, block, shared memory
-- and arguments, so one measurement stands for all of them (the matmul specs give arguments
-- that change nothing one value: at 1024^3 with 128-row tiles, l2_grouping 8, 16, 32 and 64 run
-- the identical kernel). nil for a problem without compile/launch (the toy landscape) or a
-- config compile() refuses.
function M.experiment_key(problem, cfg)
  if type(problem.compile) ~= "function" or type(problem.launch) ~= "function" then return nil end
  local ok, ce = pcall(problem.compile, cfg)
  if not ok or type(ce) ~= "table" or not ce.name_expr then return nil end
  local lok, l = pcall(problem.launch, cfg)
  if not lok or type(l) ~= "table" then return nil end
  local args = type(problem.args) == "function" and problem.args(cfg) or nil
  return M.job_key(ce) .. "|" .. canon(l.grid) .. canon(l.block) .. tostring(l.smem or 0) .. "|" .. canon(args)
end

-- Wraps p.compile so that edit(result) amends every config's compile job (a table) before it is
-- returned.
local function amend_compile(p, edit)
  local compile = p.compile
  p.compile = function(c)
    local r, a, b = compile(c)
    if type(r) == "table" then edit(r) end
    return r, a, b
  end
end

-- opts.defines: extra macros in every config program (a variant of a template, e.g.
-- MATMUL_FUSED_PROLOGUE=1, measured against the default); they join the problem's key so
-- stores and tables keep the variants apart. The reference is compiled without them.
local function with_defines(p, defines)
  local names = {}
  for k in pairs(defines) do names[#names + 1] = k end
  if #names == 0 then return end
  table.sort(names)
  local parts = {}
  for i, k in ipairs(names) do parts[i] = k .. "=" .. tostring(defines[k]) end
  amend_compile(p, function(r)
    r.defines = r.defines or {}
    for _, k in ipairs(names) do r.defines[k] = defines[k] end
  end)
  p.defines = defines
  p.key = p.key .. "+" .. table.concat(parts, ",")
end

-- p.minimal = true: the kernel uses nothing that NVRTC's -minimal leaves out (texture and
-- surface functions, cudadevrt's cuda* functions, launches from device code, the runtime API's
-- types), so every config program gets -minimal where NVRTC has it (12.4+). It skips part of
-- NVRTC's built-in prelude: the same cubins, 2-7% less compile time a config on a 2-core
-- machine, and 46-49 instead of 33-37 cold matmul configs/s on the 16-core H200 host, where 16
-- threads parse that prelude at once (kernels/h200-logs, call 25b). The problem's key does not
-- change, because the kernels do not.
local function with_minimal(p)
  local v = nvrtc_version()
  if not (p.minimal and v and (v[1] > 12 or (v[1] == 12 and v[2] >= 4))) then return end
  amend_compile(p, function(r)
    local o = {}
    for i, x in ipairs(r.options or {}) do o[i] = x end
    o[#o + 1] = "-minimal"
    r.options = o
  end)
end

-- The kernel source of spec p: source_files (paths relative to the spec's dir) joined in order
-- into one text, each part after `#line 1 "<path>"` so NVRTC messages name its file; else the
-- file source_file (default <name>.cu) as it is. Returns source, or nil and the missing path.
local function read_source(p, dir, path)
  local files = p.source_files
  if files == nil then
    local src_path = dir .. "/" .. (p.source_file or (p.name .. ".cu"))
    return read_file(src_path), src_path
  end
  if p.source_file ~= nil then
    error(string.format("htune.problem: %s sets both source_file ('%s') and source_files", path, tostring(p.source_file)), 3)
  end
  if type(files) ~= "table" or #files == 0 then
    error(string.format("htune.problem: %s: source_files must be a non-empty list of paths, got %s", path, tostring(files)), 3)
  end
  local parts = {}
  for i, f in ipairs(files) do
    if type(f) ~= "string" or f == "" or f:find('["\n]') then
      error(string.format("htune.problem: %s: source_files[%d] must be a file path, got %s", path, i, tostring(f)), 3)
    end
    local s = read_file(dir .. "/" .. f)
    if not s then return nil, dir .. "/" .. f end
    if s:sub(-1) ~= "\n" then s = s .. "\n" end
    parts[i] = string.format('#line 1 "%s"\n%s', f, s)
  end
  return table.concat(parts)
end

-- load(name_or_path, opts) -> problem, or nil, message, "ENOENT" when the spec or source is missing.
function M.load(name_or_path, opts)
  if type(name_or_path) ~= "string" then
    error("htune.problem: name must be a string, got " .. type(name_or_path), 2)
  end
  opts = opts or {}
  check_opts(opts)
  local path, dir = locate(name_or_path)
  local chunk, err = loadfile(path)
  if not chunk then
    if not read_file(path) then return nil, "htune.problem: no spec at " .. path, "ENOENT" end
    error("htune.problem: " .. err, 2)
  end
  local build = chunk()
  if type(build) ~= "function" then error("htune.problem: " .. path .. " must return a function", 2) end
  local p = build(opts, { htune = require "htune", dir = dir })
  for _, k in ipairs(REQUIRED) do
    if p[k] == nil then error(string.format("htune.problem: %s returned no field '%s'", path, k), 2) end
  end
  local source, src_path = read_source(p, dir, path)
  if not source then return nil, "htune.problem: no kernel source at " .. src_path, "ENOENT" end
  p.source, p.source_hash, p.dir = source, sys.hash(source), dir
  p.dtype = p.dtype or "fp16"
  p.key = string.format("%s/%s/%s", p.name, p.key_shape or "default", p.dtype)
  -- key_variant: a spec's option that changes the kernels but not the space (matmul's loads),
  -- so that stores and tables keep its results apart, as with opts.defines below
  if p.key_variant then p.key = p.key .. "+" .. tostring(p.key_variant) end
  with_minimal(p)
  if opts.defines then with_defines(p, opts.defines) end
  return p
end

return M

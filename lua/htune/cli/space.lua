-- `htune space FILE.lua`: prints a space's parameters, constraints and size. FILE returns an
-- htune.Space, or a table with a .space field (a problem).
local S = require "htune.space"

local M = { summary = "print a config space's parameters and exact size" }
M.usage = [[
usage: htune space FILE.lua [--sample N] [--seed S]

FILE returns an htune.Space, a problem table with a .space field, or is a kernel
spec.lua (built with htune.problem's default shape).
Prints each parameter (kind, values, count), the bounds and constraints, and the size
(exact, or an estimate when constraints make counting too slow). --sample N also prints
N sampled configs as JSON (seed S, default 1).
]]

-- 4128768000 -> "4,128,768,000"
function M.thousands(n)
  local s = string.format("%d", n)
  local sign, digits = s:match("^(-?)(%d+)$")
  return sign .. digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
end

local function show(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = show(x) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

local function values_text(p)
  if not p.values then return "(" .. M.thousands(p.count) .. " values)" end
  local parts = {}
  for i, v in ipairs(p.values) do
    if i > 12 then parts[#parts + 1] = "... (" .. #p.values .. " values)" break end
    parts[#parts + 1] = show(v)
  end
  local s = "{" .. table.concat(parts, ", ") .. "}"
  if p.kind == "list" then s = p.n .. " x " .. s end
  return s
end

local function load_space(path)
  local chunk, err = loadfile(path)
  if not chunk then return nil, err end
  local ok, v = pcall(chunk)
  if not ok then return nil, v end
  if type(v) == "function" then -- a kernel spec.lua: build the problem with default options
    local built, perr = require("htune.problem").load(path, {})
    if not built then return nil, perr end
    v = built
  end
  if type(v) == "table" and S.is_space(v.space) then v = v.space end
  if not S.is_space(v) then return nil, path .. " returned " .. type(v) .. ", not an htune.Space or a table with .space" end
  return v
end

function M.print(sp, out)
  out = out or io.stdout
  local params = sp:params()
  out:write(string.format("space %s: %d parameters\n", sp:name(), #params))
  for _, p in ipairs(params) do
    local kind = p.kind == "list" and ("list(" .. p.n .. ", " .. p.elem .. ")")
      or p.kind == "perm" and ("perm(" .. p.n .. ")") or p.kind
    out:write(string.format("  %-24s %-16s %13s  %s\n", p.name, kind, M.thousands(p.count), values_text(p)))
  end
  for _, name in ipairs(sp:constraints()) do out:write("  constraint: " .. name .. "\n") end
  local n, exact = sp:size()
  out:write(string.format("size: %s%s\n", M.thousands(n), exact and "" or " (estimate: constraints, sampled)"))
end

function M.run(args)
  local path, nsample, seed = nil, 0, 1
  local i = 1
  while args[i] do
    local a = args[i]
    if a == "--sample" or a == "--seed" then
      local v = math.tointeger(tonumber(args[i + 1] or ""))
      if not v or v < (a == "--seed" and 1 or 0) then
        io.stderr:write(string.format("htune space: %s takes a %s, got '%s'\n", a,
          a == "--seed" and "positive integer" or "count", tostring(args[i + 1])))
        return 2
      end
      if a == "--sample" then nsample = v else seed = v end
      i = i + 1
    elseif not path then path = a
    else io.stderr:write("htune space: unexpected argument '" .. a .. "'\n"); return 2 end
    i = i + 1
  end
  if not path then io.stderr:write(M.usage) return 2 end
  local sp, err = load_space(path)
  if not sp then io.stderr:write("htune space: " .. tostring(err) .. "\n") return 1 end
  M.print(sp)
  local r = require("htune.rng")(seed)
  for _ = 1, nsample do io.stdout:write(sp:to_json(sp:sample(r)), "\n") end
  return 0
end

return M

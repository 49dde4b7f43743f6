-- The htune Lua module: gathers the C bindings and the Lua library into one table.
--   local htune = require "htune"
local M = {}

M.sys = require "htune.sys"
M.version = M.sys.version
M.space = require "htune.space"
M.rng = require "htune.rng"
-- Run-wide fallbacks for htune.tune (seed, quiet, db, resume, budget); `htune run` flags fill it.
M.defaults = {}

-- Entry points implemented in their own modules, loaded on first use so that a script
-- that only samples spaces does not pay for compilers, drivers or HTTP.
function M.tune(opts) return require("htune.tune").tune(opts) end
function M.problem(name, opts) return require("htune.problem").load(name, opts) end
function M.evaluate(problem, configs, opts) return require("htune.evaluate").evaluate(problem, configs, opts) end
function M.best(problem, opts) return require("htune.record").best(problem, opts) end

-- The commit of the tree htune runs from, found once: $HTUNE_COMMIT, else the COMMIT file an
-- exported tree carries (git archive | tar, as for the GPU machine: git there would name an
-- outer checkout's commit), else git, with " (uncommitted changes in the tree)" when git sees
-- changes to tracked files; "unknown" without any of them.
local commit
function M.commit()
  if commit then return commit end
  commit = os.getenv("HTUNE_COMMIT")
  if not commit then
    local f = io.open(M.sys.root .. "/COMMIT")
    local c = f and f:read("l")
    if f then f:close() end
    if c and c:match("^%x+$") then commit = c end
  end
  if not commit then
    local function sh(cmd)
      local p = io.popen("git -C '" .. M.sys.root .. "' " .. cmd .. " 2>/dev/null")
      local out = p and p:read("a") or ""
      if p then p:close() end
      out = out:gsub("%s+$", "")
      return out ~= "" and out or nil
    end
    commit = sh("rev-parse --short HEAD")
    if commit and sh("status --porcelain --untracked-files=no") then commit = commit .. " (uncommitted changes in the tree)" end
  end
  commit = commit or "unknown"
  return commit
end

local lazy = {
  nvrtc = "htune.nvrtc", cuda = "htune.cuda", bench = "htune.bench", llm = "htune.llm",
  store = "htune.store", prompt = "htune.prompt",
}
setmetatable(M, {
  __index = function(t, k)
    local mod = lazy[k]
    if not mod then return nil end
    local v = require(mod)
    rawset(t, k, v)
    return v
  end,
})

return M

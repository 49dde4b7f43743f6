-- Prompt construction for LLM-guided tuning: turns a problem, its history and the device's
-- specs into chat messages through a template (lua/htune/prompts/<name>.lua, or any file that
-- returns {system=, user=function(ctx)}). Every section is rendered here as plain text; the
-- template only chooses and orders them, so users can replace it without touching the data.
local cjson = require "cjson"

local M = {}

M.defaults = { n = 8, best_k = 5, diverse_k = 5, failures_k = 5, rejected_k = 8, source_max_chars = 8000 }

local function json(v)
  if type(v) == "table" then return cjson.encode(v) end
  if type(v) == "string" then return cjson.encode(v) end
  return tostring(v)
end

local function fmt_num(v)
  if type(v) ~= "number" then return tostring(v) end
  if math.type(v) == "integer" or v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
  return string.format("%.4g", v)
end

-- The space with each parameter's meaning (problem.describe) and legal values.
function M.space_text(problem)
  local lines, describe = {}, problem.describe or {}
  for _, p in ipairs(problem.space:params()) do
    local vals
    if p.kind == "perm" then vals = "a permutation of 0.." .. (p.n - 1)
    elseif p.values then
      local parts = {}
      for i, v in ipairs(p.values) do parts[i] = json(v) end
      vals = (p.kind == "list" and ("a list of " .. p.n .. " values, each one of ") or "one of ") .. table.concat(parts, ", ")
    else vals = p.count .. " values (" .. p.kind .. ")" end
    local meaning = describe[p.name] and (": " .. describe[p.name]) or ""
    lines[#lines + 1] = string.format("- %s%s. Legal: %s", p.name, meaning, vals)
  end
  local cons = problem.space:constraints()
  if #cons > 0 then lines[#lines + 1] = "Constraints (configs breaking them are rejected): " .. table.concat(cons, ", ") end
  return table.concat(lines, "\n")
end

-- The machine-readable block (the mock server's scripted model reads it; real models may too).
function M.space_block(space, n, best_cfgs)
  local lines = { "htune-space count=" .. n }
  local params = space:params()
  for _, p in ipairs(params) do
    local parts = { "param", p.name }
    if p.kind == "perm" then parts[#parts + 1] = "perm=" .. p.n
    else
      if p.kind == "list" then parts[#parts + 1] = "list=" .. p.n end
      for _, v in ipairs(p.values or {}) do parts[#parts + 1] = json(v) end
    end
    lines[#lines + 1] = table.concat(parts, " ")
  end
  for _, cfg in ipairs(best_cfgs or {}) do
    local parts = { "best" }
    for _, p in ipairs(params) do parts[#parts + 1] = json(cfg[p.name]) end
    lines[#lines + 1] = table.concat(parts, " ")
  end
  lines[#lines + 1] = "end htune-space"
  return table.concat(lines, "\n")
end

local DEVICE_KEYS = {
  { "name", "GPU" }, { "sm_count", "streaming multiprocessors" }, { "smem_per_sm_bytes", "shared memory per SM (bytes)" },
  { "smem_per_block_bytes", "shared memory per block (bytes)" }, { "l2_bytes", "L2 cache (bytes)" },
  { "bandwidth_gbs", "DRAM bandwidth (GB/s)" }, { "tensor_tflops", "tensor-core peak (TFLOP/s)" },
  { "cc", "compute capability" }, { "clock_mhz", "max SM clock (MHz)" }, { "note", "note" },
}

function M.device_text(device)
  if not device then return "(not given)" end
  local lines, known = {}, {}
  for _, kv in ipairs(DEVICE_KEYS) do
    known[kv[1]] = true
    if device[kv[1]] ~= nil then lines[#lines + 1] = "- " .. kv[2] .. ": " .. fmt_num(device[kv[1]]) end
  end
  local extra = {}
  for k in pairs(device) do if not known[k] then extra[#extra + 1] = k end end
  table.sort(extra)
  for _, k in ipairs(extra) do lines[#lines + 1] = "- " .. k .. ": " .. fmt_num(device[k]) end
  return #lines > 0 and table.concat(lines, "\n") or "(not given)"
end

function M.problem_text(problem)
  local shape, keys = problem.shape or {}, {}
  for k in pairs(shape) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = k .. "=" .. fmt_num(shape[k]) end
  local s = string.format("%s, shape %s, dtype %s", problem.name or "?", #parts > 0 and table.concat(parts, " ") or "?", problem.dtype or "?")
  if problem.flops then s = s .. ", " .. fmt_num(problem.flops) .. " FLOP" end
  if problem.bytes then s = s .. ", " .. fmt_num(problem.bytes) .. " bytes moved at least" end
  if problem.baseline_us then s = s .. string.format(", baseline (%s) %.2f us", problem.baseline_name or "vendor", problem.baseline_us) end
  return s
end

local function ok_ranked(history)
  local ok = {}
  for _, r in ipairs(history or {}) do if r.ok and r.latency_us then ok[#ok + 1] = r end end
  table.sort(ok, function(a, b) return a.latency_us < b.latency_us end)
  return ok
end

local function result_line(space, r)
  return string.format("- %.3f us  %s", r.latency_us, space:to_json(r.cfg))
end

local function dist(a, b)
  local s = 0
  for i = 1, #a do s = s + (a[i] - b[i]) ^ 2 end
  return s
end

-- Up to k measured configs far (in space:encode distance) from the best ones: farthest-point.
function M.diverse(space, ranked, best_k, k)
  local chosen, enc = {}, {}
  for i = 1, math.min(best_k, #ranked) do chosen[#chosen + 1] = space:encode(ranked[i].cfg) end
  local out, used = {}, {}
  for _ = 1, k do
    local pick, far = nil, -1
    for i = best_k + 1, #ranked do
      if not used[i] then
        enc[i] = enc[i] or space:encode(ranked[i].cfg)
        local d = math.huge
        for _, c in ipairs(chosen) do d = math.min(d, dist(enc[i], c)) end
        if #chosen == 0 then d = 0 end
        if d > far then pick, far = i, d end
      end
    end
    if not pick then break end
    used[pick] = true
    chosen[#chosen + 1] = enc[pick]
    out[#out + 1] = ranked[pick]
  end
  return out
end

local function excerpt(s, n)
  s = tostring(s or ""):gsub("%s+", " ")
  return #s > n and (s:sub(1, n) .. "...") or s
end

function M.failures_text(space, history, k)
  local lines = {}
  for i = #(history or {}), 1, -1 do
    local r = history[i]
    if not r.ok and r.cfg and not r.cached then
      lines[#lines + 1] = string.format("- %s: %s%s", space:to_json(r.cfg), r.reason or "failed",
        r.log and (" (" .. excerpt(r.log, 160) .. ")") or "")
      if #lines >= k then break end
    end
  end
  return #lines > 0 and table.concat(lines, "\n") or "(none)"
end

function M.rejected_text(rejected, k)
  local lines = {}
  for i = math.max(1, #(rejected or {}) - k + 1), #(rejected or {}) do
    local r = rejected[i]
    lines[#lines + 1] = "- " .. excerpt(r.text or "?", 120) .. ": " .. tostring(r.reason)
  end
  return #lines > 0 and table.concat(lines, "\n") or "(none)"
end

-- All rendered sections of a prompt (a template picks among them).
function M.context(problem, opts)
  opts = opts or {}
  local d = M.defaults
  local n, best_k, diverse_k = opts.n or d.n, opts.best_k or d.best_k, opts.diverse_k or d.diverse_k
  local space, ranked = problem.space, ok_ranked(opts.history)
  local best, best_cfgs = {}, {}
  for i = 1, math.min(best_k, #ranked) do best[i] = result_line(space, ranked[i]); best_cfgs[i] = ranked[i].cfg end
  local div = {}
  for i, r in ipairs(M.diverse(space, ranked, best_k, diverse_k)) do div[i] = result_line(space, r) end
  local src = problem.source or ""
  local max_src = opts.source_max_chars or d.source_max_chars
  if #src > max_src then src = src:sub(1, max_src) .. "\n// ... (" .. (#problem.source - max_src) .. " more characters)" end
  local names = {}
  for i, p in ipairs(space:params()) do names[i] = p.name end
  return {
    n = n, problem = problem, names = names,
    source = src ~= "" and src or "(source not available)",
    space_text = M.space_text(problem), device_text = M.device_text(opts.device),
    problem_text = M.problem_text(problem),
    best_text = #best > 0 and table.concat(best, "\n") or "(nothing measured yet)",
    diverse_text = #div > 0 and table.concat(div, "\n") or "(none yet)",
    failures_text = M.failures_text(space, opts.history, opts.failures_k or d.failures_k),
    rejected_text = M.rejected_text(opts.rejected, opts.rejected_k or d.rejected_k),
    space_block = M.space_block(space, n, best_cfgs),
    evals = #(opts.history or {}), note = opts.note,
  }
end

-- A template by name ("default", "terse"), by path (*.lua), or a table; raises on misuse.
function M.template(t)
  t = t or "default"
  if type(t) == "string" then
    if t:match("%.lua$") then t = dofile(t) else t = require("htune.prompts." .. t) end
  end
  if type(t) ~= "table" or type(t.user) ~= "function" then
    error("prompt: a template is a table {system=string, user=function(ctx) -> string}, got "
      .. (type(t) == "table" and "a table whose user is a " .. type(t.user) or "a " .. type(t)), 2)
  end
  return t
end

-- build(problem, {history=, rejected=, device=, n=, template=, ...}) -> messages, ctx
function M.build(problem, opts)
  opts = opts or {}
  local t = M.template(opts.template)
  local ctx = M.context(problem, opts)
  local system = type(t.system) == "function" and t.system(ctx) or t.system
  local messages = {}
  if system then messages[#messages + 1] = { role = "system", content = system } end
  messages[#messages + 1] = { role = "user", content = t.user(ctx) }
  return messages, ctx
end

-- The exact text a model sees, for `htune prompt render`.
function M.render(messages)
  local parts = {}
  for _, m in ipairs(messages) do parts[#parts + 1] = "=== " .. m.role .. " ===\n" .. m.content end
  return table.concat(parts, "\n\n") .. "\n"
end

return M

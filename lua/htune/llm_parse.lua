-- Parsing an LLM's reply into configs of a space: finds JSON in prose or fenced blocks, keeps
-- only entries the space accepts (space:from_json, which checks values, bounds and constraints)
-- and that are new (space:hash against `seen`), and reports every rejected entry with a reason
-- so the next prompt can say why. Never raises on outside input.
local cjson = require "cjson.safe"

local M = {}

M.max_reply_bytes = 1 << 20
M.max_entries = 256

M.max_scan_bytes = 4 << 20 -- bracket scanning work per reply (bounds adversarial replies)

local OPEN, CLOSE, QUOTE, BSLASH = { [91] = true, [123] = true }, { [93] = true, [125] = true }, 34, 92

-- Index of the bracket closing the one at s (string- and escape-aware), or nil; and the
-- number of bytes scanned.
function M.balanced_end(text, s, limit)
  local depth, in_str, esc, n = 0, false, false, #text
  local stop = limit and math.min(n, s + limit - 1) or n
  for j = s, stop do
    local c = text:byte(j)
    if in_str then
      if esc then esc = false elseif c == BSLASH then esc = true elseif c == QUOTE then in_str = false end
    elseif c == QUOTE then in_str = true
    elseif OPEN[c] then depth = depth + 1
    elseif CLOSE[c] then
      depth = depth - 1
      if depth == 0 then return j, j - s + 1 end
    end
  end
  return nil, stop - s + 1
end

-- Candidate JSON texts, in order of preference: fenced blocks, then balanced [...] / {...} spans.
function M.candidates(text)
  local out = {}
  local pos = 1
  while #out < 16 do -- fenced blocks, linear: each fence is looked for once
    local a = text:find("```", pos, true)
    local nl = a and text:find("\n", a + 3, true)
    local b = nl and text:find("```", nl + 1, true)
    if not b then break end
    if text:sub(a + 3, nl - 1):match("^[%w_%-]*[ \t\r]*$") then out[#out + 1] = text:sub(nl + 1, b - 1) end
    pos = b + 3
  end
  local i, budget = 1, M.max_scan_bytes
  while i <= #text and #out < 32 and budget > 0 do
    local s = text:find("[%[{]", i)
    if not s then break end
    local e, scanned = M.balanced_end(text, s, budget)
    budget = budget - scanned
    if e then out[#out + 1] = text:sub(s, e) i = e + 1 else i = s + 1 end
  end
  return out
end

-- The entries of a decoded value: an array, {configs=[...]}, or one object.
local function entries_of(v)
  if type(v) ~= "table" then return nil end
  if type(v.configs) == "table" then v = v.configs end
  if #v > 0 or next(v) == nil then return v end
  return { v }
end

local function snippet(v)
  local s = type(v) == "table" and cjson.encode(v) or tostring(v)
  s = tostring(s or "?")
  return #s > 160 and s:sub(1, 160) .. "..." or s
end

-- One entry -> config or nil, reason.
local function check_entry(space, e)
  if type(e) ~= "table" then return nil, "not a JSON object (got " .. (e == cjson.null and "null" or type(e)) .. ")" end
  if #e > 0 then return nil, "an array, expected an object of parameter names to values" end
  local js = cjson.encode(e)
  if not js then return nil, "could not be re-encoded as JSON" end
  local ok, cfg, why = pcall(space.from_json, space, js)
  if not ok then return nil, "rejected by the space: " .. tostring(cfg) end
  if not cfg then return nil, tostring(why or "rejected by the space") end
  return cfg
end

-- parse(space, text, {seen=hash set or function(hash) -> truthy, limit=}) ->
--   {configs={...}, hashes={...}, rejected={{index=, text=, reason=}}, error=nil|string}
-- `error` says why nothing could be read at all (then rejected holds one entry saying so).
function M.parse(space, text, opts)
  opts = opts or {}
  local res = { configs = {}, hashes = {}, rejected = {} }
  local function reject(i, v, reason) res.rejected[#res.rejected + 1] = { index = i, text = snippet(v), reason = reason } end
  local function fail(reason, v) res.error = reason reject(0, v or "", reason) return res end
  if type(text) ~= "string" then return fail("reply is not text (" .. type(text) .. ")") end
  if #text > M.max_reply_bytes then return fail("reply is longer than " .. M.max_reply_bytes .. " bytes") end
  local entries, why
  for _, cand in ipairs(M.candidates(text)) do
    local v, err = cjson.decode(cand)
    entries = entries_of(v)
    if entries and #entries > 0 then break end
    why = why or (err and ("invalid JSON: " .. err)) or (v ~= nil and "JSON holds no configs")
    entries = nil
  end
  if not entries then return fail(why or "no JSON array of configs found in the reply", text) end
  local seen, mine, limit = opts.seen, {}, opts.limit or M.max_entries
  local function known(h)
    if type(seen) == "function" then return seen(h) end
    return seen and seen[h]
  end
  for i, e in ipairs(entries) do
    if i > M.max_entries then reject(i, "...", "more than " .. M.max_entries .. " entries") break end
    local cfg, reason = check_entry(space, e)
    local h = cfg and space:hash(cfg)
    if not cfg then reject(i, e, reason)
    elseif mine[h] then reject(i, e, "repeated in this reply")
    elseif known(h) then reject(i, e, "already measured or in flight")
    elseif #res.configs >= limit then reject(i, e, "more configs than the " .. limit .. " asked for")
    else
      mine[h] = true
      res.configs[#res.configs + 1] = cfg
      res.hashes[#res.hashes + 1] = h
    end
  end
  return res
end

return M

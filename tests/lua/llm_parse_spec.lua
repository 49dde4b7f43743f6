-- htune.llm_parse: configs out of LLM replies. Every reply in tests/lua/corpus/llm/ is
-- malformed and must be rejected with a reason; a bounded fuzz loop must never raise.
local parse = require "htune.llm_parse"
local sys = require "htune.sys"

local problem = require("htune.problems.toy").new()
local sp = problem.space
local corpus_dir = sys.root .. "/tests/lua/corpus/llm"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local GOOD = '{"block_m": 64, "block_n": 128, "block_k": 32, "num_warps": 4, "num_stages": 3, "pid_type": "xyz", "swizzle": true}'
local GOOD2 = '{"block_m": 128, "block_n": 64, "block_k": 64, "num_warps": 8, "num_stages": 2, "pid_type": "flat", "swizzle": false}'

describe("htune.llm_parse", function()
  it("reads a fenced JSON array inside prose", function()
    local r = parse.parse(sp, "Here you go:\n```json\n[" .. GOOD .. ",\n" .. GOOD2 .. "]\n```\nEnjoy.")
    assert.are.equal(2, #r.configs)
    assert.are.equal(0, #r.rejected)
    assert.are.equal(128, r.configs[1].block_n)
    assert.are.equal(sp:hash(r.configs[2]), r.hashes[2])
  end)

  it("reads an unfenced array after bracketed prose, a single object and {configs=[...]}", function()
    assert.are.equal(1, #parse.parse(sp, "I'd try [these] now: [" .. GOOD .. "] ok").configs)
    assert.are.equal(1, #parse.parse(sp, GOOD).configs)
    assert.are.equal(2, #parse.parse(sp, '{"configs": [' .. GOOD .. ", " .. GOOD2 .. "]}").configs)
  end)

  it("keeps the good entries and names the reason of each bad one", function()
    local bad = GOOD:gsub('"block_m": 64', '"block_m": 48')
    local r = parse.parse(sp, "[" .. GOOD .. ", " .. bad .. ", 7, " .. GOOD .. "]")
    assert.are.equal(1, #r.configs)
    assert.are.equal(3, #r.rejected)
    assert.matches("block_m", r.rejected[1].reason)
    assert.are.equal(2, r.rejected[1].index)
    assert.matches("not a JSON object", r.rejected[2].reason)
    assert.matches("repeated in this reply", r.rejected[3].reason)
  end)

  it("dedupes against history (a set or a function) and honours the limit", function()
    local cfg = sp:from_json(GOOD)
    local r = parse.parse(sp, "[" .. GOOD .. ", " .. GOOD2 .. "]", { seen = { [sp:hash(cfg)] = true } })
    assert.are.equal(1, #r.configs)
    assert.matches("already measured", r.rejected[1].reason)
    r = parse.parse(sp, "[" .. GOOD .. ", " .. GOOD2 .. "]", { seen = function() return false end, limit = 1 })
    assert.are.equal(1, #r.configs)
    assert.matches("more configs than", r.rejected[1].reason)
  end)

  it("rejects 100% of the malformed corpus, each with a reason", function()
    local names = assert(sys.listdir(corpus_dir))
    assert.is_true(#names >= 30)
    for _, name in ipairs(names) do
      local ok, r = pcall(parse.parse, sp, read(corpus_dir .. "/" .. name))
      assert.is_true(ok, name .. " raised: " .. tostring(r))
      assert.are.equal(0, #r.configs, name .. " gave a config")
      assert.is_true(#r.rejected >= 1, name .. " has no reason")
      for _, rej in ipairs(r.rejected) do
        assert.is_true(type(rej.reason) == "string" and #rej.reason > 0, name .. ": empty reason")
      end
    end
  end)

  it("survives a fuzz loop: no raise, every accepted config valid, every rejection explained", function()
    local rng = require("htune.rng")(7)
    local seeds = { "```json\n[" .. GOOD .. ", " .. GOOD2 .. "]\n```", "ok: [" .. GOOD .. "]", GOOD }
    for _, name in ipairs(sys.listdir(corpus_dir)) do
      local text = read(corpus_dir .. "/" .. name)
      if #text < 10000 then seeds[#seeds + 1] = text end -- floods are timed once, in the corpus test
    end
    local alphabet = '[]{}",:0123456789 \n`\\truefalsnxyz-.e'
    local accepted, raised = 0, 0
    for _ = 1, 1500 do
      local s = seeds[rng:int(1, #seeds)]
      for _ = 1, rng:int(1, 4) do
        local op, pos = rng:int(1, 4), rng:int(1, #s + 1)
        if op == 1 then s = s:sub(1, pos - 1) .. s:sub(pos + 1)
        elseif op == 2 then local k = rng:int(1, #alphabet) s = s:sub(1, pos - 1) .. alphabet:sub(k, k) .. s:sub(pos)
        elseif op == 3 then s = s:sub(1, pos)
        else s = s:sub(1, pos) .. s:sub(math.max(1, pos - 20), pos) .. s:sub(pos + 1) end
      end
      local ok, r = pcall(parse.parse, sp, s)
      if not ok then raised = raised + 1
      else
        for _, cfg in ipairs(r.configs) do assert.is_true(sp:validate(cfg)) end
        for _, rej in ipairs(r.rejected) do assert.is_true(#rej.reason > 0) end
        if #r.configs == 0 then assert.is_true(#r.rejected >= 1) end
        accepted = accepted + #r.configs
      end
    end
    assert.are.equal(0, raised)
    assert.is_true(accepted > 0) -- the fuzz also reaches valid configs, so it is not all noise
  end)

  it("bounds its work on adversarial replies (unclosed brackets and fences)", function()
    local t0 = sys.now_ms()
    assert.is_truthy(parse.parse(sp, string.rep("[", 300000)).error)
    assert.is_truthy(parse.parse(sp, string.rep("```json\n", 50000)).error)
    assert.is_true(sys.now_ms() - t0 < 2000)
  end)

  it("answers non-text and oversized replies with a reason", function()
    assert.matches("not text", parse.parse(sp, nil).error)
    assert.matches("longer than", parse.parse(sp, string.rep(" ", parse.max_reply_bytes + 1)).error)
  end)
end)

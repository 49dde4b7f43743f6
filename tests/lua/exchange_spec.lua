-- htune.exchange's CSV export read back by an RFC 4180 reader written here: fixed cfg.* columns
-- over rows whose configs lack fields, quoting of commas, quotes and newlines; JSON round trip.
local htune = require "htune"
local S = require "htune.store"
local exchange = require "htune.exchange"
local cjson = require "cjson.safe"

local function tmpdb()
  local p = os.tmpname()
  os.remove(p)
  return p .. ".db"
end

-- A sink with the file:write interface.
local function sink()
  local parts = {}
  return { write = function(self, ...) for _, s in ipairs { ... } do parts[#parts + 1] = s end return self end,
           text = function() return table.concat(parts) end }
end

-- RFC 4180: "..." cells may hold commas, newlines and "" for a quote. Returns rows of cells.
local function parse_csv(text)
  local rows, row, i, n = {}, {}, 1, #text
  while i <= n do
    local cell
    if text:sub(i, i) == '"' then
      local buf, j = {}, i + 1
      while true do
        local q = assert(text:find('"', j, true), "unterminated quoted cell")
        buf[#buf + 1] = text:sub(j, q - 1)
        if text:sub(q + 1, q + 1) == '"' then buf[#buf + 1] = '"' j = q + 2
        else i = q + 1 break end
      end
      cell = table.concat(buf)
    else
      local e = text:find("[,\n]", i) or n + 1
      cell = text:sub(i, e - 1)
      assert(not cell:find('"'), "bare quote in an unquoted cell: " .. cell)
      i = e
    end
    row[#row + 1] = cell
    local sep = text:sub(i, i)
    i = i + 1
    if sep == "\n" or sep == "" then rows[#rows + 1] = row row = {} end
  end
  return rows
end

-- Rows as {column=cell} keyed by the header; each row must have exactly the header's width.
local function records(text)
  local rows = parse_csv(text)
  local header, out = rows[1], {}
  for r = 2, #rows do
    assert.are.equal(#header, #rows[r], "row " .. r .. " width")
    local t = {}
    for c, name in ipairs(header) do t[name] = rows[r][c] end
    out[#out + 1] = t
  end
  return header, out
end

local NASTY = 'nvrtc: "k.cu", line 3: error, expected ";"\nsecond line\r\nthird'

-- A store with two runs whose trials' configs have different and missing fields.
local function fixture()
  local st = assert(S.open(tmpdb(), { batch_ms = 0 }))
  local r1 = assert(st:add_run { uid = "u1", run_key = "k1", problem = "p", shape = "4x4", dtype = "fp16",
                                 device = "GPU, \"big\"", strategy = "random", seed = 1 })
  local r2 = assert(st:add_run { uid = "u2", run_key = "k2", problem = "p", strategy = "pattern", seed = 2 })
  local trials = {
    { run_id = r1, seq = 1, cfg = '{"bm":64,"bn":32,"warps":4}', ok = true, latency_us = 10.5, median_us = 10.5, reps = 3 },
    { run_id = r1, seq = 2, cfg = '{"bm":128,"warps":8}', ok = false, reason = NASTY },
    { run_id = r1, seq = 3, cfg = '{"bn":16,"tag":"a,b \\"c\\""}', ok = true, latency_us = 0.1 },
    { run_id = r2, seq = 1, cfg = '{"bm":null,"split":2,"nested":{"x":1}}', ok = true, latency_us = 7 },
    { run_id = r2, seq = 2, cfg = '{}', ok = false, reason = "fault" },
  }
  for i, t in ipairs(trials) do
    t.hash = "h" .. i
    assert(st:add_trial(t))
  end
  assert(st:flush())
  return st
end

local function close(st)
  local p = st:path()
  st:close()
  os.remove(p)
end

describe("htune.exchange CSV", function()
  it("fixes the cfg.* columns over all rows and leaves a missing value empty", function()
    local st = fixture()
    local out = sink()
    assert(exchange.export_csv(st, assert(exchange.select_runs(st, "all")), out))
    local header, rows = records(out:text())
    local cfg_cols = {}
    for _, h in ipairs(header) do if h:match("^cfg%.") then cfg_cols[#cfg_cols + 1] = h end end
    assert.same({ "cfg.bm", "cfg.bn", "cfg.split", "cfg.tag", "cfg.warps" }, cfg_cols)
    assert.are.equal(5, #rows)
    local by = {}
    for _, r in ipairs(rows) do by[r.strategy .. r.seq] = r end
    assert.same({ "64", "32", "", "", "4" }, { by.random1["cfg.bm"], by.random1["cfg.bn"], by.random1["cfg.split"],
                                               by.random1["cfg.tag"], by.random1["cfg.warps"] })
    assert.same({ "128", "", "", "", "8" }, { by.random2["cfg.bm"], by.random2["cfg.bn"], by.random2["cfg.split"],
                                              by.random2["cfg.tag"], by.random2["cfg.warps"] })
    assert.same({ "", "16", "", 'a,b "c"', "" }, { by.random3["cfg.bm"], by.random3["cfg.bn"], by.random3["cfg.split"],
                                                   by.random3["cfg.tag"], by.random3["cfg.warps"] })
    assert.same({ "", "", "2", "", "" }, { by.pattern1["cfg.bm"], by.pattern1["cfg.bn"], by.pattern1["cfg.split"],
                                            by.pattern1["cfg.tag"], by.pattern1["cfg.warps"] })
    assert.same({ "", "", "", "", "" }, { by.pattern2["cfg.bm"], by.pattern2["cfg.bn"], by.pattern2["cfg.split"],
                                          by.pattern2["cfg.tag"], by.pattern2["cfg.warps"] })
    close(st)
  end)

  it("keeps the fixed columns aligned when run and trial fields are nil", function()
    local st = fixture()
    local out = sink()
    assert(exchange.export_csv(st, assert(exchange.select_runs(st, "all")), out))
    local _, rows = records(out:text())
    local by = {}
    for _, r in ipairs(rows) do by[r.strategy .. r.seq] = r end
    assert.same({ "", "", "" }, { by.pattern1.shape, by.pattern1.dtype, by.pattern1.device })
    assert.same({ "true", "", "7" }, { by.pattern1.ok, by.pattern1.reason, by.pattern1.latency_us })
    assert.same({ "false", "fault", "" }, { by.pattern2.ok, by.pattern2.reason, by.pattern2.latency_us })
    assert.same({ "10.5", "3" }, { by.random1.median_us, by.random1.reps })
    assert.are.equal("0.1", by.random3.latency_us)
    assert.are.equal("h3", by.random3.hash)
    close(st)
  end)

  it("quotes commas, quotes and newlines so a reader gets the text back", function()
    local st = fixture()
    local out = sink()
    assert(exchange.export_csv(st, assert(exchange.select_runs(st, "all")), out))
    local _, rows = records(out:text())
    local by = {}
    for _, r in ipairs(rows) do by[r.strategy .. r.seq] = r end
    assert.are.equal(NASTY, by.random2.reason)
    assert.are.equal('GPU, "big"', by.random2.device)
    -- the cfg column is the stored JSON text, nested fields included
    assert.same({ split = 2, nested = { x = 1 } }, (function()
      local t = cjson.decode(by.pattern1.cfg)
      t.bm = nil
      return t
    end)())
    assert.same({ bn = 16, tag = 'a,b "c"' }, cjson.decode(by.random3.cfg))
    close(st)
  end)

  it("writes a header only for no runs", function()
    local st = fixture()
    local out = sink()
    assert(exchange.export_csv(st, {}, out))
    local rows = parse_csv(out:text())
    assert.are.equal(1, #rows)
    assert.are.equal("run", rows[1][1])
    close(st)
  end)
end)

describe("htune.exchange JSON", function()
  it("round-trips configs with missing fields and multi-line reasons", function()
    local st = fixture()
    local out = sink()
    assert(exchange.export_json(st, assert(exchange.select_runs(st, "all")), out))
    local st2 = assert(S.open(tmpdb(), { batch_ms = 0 }))
    local n = assert(exchange.import(st2, out:text()))
    assert.same({ 2, 0, 5 }, { n.runs, n.merged, n.trials })
    local a, b = sink(), sink()
    assert(exchange.export_csv(st, assert(exchange.select_runs(st, "all")), a))
    assert(exchange.export_csv(st2, assert(exchange.select_runs(st2, "all")), b))
    local _, ra = records(a:text())
    local _, rb = records(b:text())
    assert.are.equal(#ra, #rb)
    local by = {}
    for _, r in ipairs(rb) do by[r.hash] = r end
    for _, r in ipairs(ra) do
      local r2 = assert(by[r.hash], "trial " .. r.hash .. " lost")
      for k, v in pairs(r) do
        if k == "cfg" then assert.same(cjson.decode(v), cjson.decode(r2[k]))
        elseif k ~= "run" then assert.are.equal(v, r2[k], "trial " .. r.hash .. " column " .. k) end
      end
    end
    close(st)
    close(st2)
  end)
end)

-- Imports read files from other tools and other htune versions: every damaged document is
-- imported or refused with a message, never raises, and the store keeps answering.
describe("htune.exchange import fuzz", function()
  local function mutate(v, r, depth)
    if type(v) ~= "table" or depth > 6 then
      local pick = r:int(1, 8)
      if pick == 1 then return nil elseif pick == 2 then return "x" elseif pick == 3 then return -1
      elseif pick == 4 then return {} elseif pick == 5 then return 1e300 elseif pick == 6 then return true end
      return v
    end
    local out = {}
    for k, x in pairs(v) do
      if r:int(1, 6) == 1 then out[k] = mutate(x, r, depth + 1) else out[k] = type(x) == "table" and mutate(x, r, depth + 1) or x end
    end
    if r:int(1, 10) == 1 then out[r:int(1, 3) == 1 and "extra" or 1] = "junk" end
    return out
  end

  it("300 structurally mutated exports and Kernel Tuner caches, and 200 byte-damaged texts", function()
    local st = fixture()
    local out = sink()
    assert(exchange.export_json(st, assert(exchange.select_runs(st, "all")), out))
    local export = assert(cjson.decode(out:text()))
    local kt = { tune_params_keys = { "bm", "warps" }, kernel_name = "k", device_name = "GPU",
                 cache = { ["64,4"] = { bm = 64, warps = 4, time = 1.5, times = { 1.4, 1.6 } },
                           ["128,8"] = { bm = 128, warps = 8, time = 1e20 } } }
    local st2 = assert(S.open(tmpdb(), { batch_ms = 0 }))
    local r = htune.rng(23)
    local imported, refused = 0, 0
    local function try(text)
      local ok, n, err = pcall(exchange.import, st2, text)
      assert.is_true(ok, tostring(n))
      if n then imported = imported + 1 else refused = refused + 1; assert.is_string(err) end
    end
    for i = 1, 300 do
      local doc = mutate(i % 2 == 0 and export or kt, r, 0)
      try(cjson.encode(doc) or "{}")
    end
    local text = out:text()
    for _ = 1, 200 do
      local s = text
      for _ = 1, r:int(1, 5) do
        local at = r:int(1, #s)
        s = r:int(1, 2) == 1 and (s:sub(1, at - 1) .. string.char(r:int(0, 255)) .. s:sub(at + 1)) or s:sub(1, at)
      end
      try(s)
    end
    assert.is_true(imported > 10 and refused > 10, ("imported %d, refused %d"):format(imported, refused))
    assert(exchange.select_runs(st2, "all"))
    close(st)
    close(st2)
  end)
end)

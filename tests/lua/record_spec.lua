-- htune.record (the driver's recorder), htune.best and the export/import round trip.
local htune = require "htune"
local record = require "htune.record"
local exchange = require "htune.exchange"
local S = htune.space

local sp = S.new { name = "fake", params = { { "a", S.int(1, 100, 1) }, { "b", S.choice { "x", "y" } } } }
local function problem(src) return { name = "fake", key = "fake/4x4/fp16", dtype = "fp16", source_hash = src or "s1", space = sp } end
local function result(a, lat)
  local cfg = { a = a, b = "y" }
  return { cfg = cfg, hash = sp:hash(cfg), ok = lat ~= nil, reason = lat == nil and "compile" or nil, latency_us = lat,
           stats = { median_us = lat, reps = 5 }, compile_ms = 3, facts = { regs = 40 }, log = "ptxas ok" }
end
local function tmpdb() local p = os.tmpname() os.remove(p) return p .. ".db" end

describe("htune.record", function()
  it("resumes an unfinished run with its trials in the Trial shape", function()
    local db = tmpdb()
    local rec = assert(record.open({ db = db }, problem(), "random", 1))
    assert.are.equal(0, #rec:previous())
    rec:trial(result(1, 50))
    rec:trial(result(2, nil))
    rec.store:close()                          -- as a crash would leave it: status running
    local again = assert(record.open({ db = db }, problem(), "random", 1))
    local prev = again:previous()
    assert.are.equal(2, #prev)
    assert.same({ a = 1, b = "y" }, prev[1].cfg)
    assert.are.equal(50, prev[1].latency_us)
    assert.are.equal(5, prev[1].stats.reps)
    assert.are.equal("compile", prev[2].reason)
    assert.is_false(prev[2].ok)
    assert.is_true(again:finish { stopped_because = "budget" })
    local fresh = assert(record.open({ db = db }, problem(), "random", 1))
    assert.are.equal(0, #fresh:previous())      -- a finished run is not resumed by itself
    fresh:finish {}
    local asked = assert(record.open({ db = db, resume = true }, problem(), "random", 1))
    assert.are.equal(0, #asked:previous())      -- resume=true takes the newest run of the key
    asked:finish {}
    os.remove(db)
  end)

  it("keys best by kernel source and takes a store object it does not close", function()
    local db = tmpdb()
    local st = assert(record.open_store(db))
    local rec = assert(record.open({ db = st }, problem(), "pattern", 2))
    rec:trial(result(7, 30))
    rec:trial(result(8, 20))
    rec:finish {}
    local b = assert(htune.best(problem(), { db = st }))
    assert.are.equal(8, b.cfg.a)
    assert.are.equal(20, b.latency_us)
    assert.are.equal("4x4", b.shape)
    local none, why = htune.best(problem("s2"), { db = st })
    assert.is_nil(none)
    assert.matches("no measured config for fake shape 4x4", why)
    -- the same source and shape under another key (a define, matmul's loads) is kept apart
    local other = problem()
    other.key = "fake/4x4/fp16+loads=tma"
    local rec2 = assert(record.open({ db = st }, other, "pattern", 2))
    rec2:trial(result(9, 10))
    rec2:finish {}
    assert.are.equal(8, assert(htune.best(problem(), { db = st })).cfg.a)
    assert.are.equal(9, assert(htune.best(other, { db = st })).cfg.a)
    st:close()
    os.remove(db)
  end)

  it("round-trips a JSON export and merges a second import", function()
    local db, db2, out = tmpdb(), tmpdb(), os.tmpname()
    local rec = assert(record.open({ db = db }, problem(), "random", 3))
    for a = 1, 5 do rec:trial(result(a, 100 - a)) end
    rec:finish {}
    local st = assert(record.open_store(db))
    local f = assert(io.open(out, "w"))
    assert(exchange.export_json(st, assert(exchange.select_runs(st, "all")), f))
    f:close()
    local text = assert(io.open(out)):read("a")
    local st2 = assert(record.open_store(db2))
    local n = assert(exchange.import(st2, text))
    assert.same({ 1, 0, 5 }, { n.runs, n.merged, n.trials })
    n = assert(exchange.import(st2, text))
    assert.same({ 0, 1 }, { n.runs, n.merged })
    assert.are.equal(95, assert(htune.best(problem(), { db = st2 })).latency_us)
    st:close() st2:close()
    os.remove(db) os.remove(db2) os.remove(out)
  end)

  it("imports a Kernel Tuner cache cut short by a crash", function()
    local st = assert(record.open_store(tmpdb()))
    local text = [[{"device_name": "A100", "kernel_name": "k", "problem_size": [64, 32],
      "tune_params_keys": ["bx"], "cache": {
      "8": {"bx": 8, "time": 0.5, "times": [0.4, 0.5, 0.6]},
      "16": {"bx": 16, "time": "InvalidConfig"},]]
    local n = assert(exchange.import(st, text))
    assert.are.equal(2, n.trials)
    local b = assert(record.best({ name = "k", shape_text = "64x32" }, { db = st }))
    assert.are.equal(500, b.latency_us)
    assert.are.equal(3, b.stats.reps)
    assert.are.equal(400, b.stats.min_us)
    assert.is_nil(exchange.import(st, "{}"))
    os.remove(st:path())
    st:close()
  end)
end)

-- Synthetic and replay backends: determinism, failure regions, simulated latency, the replay
-- file format (plain and gzip), misses, nearest-neighbour resolution and refused files.
local htune = require "htune"
local toy = require "htune.problems.toy"
local synthetic = require "htune.backends.synthetic"
local replay = require "htune.backends.replay"

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(htune.sys.mkdirs(d))
  return d
end

local function sample_rows(problem, n)
  local be = synthetic.open(problem, {})
  local rows, r, seen = {}, htune.rng(3), {}
  while #rows < n do
    local c = problem.space:sample(r)
    local h = problem.space:hash(c)
    if not seen[h] then seen[h] = true; rows[#rows + 1] = be:measure(c, 10, 0) end
  end
  return rows
end

describe("synthetic backend", function()
  local p = toy.new()

  it("is deterministic without noise and reports failing regions as data", function()
    local be = synthetic.open(p, {})
    local c = p.space:default()
    be:submit { { id = 1, cfg = c, hash = p.space:hash(c) }, { id = 2, cfg = c, hash = p.space:hash(c) } }
    local res = be:poll(0)
    assert.are.equal(2, #res)
    assert.are.equal(res[1].latency_us, res[2].latency_us)
    local bad = { block_m = 256, block_n = 256, block_k = 16, num_warps = 1, num_stages = 1, pid_type = "flat", swizzle = false }
    local r = be:measure(bad, 1, 0)
    assert.is_false(r.ok)
    assert.are.equal("compile", r.reason)
  end)

  it("simulates per-eval latency on its workers", function()
    local be = synthetic.open(p, { latency_ms = 20, workers = 2 })
    local trials = {}
    for i = 1, 4 do local c = p.space:sample(htune.rng(i)) trials[i] = { id = i, cfg = c, hash = p.space:hash(c) } end
    local t0 = htune.sys.now_ms()
    be:submit(trials)
    assert.are.equal(4, be:pending())
    assert.are.equal(0, #be:poll(0))
    local got = 0
    while be:pending() > 0 do got = got + #be:poll(100) end
    local dt = htune.sys.now_ms() - t0
    assert.are.equal(4, got)
    assert.is_true(dt >= 38 and dt < 200, "took " .. dt .. " ms")
  end)
end)

describe("replay backend", function()
  local p = toy.new()
  local dir = tmpdir()
  local rows = sample_rows(p, 200)

  for _, ext in ipairs { ".replay", ".replay.gz" } do
    it("round-trips a table with metadata (" .. ext .. ")", function()
      local path = dir .. "/toy" .. ext
      assert(replay.write(path, p, rows, { device = "test device", driver = "0.0", commit = "abc" }))
      local data = assert(replay.read(path))
      assert.are.equal(200, #data.rows)
      assert.are.equal("test device", data.meta.device)
      local be = assert(replay.open(p, { path = path }))
      assert.are.equal("replay", be.info.backend)
      local recorded = rows[7]
      local r = be:rebench { recorded.cfg }[1]
      assert.are.equal(recorded.ok, r.ok)
      if recorded.ok then assert.is_true(math.abs(r.latency_us - recorded.latency_us) < 1e-3) end
    end)
  end

  it("gives a table's baseline only when it was timed gated; an older one stays as baseline_ungated_us", function()
    local path = dir .. "/bl.replay"
    assert(replay.write(path, p, rows, { baseline_us = 5, baseline_name = "vendor" }))
    local be = assert(replay.open(p, { path = path }))
    assert.are.equal(5, be.info.baseline_ungated_us)
    assert.are_not.equal(5, be.info.baseline_us) -- the problem's own (toy: its default config), not the table's
    assert.are.equal(p.baseline_us, be.info.baseline_us)
    assert(replay.write(path, p, rows, { baseline_us = 5, baseline_name = "vendor", baseline_timing = "gated" }))
    be = assert(replay.open(p, { path = path }))
    assert.are.equal(5, be.info.baseline_us)
    assert.is_nil(be.info.baseline_ungated_us)
  end)

  it("reports a config not in the table as a miss, or its nearest neighbour when allowed", function()
    local path = dir .. "/toy.replay"
    local have = {}
    for _, r in ipairs(rows) do have[p.space:hash(r.cfg)] = true end
    local missing
    local g = htune.rng(99)
    repeat missing = p.space:sample(g) until not have[p.space:hash(missing)]
    local strict = assert(replay.open(p, { path = path }))
    local r = strict:rebench { missing }[1]
    assert.is_false(r.ok)
    assert.are.equal("miss", r.reason)
    local near = assert(replay.open(p, { path = path, nearest = true }))
    local r2 = near:rebench { missing }[1]
    assert.is_truthy(r2.log and r2.log:match("nearest"), tostring(r2.log))
  end)

  it("resolves a miss by per-field distance (an enum mismatch weighs 1, a full-range ordinal move 1), ties to the lower index", function()
    local S = htune.space
    local q = { name = "nn", space = S.new { name = "nn", params = {
      { "t1", S.pow2(16, 256) }, { "t2", S.pow2(16, 256) }, { "mode", S.choice { "a", "b", "c" } } } } }
    local function row(c, us) return { cfg = c, ok = true, latency_us = us } end
    -- two ordinal fields 3/4 of their range away (per field 1.5; squared encoding 1.125)
    -- against one enum mismatch (per field 1; squared one-hot encoding 2)
    local far_tiles, other_mode = { t1 = 128, t2 = 128, mode = "a" }, { t1 = 16, t2 = 16, mode = "b" }
    local tie = { t1 = 16, t2 = 16, mode = "c" }
    local path = dir .. "/nn.replay"
    assert(replay.write(path, q, { row(far_tiles, 1), row(tie, 3), row(other_mode, 2) }, { how = "sampled" }))
    local be = assert(replay.open(q, { path = path, nearest = true }))
    local r = be:rebench { { t1 = 16, t2 = 16, mode = "a" } }[1]
    local low = math.min(q.space:index_of(other_mode), q.space:index_of(tie))
    assert.are.equal(low == q.space:index_of(other_mode) and 2 or 3, r.latency_us)
    assert.matches("distance 1.000 fields", r.log)
    r = be:rebench { { t1 = 64, t2 = 128, mode = "a" } }[1]
    assert.are.equal(1, r.latency_us)
    assert.matches("distance 0.250 fields", r.log)
  end)

  it("with nearest='sample' resolves a miss among the sample_rows only; without that header it refuses", function()
    local S = htune.space
    local q = { name = "ns", space = S.new { name = "ns", params = { { "t", S.int(0, 9, 1) } } } }
    local function row(t, us) return { cfg = { t = t }, ok = true, latency_us = us } end
    local path = dir .. "/ns.replay"
    -- the sample: t = 0 and 9; then a search's row at t = 5 (fast)
    assert(replay.write(path, q, { row(0, 40), row(9, 30), row(5, 2) }, { how = "sampled", sample_rows = 2 }))
    local all = assert(replay.open(q, { path = path, nearest = true }))
    assert.are.equal(2, all:rebench { { t = 6 } }[1].latency_us)
    local sample = assert(replay.open(q, { path = path, nearest = "sample" }))
    assert.are.equal(30, sample:rebench { { t = 6 } }[1].latency_us) -- t = 9 is the nearest sample row
    assert.are.equal(2, sample:rebench { { t = 5 } }[1].latency_us) -- a recorded config is itself
    assert(replay.write(path, q, { row(0, 40), row(5, 2) }, { how = "sampled" }))
    local none, err, code = replay.open(q, { path = path, nearest = "sample" })
    assert.is_nil(none)
    assert.are.equal("EINVAL", code)
    assert.matches("needs a '# sample_rows N' header", err)
    for _, bad in ipairs { "x", "0", "-3", "2.5" } do
      assert(replay.write(path, q, { row(0, 40), row(5, 2) }, { how = "sampled", sample_rows = bad }))
      local b2, e2 = replay.open(q, { path = path, nearest = "sample" })
      assert.is_nil(b2, bad)
      assert.matches("sample_rows must be a whole number >= 1, got '" .. bad:gsub("%p", "%%%0") .. "'", e2)
    end
  end)

  it("serves a config read several times at its median, and best_known_us is that median", function()
    local S = htune.space
    local q = { name = "dup", space = S.new { name = "dup", params = { { "t", S.pow2(16, 256) } } } }
    local function row(t, us, reason) return { cfg = { t = t }, ok = us ~= nil, latency_us = us, reason = reason } end
    local path = dir .. "/dup.replay"
    -- t=16 read 30, 10, 20 (median 20); t=32 once at 25; t=64 failed twice, ok once (a failure)
    assert(replay.write(path, q, { row(16, 30), row(32, 25), row(16, 10), row(64, nil, "fault"), row(16, 20),
                                   row(64, 5), row(64, nil, "fault") }, { how = "sampled" }))
    local be = assert(replay.open(q, { path = path }))
    assert.are.equal(20, be:rebench { { t = 16 } }[1].latency_us)
    assert.are.equal(3, be.info.rows, "one row per config")
    assert.are.equal(20, be.info.best_known_us, "not 10, a reading no config is served at; not 5, a failure")
    local r = be:rebench { { t = 64 } }[1]
    assert.is_false(r.ok)
    assert.are.equal("fault", r.reason)
  end)

  it("pools configs that are one experiment (same kernel, launch and arguments); pool=false keeps them apart", function()
    local S = htune.space
    -- g changes nothing the kernel sees once it is >= 4 (as matmul's l2_grouping at or above the
    -- tile count); mode b launches twice the grid of a
    local q = { name = "tw", space = S.new { name = "tw", params = { { "g", S.pow2(1, 16) }, { "mode", S.choice { "a", "b" } } } } }
    q.compile = function(c) return { name_expr = string.format("k<%d>", math.min(c.g, 4)), defines = {}, options = {} } end
    q.launch = function(c) return { grid = { c.mode == "a" and 8 or 16, 1, 1 }, block = { 128, 1, 1 }, smem = 0 } end
    q.args = function() return { "X", { i32 = 7 } } end
    local P = require "htune.problem"
    assert.are.equal(P.experiment_key(q, { g = 4, mode = "a" }), P.experiment_key(q, { g = 16, mode = "a" }))
    assert.are_not.equal(P.experiment_key(q, { g = 4, mode = "a" }), P.experiment_key(q, { g = 4, mode = "b" }))
    assert.are_not.equal(P.experiment_key(q, { g = 2, mode = "a" }), P.experiment_key(q, { g = 4, mode = "a" }))
    assert.is_nil(P.experiment_key(toy.new(), toy.new().space:default()), "no compile/launch: no key")
    local function row(g, mode, us, reason) return { cfg = { g = g, mode = mode }, ok = us ~= nil, latency_us = us, reason = reason } end
    local path = dir .. "/tw.replay"
    -- one experiment read at 12 (g=4), 10 (g=8) and 14 (g=16): all three serve 12; g=2 and
    -- mode b are other experiments (b read 30 at g=4 and a fault at g=8: ok in half, so 30)
    assert(replay.write(path, q, { row(4, "a", 12), row(8, "a", 10), row(16, "a", 14), row(2, "a", 11),
                                   row(4, "b", 30), row(8, "b", nil, "fault") }, { how = "sampled" }))
    local be = assert(replay.open(q, { path = path }))
    for _, g in ipairs { 4, 8, 16 } do assert.are.equal(12, be:rebench { { g = g, mode = "a" } }[1].latency_us, "g=" .. g) end
    assert.are.equal(11, be:rebench { { g = 2, mode = "a" } }[1].latency_us)
    assert.are.equal(11, be.info.best_known_us, "the pooled 12, not the lone reading 10")
    assert.are.equal(3, be.info.experiments)
    local r = be:rebench { { g = 16, mode = "b" } }[1] -- unrecorded: its twins read 30 and a fault
    assert.is_true(r.ok)
    assert.are.equal(30, r.latency_us)
    assert.matches("same kernel and launch as recorded config", r.log)
    local raw = assert(replay.open(q, { path = path, pool = false }))
    assert.are.equal(10, raw:rebench { { g = 8, mode = "a" } }[1].latency_us)
    assert.are.equal(10, raw.info.best_known_us)
    assert.are.equal("miss", raw:rebench { { g = 16, mode = "b" } }[1].reason)
    assert.are.equal(6, raw.info.experiments)
  end)

  it("refuses a missing file, a foreign space and a malformed line", function()
    local be, err, code = replay.open(p, { path = dir .. "/nope.replay" })
    assert.is_nil(be)
    assert.are.equal("ENOENT", code)
    assert.matches("nope.replay", err)
    local other = toy.new()
    other.space = htune.space.new { name = "other", params = { { "x", htune.space.int(1, 4, 1) } } }
    local be2, err2, code2 = replay.open(other, { path = dir .. "/toy.replay" })
    assert.is_nil(be2)
    assert.are.equal("EMISMATCH", code2)
    assert.matches("toy_matmul", err2)
    local f = io.open(dir .. "/bad.replay", "w")
    f:write("# htune-replay 1\n12\tfast\n")
    f:close()
    local d, err3, code3 = replay.read(dir .. "/bad.replay")
    assert.is_nil(d)
    assert.are.equal("EFORMAT", code3)
    assert.matches("line 2", err3)
  end)
end)

describe("replay.read on damaged files", function()
  local p = toy.new()
  local dir = tmpdir()
  local rows = sample_rows(p, 60)
  local plain, gz = dir .. "/t.replay", dir .. "/t.replay.gz"
  assert(replay.write(plain, p, rows, { device = "test" }))
  assert(replay.write(gz, p, rows, { device = "test" }))
  local function slurp(path) local f = assert(io.open(path, "rb")) local s = f:read("a") f:close() return s end
  local function put(path, s) local f = assert(io.open(path, "wb")) f:write(s) f:close() end

  it("refuses a truncated or corrupt .gz instead of returning the rows read so far", function()
    local bytes = slurp(gz)
    put(dir .. "/cut.replay.gz", bytes:sub(1, #bytes // 2))
    local t, err, code = replay.read(dir .. "/cut.replay.gz")
    assert.is_nil(t)
    assert.are.equal("EFORMAT", code)
    assert.matches("truncated or corrupt", err)
    assert.are.equal(60, #assert(replay.read(gz)).rows)
  end)

  it("calls a .gz cut anywhere truncated, also where the cut ends inside a line", function()
    local bytes = slurp(gz)
    for n = 20, #bytes - 1, 7 do
      put(dir .. "/cut.replay.gz", bytes:sub(1, n))
      local t, err = replay.read(dir .. "/cut.replay.gz")
      assert.is_nil(t, "cut at " .. n)
      assert.truthy(err:find("truncated or corrupt", 1, true), "cut at " .. n .. ": " .. err)
    end
  end)

  it("refuses latencies that are not positive finite numbers, naming the line", function()
    for _, bad in ipairs { "-5", "0", "1e999", "--1" } do
      put(dir .. "/bad.replay", "# htune-replay 1\n3\t" .. bad .. "\n")
      local t, err, code = replay.read(dir .. "/bad.replay")
      assert.is_nil(t, bad)
      assert.are.equal("EFORMAT", code)
      assert.matches("line 2: bad latency", err)
    end
  end)

  it("fuzz: 400 mutated tables either read or fail with EFORMAT, and open never raises", function()
    local text, r = slurp(plain), htune.rng(17)
    local junk = { "\t", "\n", "#", "!", "-", ".", "e", "9", "x", "\0", " ", "# space toy 0\n" }
    local read_ok, refused = 0, 0
    for i = 1, 400 do
      local s = text
      for _ = 1, r:int(1, 6) do
        local at, what = r:int(1, #s), r:int(1, 4)
        if what == 1 then s = s:sub(1, at - 1) .. junk[r:int(1, #junk)] .. s:sub(at + 1)
        elseif what == 2 then s = s:sub(1, at - 1) .. s:sub(at + r:int(1, 20))
        elseif what == 3 then s = s:sub(1, at) .. junk[r:int(1, #junk)] .. s:sub(at + 1)
        else s = s:sub(1, at) end
      end
      local path = dir .. "/fz" .. i % 7 .. ".replay"
      put(path, s)
      local ok, t, err, code = pcall(replay.read, path)
      assert.is_true(ok, tostring(t))
      if t then
        read_ok = read_ok + 1
        for _, row in ipairs(t.rows) do
          assert.is_true(math.type(row.index) ~= nil)
          if row.latency_us then assert.is_true(row.latency_us > 0 and row.latency_us < math.huge) end
        end
        local ok2, be = pcall(replay.open, p, { path = path, nearest = true })
        assert.is_true(ok2, tostring(be))
      else
        refused = refused + 1
        assert.are.equal("EFORMAT", code, err)
      end
    end
    assert.is_true(read_ok > 20 and refused > 20, ("read %d, refused %d"):format(read_ok, refused))
  end)
end)

describe("replay.median_rows (record --repeats)", function()
  local p = toy.new()
  local sp = p.space
  local r = htune.rng(3)
  local a, b, c = sp:sample(r), sp:sample(r), sp:sample(r)
  while sp:hash(b) == sp:hash(a) do b = sp:sample(r) end
  while sp:hash(c) == sp:hash(a) or sp:hash(c) == sp:hash(b) do c = sp:sample(r) end
  local function ok(cfg, us, noise) return { cfg = cfg, ok = true, latency_us = us, stats = { noise_pct = noise } } end
  local function bad(cfg, why) return { cfg = cfg, ok = false, reason = why } end

  it("keeps each config's median and its spread across passes, in first-seen order", function()
    local rows = replay.median_rows(sp, {
      { ok(a, 3.0, 0.5), ok(b, 10, 1) },
      { ok(b, 12, 1), ok(a, 2.9, 0.4) },
      { ok(a, 3.6, 0.2), ok(b, 11, 2) },
    })
    assert.are.equal(2, #rows)
    assert.are.equal(sp:hash(a), sp:hash(rows[1].cfg))
    assert.are.equal(3.0, rows[1].latency_us)
    assert.is_true(math.abs(rows[1].stats.noise_pct - 100 * 0.7 / 3.0) < 1e-9)
    assert.are.equal(11, rows[2].latency_us)
    assert.are.equal(3, rows[2].stats.passes)
  end)

  it("averages the two middle values of an even count and keeps a lone pass's own noise", function()
    local rows = replay.median_rows(sp, { { ok(a, 2, 0.5), ok(c, 7, 1.5) }, { ok(a, 4, 0.1) } })
    assert.are.equal(3, rows[1].latency_us)
    assert.are.equal(7, rows[2].latency_us)
    assert.are.equal(1.5, rows[2].stats.noise_pct)
  end)

  it("fails a config that failed in more than half of its passes, with its first reason", function()
    local rows = replay.median_rows(sp, {
      { bad(a, "fault"), ok(b, 5, 0), bad(c, "wrong") },
      { bad(a, "timeout"), bad(b, "fault"), ok(c, 9, 0) },
      { ok(a, 1, 0), ok(b, 6, 0) },
    })
    assert.is_false(rows[1].ok)
    assert.are.equal("fault", rows[1].reason)
    assert.is_true(rows[2].ok) -- 2 of 3 ok
    assert.are.equal(5.5, rows[2].latency_us)
    assert.is_true(rows[3].ok) -- 1 of 2 ok: half counts
    assert.are.equal(9, rows[3].latency_us)
  end)
end)

-- htune.space: declarations and their errors, and property tests on the seed's space and on a
-- constrained space (validity of samples/neighbours/moves, JSON, hash, encode, dense index).
local htune = require "htune"
local S = htune.space
local sys = require "htune.sys"

local helion = dofile(sys.root .. "/lua/htune/spaces/helion_matmul.lua")

-- Fields in which a and b differ; each list element counts as a field, a perm as one.
local function fields_differing(a, b)
  local n = 0
  for k, v in pairs(a) do
    if k == "loop_orders" or k == "order" then
      if v[1] ~= b[k][1] then n = n + 1 end
    elseif type(v) == "table" then
      for i = 1, #v do if v[i] ~= b[k][i] then n = n + 1 end end
    elseif v ~= b[k] then
      n = n + 1
    end
  end
  return n
end

local function same(x, y)
  if type(x) ~= "table" then return x == y end
  for i = 1, math.max(#x, #y) do if x[i] ~= y[i] then return false end end
  return true
end

local function constrained()
  return S.new {
    name = "small",
    params = {
      { "block_m", S.pow2(16, 256), default = 64 },
      { "stages", S.int(1, 8) },
      { "pid", S.choice { "flat", "xyz" } },
      { "swizzle", S.bool() },
      { "idx", S.list(2, S.choice { "p", "t" }), default = "p" },
      { "order", S.perm(3) },
    },
    bounds = { { name = "smem", terms = { { 2, "block_m", "stages" } }, max = 1024 } },
    constraints = {
      { name = "no swizzle with xyz", fn = function(c) return not (c.swizzle and c.pid == "xyz"), "xyz cannot swizzle" end },
    },
  }
end

describe("htune.space declarations", function()
  local function err_of(spec)
    local ok, err = pcall(S.new, spec)
    assert.is_false(ok)
    return err
  end
  local function one(kind, extra)
    local p = { "x", kind }
    for k, v in pairs(extra or {}) do p[k] = v end
    return { params = { p } }
  end

  it("rejects bad declarations naming the field and value", function()
    assert.matches("param 'x': unknown kind 'float'", err_of(one { kind = "float" }))
    assert.matches("param 'x': empty range: int lo=5 > hi=1", err_of(one(S.int(5, 1))))
    assert.matches("param 'x': empty range: pow2 lo=64 > hi=16", err_of(one(S.pow2(64, 16))))
    assert.matches("param 'x': pow2 lo=24 is not a power of two", err_of(one(S.pow2(24, 64))))
    assert.matches("param 'x': int step=0 must be > 0", err_of(one(S.int(1, 4, 0))))
    assert.matches("param 'x': empty choice", err_of(one(S.choice {})))
    assert.matches("param 'x': list n=0 must be >= 1", err_of(one(S.list(0, S.bool()))))
    assert.matches("param 'x': perm n=9 must be in 1..8", err_of(one(S.perm(9))))
    assert.matches("duplicate choice value \"a\"", err_of(one(S.choice { "a", "a" })))
    assert.matches("param 'x': default: field 'x': 48 is not a power of two in 16..64",
      err_of(one(S.pow2(16, 64), { default = 48 })))
    assert.matches("duplicate param name 'x'", err_of { params = { { "x", S.bool() }, { "x", S.bool() } } })
    assert.matches("list elements must be pow2, int, choice or bool, got perm", err_of(one(S.list(2, S.perm(2)))))
    assert.matches("bound 'b': unknown parameter 'y'",
      err_of { params = { { "x", S.int(1, 2) } }, bounds = { { name = "b", terms = { { 1, "y" } }, max = 1 } } })
    assert.matches("constraint 'c' must have a function fn",
      err_of { params = { { "x", S.int(1, 2) } }, constraints = { { name = "c", fn = 3 } } })
  end)

  it("reports its parameters in declaration order", function()
    local ps = helion:params()
    assert.are.equal(12, #ps)
    assert.are.equal("block_m", ps[1].name)
    assert.are.equal("pow2", ps[1].kind)
    assert.are.same({ 16, 32, 64, 128, 256 }, ps[1].values)
    assert.are.equal(64, ps[1].default)
    assert.are.equal("list", ps[7].kind)
    assert.are.equal(8, ps[7].count)
    assert.are.same({ { 0, 1 }, { 1, 0 } }, ps[8].values)
    assert.are.equal("helion_matmul", helion:name())
    assert.is_true(S.is_space(helion))
    assert.is_false(S.is_space({}))
  end)
end)

describe("htune.space on the seed's space", function()
  it("has the seed's exact size and prints it with separators", function()
    local n, exact = helion:size()
    assert.are.equal(4128768000, n)
    assert.is_true(exact)
    local out = { buf = {} }
    function out:write(...) for _, s in ipairs { ... } do self.buf[#self.buf + 1] = s end end
    require("htune.cli.space").print(helion, out)
    assert.matches("size: 4,128,768,000\n", table.concat(out.buf))
  end)

  it("samples valid configs whose neighbours differ in exactly one field", function()
    local r = htune.rng(1)
    for _ = 1, 200 do
      local c = helion:sample(r)
      assert.is_true(helion:validate(c))
      local nb = helion:neighbors(c)
      assert.is_true(#nb >= 20)
      for _, d in ipairs(nb) do
        assert.are.equal(1, fields_differing(c, d))
        assert.is_true(helion:validate(d))
      end
    end
  end)

  it("round-trips JSON and hashes stably", function()
    local r = htune.rng(2)
    for _ = 1, 300 do
      local c = helion:sample(r)
      local j = helion:to_json(c)
      local back = assert(helion:from_json(j))
      assert.are.same(c, back)
      assert.are.equal(helion:hash(c), helion:hash(back))
      assert.are.equal(sys.hash(j), helion:hash(c))
    end
    -- pinned: the canonical JSON and FNV-1a 64 of the all-first-values config
    local first = helion:at(0)
    assert.are.equal('{"block_m":16,"block_n":16,"block_k":16,"num_warps":1,"num_stages":1,"pid_type":"flat",'
      .. '"indexing":["pointer","pointer","pointer"],"loop_orders":[0,1],"l2_groupings":1,'
      .. '"load_eviction_policies":["",""],"range_unroll_factors":[0,0],"range_num_stages":[0,0]}', helion:to_json(first))
    assert.are.equal("d32f1c7ae11d1441", helion:hash(first))
  end)

  it("mutates and crosses over into valid configs", function()
    local r = htune.rng(3)
    for _ = 1, 200 do
      local a, b = helion:sample(r), helion:sample(r)
      local m = helion:mutate(a, r)
      assert.is_true(helion:validate(m))
      assert.is_true(fields_differing(a, m) >= 1)
      local m3 = helion:mutate(a, r, 3)
      assert.is_true(helion:validate(m3))
      local x = helion:crossover(a, b, r)
      assert.is_true(helion:validate(x))
      for k, v in pairs(x) do
        assert.is_true(same(v, a[k]) or same(v, b[k]))
      end
    end
  end)

  it("encodes into [0,1] with one name per column", function()
    local names = helion:encode_names()
    local r = htune.rng(4)
    for _ = 1, 100 do
      local x = helion:encode(helion:sample(r))
      assert.are.equal(#names, #x)
      for _, v in ipairs(x) do assert.is_true(v >= 0 and v <= 1) end
    end
    assert.are.equal("pid_type=flat", names[6])
  end)

  it("round-trips dense indices", function()
    local r = htune.rng(5)
    for _ = 1, 300 do
      local c = helion:sample(r)
      local i = helion:index_of(c)
      assert.is_true(i >= 0 and i < 4128768000)
      assert.are.same(c, helion:at(i))
    end
    assert.has_error(function() helion:at(4128768000) end)
    assert.has_error(function() helion:at(-1) end)
  end)

  it("validates with messages naming the field and value", function()
    local c = helion:default()
    assert.is_true(helion:validate(c))
    c.block_m = 48
    local ok, why = helion:validate(c)
    assert.is_false(ok)
    assert.are.equal("field 'block_m': 48 is not a power of two in 16..256", why)
    c = helion:default(); c.indexing = { "pointer", "pointer" }
    assert.matches("field 'indexing': expected 3 elements, got 2", select(2, helion:validate(c)))
    c = helion:default(); c.loop_orders = { 0, 0 }
    assert.matches("field 'loop_orders': not a permutation", select(2, helion:validate(c)))
    c = helion:default(); c.extra = 1
    assert.matches("unknown field 'extra'", select(2, helion:validate(c)))
    c = helion:default(); c.pid_type = nil
    assert.matches("missing field 'pid_type'", select(2, helion:validate(c)))
    assert.has_error(function() helion:hash(c) end, "sp:hash: missing field 'pid_type'")
  end)

  it("rejects bad JSON without raising (bounded fuzz)", function()
    local r = htune.rng(6)
    local j = helion:to_json(helion:at(0))
    for _, bad in ipairs { "", "null", "{}", "[", '{"block_m":16}', (j:gsub('"flat"', '"diag"')), j .. "x",
      (j:gsub("16", "17", 1)), (j:gsub('"indexing"', '"indexin"')) } do
      local c, why = helion:from_json(bad)
      assert.is_nil(c)
      assert.are.equal("string", type(why))
    end
    assert.matches("unknown field", select(2, helion:from_json(j:gsub('"indexing"', '"indexin"'))))
    for _ = 1, 2000 do
      local s = j
      for _ = 1, r:int(1, 3) do
        local at = r:int(1, #s)
        s = s:sub(1, at - 1) .. string.char(r:int(0, 255)) .. s:sub(at + 1)
      end
      local c, why = helion:from_json(s)
      assert.is_true((c ~= nil and helion:validate(c)) or type(why) == "string")
    end
  end)
end)

describe("htune.space validate on garbage tables", function()
  it("never raises and always gives a reason (bounded fuzz)", function()
    local r = htune.rng(11)
    local junk = { 0, -1, 3.5, 0 / 0, math.huge, "", "flat", "x", true, false, {}, { "pointer" },
      { 0, 1 }, { 1, 1 }, print }
    local names = {}
    for _, p in ipairs(helion:params()) do names[#names + 1] = p.name end
    local accepted = 0
    for _ = 1, 3000 do
      local c = helion:sample(r)
      for _ = 1, r:int(1, 3) do
        local k = r:int(1, 10) == 1 and "bogus" or r:choice(names)
        if r:int(1, 8) == 1 then c[k] = nil else c[k] = r:choice(junk) end
      end
      if r:int(1, 20) == 1 then c[1] = true end
      local ok, why = helion:validate(c)
      assert.is_true(ok == true or (ok == false and type(why) == "string" and #why > 0))
      if ok then accepted = accepted + 1; assert.are.same(c, helion:from_json(helion:to_json(c))) end
    end
    assert.is_true(accepted > 0)
    assert.matches("unknown field of type number", select(2, helion:validate(setmetatable({ [1] = 1 }, { __index = helion:default() }))))
    assert.is_true(helion:validate(setmetatable({}, { __index = helion:default() })))
  end)
end)

describe("htune.space with bounds and constraints", function()
  it("respects constraints in sample, neighbours and mutate", function()
    local sp, r = constrained(), htune.rng(7)
    local function ok(c) return not (c.swizzle and c.pid == "xyz") and 2 * c.block_m * c.stages <= 1024 end
    for _ = 1, 300 do
      local c = sp:sample(r)
      assert.is_true(ok(c))
      for _, d in ipairs(sp:neighbors(c)) do assert.is_true(ok(d)) end
      assert.is_true(ok(sp:mutate(c, r)))
      assert.is_true(ok(sp:crossover(c, sp:sample(r), r)))
    end
    local c = sp:default()
    c.pid, c.swizzle = "xyz", true
    local valid, why = sp:validate(c)
    assert.is_false(valid)
    assert.are.equal("constraint 'no swizzle with xyz': xyz cannot swizzle", why)
    c.pid, c.block_m, c.stages = "flat", 256, 8
    assert.matches("bound 'smem': 4096 is above its max 1024", select(2, sp:validate(c)))
    assert.is_nil((sp:from_json(sp:to_json(c))))
    assert.are.same({ "p", "p" }, sp:default().idx)
  end)

  it("counts exactly by enumeration when small, and estimates when large", function()
    local sp = constrained()
    local n, exact = sp:size()
    local count = 0
    for i = 0, 5 * 8 * 2 * 2 * 4 * 6 - 1 do
      if sp:validate(sp:at(i)) then count = count + 1 end
    end
    assert.is_true(exact)
    assert.are.equal(count, n)
    local big = S.new {
      params = { { "a", S.int(1, 2000) }, { "b", S.int(1, 2000) } },
      constraints = { { name = "half", fn = function(c) return c.a <= 1000 end } },
    }
    local est, ex = big:size()
    assert.is_false(ex)
    assert.is_true(math.abs(est - 2000000) < 60000)
  end)

  it("raises clear errors for constraints that fail or return non-booleans", function()
    local bad = S.new { params = { { "x", S.int(1, 3) } }, constraints = { { name = "boom", fn = function() error("kaput") end } } }
    assert.has_error(function() bad:sample(htune.rng(1)) end)
    local ok, err = pcall(bad.sample, bad, htune.rng(1))
    assert.is_false(ok)
    assert.matches("constraint 'boom' raised an error: .*kaput", err)
    local num = S.new { params = { { "x", S.int(1, 3) } }, constraints = { { name = "num", fn = function() return 1 end } } }
    ok, err = pcall(num.validate, num, { x = 1 })
    assert.matches("constraint 'num' returned a number", err)
  end)

  it("says so when the space seems empty", function()
    local empty = S.new { params = { { "x", S.int(1, 3) } }, max_tries = 100,
      constraints = { { name = "never", fn = function() return false end } } }
    local ok, err = pcall(empty.sample, empty, htune.rng(1))
    assert.is_false(ok)
    assert.matches("seems empty.*constraint 'never'", err)
    assert.are.same({ 0, true }, { empty:size() }) -- 3 configs: counted exactly, all rejected
  end)

  it("names an impossible bound, and survives a constraint that closes its space", function()
    local sp = S.new { params = { { "x", S.int(1, 3) } }, max_tries = 50,
      bounds = { { name = "too small", terms = { { 1, "x" } }, max = 0 } } }
    assert.matches("seems empty.*bound 'too small'", select(2, pcall(sp.sample, sp, htune.rng(1))))
    assert.are.same({ 0, true }, { sp:size() })
    local victim
    victim = S.new { params = { { "x", S.int(1, 3) } },
      constraints = { { name = "closer", fn = function() victim:close() return true end } } }
    assert.matches("closed by constraint 'closer'", select(2, pcall(victim.neighbors, victim, { x = 2 })))
  end)

  it("closes and refuses use after close", function()
    local sp = constrained()
    sp:close()
    sp:close()
    assert.has_error(function() sp:size() end, "htune.Space is closed")
    assert.are.equal("htune.Space(closed)", tostring(sp))
  end)
end)

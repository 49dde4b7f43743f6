-- htune.rng: callable module, repeatable streams, ranges, shuffle/choice, state round trip.
local htune = require "htune"
local rng = require "htune.rng"

describe("htune.rng", function()
  it("is callable as htune.rng(seed) and repeatable", function()
    local a, b = htune.rng(42), rng.new(42)
    for _ = 1, 10 do assert.are.equal(a:next(), b:next()) end
    -- xoshiro256** after splitmix64(42), from an independent implementation
    assert.are.equal(0x15780b2e0c2ec716, htune.rng(42):next())
    assert.are_not.equal(htune.rng(1):next(), htune.rng(2):next())
    assert.are.equal(htune.rng("run-a"):next(), htune.rng("run-a"):next())
  end)

  it("draws integers in [lo, hi] covering the range", function()
    local r, seen = htune.rng(3), {}
    for _ = 1, 2000 do
      local v = r:int(-2, 2)
      assert.is_true(math.type(v) == "integer" and v >= -2 and v <= 2)
      seen[v] = true
    end
    for v = -2, 2 do assert.is_true(seen[v]) end
    assert.are.equal(7, r:int(7, 7))
    assert.has_error(function() r:int(3, 1) end, "rng:int: empty range: lo=3 > hi=1")
  end)

  it("draws floats in [0,1) and normals", function()
    local r, sum, sq = htune.rng(8), 0, 0
    for _ = 1, 20000 do
      local f = r:float()
      assert.is_true(f >= 0 and f < 1)
      local z = r:normal()
      sum, sq = sum + z, sq + z * z
    end
    assert.is_true(math.abs(sum / 20000) < 0.05)
    assert.is_true(math.abs(sq / 20000 - 1) < 0.06)
    assert.is_true(math.abs(r:normal(100, 0.001) - 100) < 0.1)
  end)

  it("shuffles in place into a permutation and chooses members", function()
    local r, t = htune.rng(4), {}
    for i = 1, 20 do t[i] = i end
    assert.are.equal(t, r:shuffle(t))
    local seen, moved = {}, 0
    for i, v in ipairs(t) do seen[v] = true; if v ~= i then moved = moved + 1 end end
    for i = 1, 20 do assert.is_true(seen[i]) end
    assert.is_true(moved > 5)
    local c = r:choice { "a", "b", "c" }
    assert.is_truthy(({ a = 1, b = 1, c = 1 })[c])
    assert.has_error(function() r:choice {} end, "rng:choice: the table is empty")
  end)

  it("clones and restores state", function()
    local r = htune.rng(9)
    r:next()
    local c, s = r:clone(), r:state()
    assert.are.equal(64, #s)
    local x = r:next()
    assert.are.equal(x, c:next())
    assert.are.equal(x, rng.from_state(s):next())
    local ok, err = rng.from_state("zz")
    assert.is_nil(ok)
    assert.matches("64 hex digits", err)
    assert.is_nil(rng.from_state(string.rep("0", 64)))
    assert.matches("^htune.Rng", tostring(r))
  end)

  it("rejects bad seeds and non-rng arguments", function()
    assert.has_error(function() htune.rng(1.5) end, "rng seed must be an integer, got 1.5")
    assert.are.equal(htune.rng(3):next(), htune.rng(3.0):next())
    assert.has_error(function() htune.rng({}) end)
    local S = require "htune.space"
    local sp = S.new { params = { { "x", S.bool() } } }
    assert.has_error(function() sp:sample({}) end)
  end)
end)

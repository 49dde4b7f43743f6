-- htune.sys: clock, hashing, budget hook, directory helpers.
local sys = require "htune.sys"

describe("htune.sys", function()
  it("has a monotonic clock", function()
    local a = sys.now_ms()
    sys.sleep_ms(2)
    assert.is_true(sys.now_ms() - a >= 1.5)
  end)

  it("hashes stably (FNV-1a 64)", function()
    assert.are.equal("cbf29ce484222325", sys.hash(""))
    assert.are.equal("af63dc4c8601ec8c", sys.hash("a"))
  end)

  it("stops a runaway function with a budget error naming it", function()
    local ok, err = pcall(sys.with_budget, 10000, "strategy spin", function() while true do end end)
    assert.is_false(ok)
    assert.matches("strategy spin exceeded its budget", err)
  end)

  it("returns results within the budget", function()
    local a, b = sys.with_budget(100000, "x", function(p, q) return p + q, "ok" end, 2, 3)
    assert.are.equal(5, a)
    assert.are.equal("ok", b)
  end)

  it("lists a directory sorted and reports a missing one", function()
    local names = sys.listdir(sys.root .. "/lua/htune/cli")
    assert.is_truthy(names)
    local ok, err = sys.listdir("/nonexistent/dir")
    assert.is_nil(ok)
    assert.matches("nonexistent", err)
  end)
end)

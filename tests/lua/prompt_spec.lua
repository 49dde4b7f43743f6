-- htune.prompt: sections, templates and the machine-readable space block.
local prompt = require "htune.prompt"
local sys = require "htune.sys"

local problem = require("htune.problems.toy").new()
problem.describe = { block_m = "rows of C per thread block" }
problem.source = "__global__ void k() {}"
local sp = problem.space

local function history()
  local rng, h = require("htune.rng")(5), {}
  for i = 1, 20 do
    local c = sp:sample(rng)
    h[i] = { cfg = c, hash = sp:hash(c), ok = i % 5 ~= 0, latency_us = 100 - i,
             reason = i % 5 == 0 and "compile" or nil, log = i % 5 == 0 and "ptxas: too many registers" or nil }
  end
  return h
end

describe("htune.prompt", function()
  it("puts source, meanings, legal values, device, size, best, diverse, failures, rejects and the request in", function()
    local msgs = prompt.build(problem, { history = history(), n = 6,
      device = { name = "H100", sm_count = 132, l2_bytes = 52428800, bandwidth_gbs = 3350, tensor_tflops = 989 },
      rejected = { { text = '{"block_m":48}', reason = "field 'block_m': 48 is not a power of two" } } })
    assert.are.equal("system", msgs[1].role)
    local u = msgs[2].content
    for _, want in ipairs { "__global__ void k", "block_m: rows of C per thread block", "one of 16, 32, 64, 128, 256",
        "streaming multiprocessors: 132", "tensor%-core peak %(TFLOP/s%): 989", "shape K=1024 M=1024 N=1024",
        "81.000 us", "ptxas: too many registers", "48 is not a power of two", "Propose 6 NEW", "htune%-space count=6",
        "param pid_type \"flat\" \"xyz\" \"persistent\"" } do
      assert.matches(want, u)
    end
    local best = u:match("## Fastest configs.-\n(.-)\n\n")
    local _, nbest = best:gsub("\n", "")
    assert.are.equal(4, nbest) -- 5 lines
  end)

  it("lists the best configs in the block in parameter order", function()
    local cfg = sp:default()
    local b = prompt.space_block(sp, 3, { cfg })
    assert.matches("best 64 64 32 4 2 \"flat\" false", b)
    assert.matches("^htune%-space count=3\n", b)
    assert.matches("end htune%-space$", b)
  end)

  it("chooses diverse configs far from the best", function()
    local h = history()
    local ranked = {}
    for _, r in ipairs(h) do if r.ok then ranked[#ranked + 1] = r end end
    table.sort(ranked, function(a, b) return a.latency_us < b.latency_us end)
    local div = prompt.diverse(sp, ranked, 3, 4)
    assert.are.equal(4, #div)
    local seen = {}
    for _, r in ipairs(div) do
      assert.is_nil(seen[r.hash])
      seen[r.hash] = true
      for i = 1, 3 do assert.are_not.equal(ranked[i].hash, r.hash) end
    end
  end)

  it("takes a template by name, by path or as a table, and raises on a bad one", function()
    local terse = prompt.build(problem, { template = "terse", n = 2 })
    assert.is_nil(terse[2].content:find("__global__", 1, true))
    local path = os.tmpname() .. ".lua"
    local f = assert(io.open(path, "w"))
    f:write('return { user = function(ctx) return "N=" .. ctx.n .. " " .. ctx.names[1] end }')
    f:close()
    local mine = prompt.build(problem, { template = path, n = 3 })
    os.remove(path)
    assert.are.equal(1, #mine)
    assert.are.equal("N=3 block_m", mine[1].content)
    assert.has_error(function() prompt.build(problem, { template = { system = "x" } }) end)
  end)

  it("renders with nothing measured yet, and `htune prompt render` prints it", function()
    local msgs = prompt.build(problem, {})
    assert.matches("nothing measured yet", msgs[2].content)
    assert.matches("=== user ===", prompt.render(msgs))
    local exe = io.popen("readlink /proc/" .. sys.pid .. "/exe"):read("l")
    local p = io.popen(string.format("%q prompt render toy --samples 6 --n 3 2>&1", exe))
    local out = p:read("a")
    p:close()
    assert.matches("Propose 3 NEW", out)
    assert.matches("best %d+ %d+", out)
  end)
  it("renders a backend's device specs: the live device query (fake driver), replay header, synthetic", function()
    local devs = assert(require("htune.cuda").devices { fake = true })
    local specs = require("htune.backends.live").specs_of(devs[1])
    local text = prompt.build(problem, { device = specs })[2].content
    assert.matches("GPU: htune fake GPU", text)
    assert.matches("streaming multiprocessors: " .. devs[1].sms, text)
    assert.matches("L2 cache %(bytes%): " .. devs[1].l2_bytes, text)
    assert.matches("tensor%-core peak %(TFLOP/s%): %d+", text) -- cc 9.0: derived from SMs x clock
    local rs = require("htune.backends.replay").specs_of { device = "NVIDIA A100", sm_count = "108", cc = "8.0" }
    assert.are.equal(108, rs.sm_count)
    assert.matches("streaming multiprocessors: 108", prompt.device_text(rs))
    local b = assert(require("htune.backends.synthetic").open(problem, {}))
    assert.matches("synthetic", prompt.device_text(b.info.specs))
  end)
end)

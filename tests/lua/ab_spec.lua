-- htune.ab: parsing of variants and configs, and an A/B run on the synthetic backend (which
-- times a config the same whatever the template's macros, so every ratio must be 1).
local ab = require "htune.ab"
local htune = require "htune"

describe("htune.ab parsing", function()
  it("splits a variant into macros and config parameters", function()
    local v = assert(ab.parse_variant("cl2-nomc:cluster=2,WG_CL_NOMC=1,loads=tma"))
    assert.are.equal("cl2-nomc", v[1])
    assert.are.same({ WG_CL_NOMC = 1 }, v[2])
    assert.are.same({ cluster = 2, loads = "tma" }, v[3])
    assert.are.same({ stream_k = true, clusters = false }, assert(ab.parse_variant("sk:stream_k=true,clusters=false"))[3])
  end)

  it("names the bad text", function()
    local v, err = ab.parse_variant("MATMUL_EPI_SMEM=1")
    assert.is_nil(v)
    assert.truthy(err:find("LABEL:NAME=V", 1, true) and err:find("MATMUL_EPI_SMEM=1", 1, true))
    v, err = ab.parse_variant("epi:nothing")
    assert.is_nil(v)
    assert.truthy(err:find("'epi' sets nothing", 1, true))
    local c
    c, err = ab.parse_config("block_m")
    assert.is_nil(c)
    assert.truthy(err:find("'block_m'", 1, true))
  end)

  it("reads numbers as numbers in configs", function()
    assert.are.same({ block_m = 128, pid_type = "flat" }, ab.parse_config("block_m=128,pid_type=flat"))
  end)

  it("reads colon-separated values as lists, empty items kept", function()
    assert.are.same({ loop_order = { 1, 0 }, load_eviction_policies = { "first", "" } },
                    ab.parse_config("loop_order=1:0,load_eviction_policies=first:"))
    assert.are.same({ load_eviction_policies = { "", "last" } }, ab.parse_config("load_eviction_policies=:last"))
    local p = htune.problem("matmul", { M = 256, N = 256, K = 256 })
    local c = p.space:default()
    for k, v in pairs(ab.parse_config("loop_order=1:0,load_eviction_policies=first:")) do c[k] = v end
    assert.is_true(p.space:validate(c))
  end)
end)

describe("htune.ab.run", function()
  local configs = { { block_m = 128, block_n = 128, block_k = 32, num_warps = 4, num_stages = 3 },
                    { block_m = 64, block_n = 64, block_k = 32, num_warps = 4, num_stages = 2 } }

  it("times every config under every variant, with ratio 1 where the backend ignores macros", function()
    local rows, variants = ab.run { problem = "matmul", shape = { M = 512, N = 512, K = 512 }, backend = "synthetic",
                                    configs = configs, variants = { assert(ab.parse_variant("epi:MATMUL_EPI_SMEM=1")) },
                                    rounds = 3 }
    assert.are.equal(2, #variants)
    assert.are.equal(2, #rows)
    for _, row in ipairs(rows) do
      assert.are.equal(3, #row[1].lat)
      assert.are.equal(3, #row[2].lat)
      assert.are.equal(row[1].name, row[2].name)
    end
    local text = ab.format(rows, variants)
    local n = 0
    for line in text:gmatch("[^\n]+") do
      n = n + 1
      assert.truthy(line:find("(1.000)", 1, true), line)
    end
    assert.are.equal(2, n)
  end)

  it("sets a lower-case variant parameter on every config and shows '-' where a launch does not fit", function()
    local rows, variants = ab.run { problem = "matmul", shape = { M = 512, N = 512, K = 512 }, backend = "synthetic",
                                    configs = configs, variants = { assert(ab.parse_variant("s3:num_stages=3")) },
                                    rounds = 1, smem_max = 40000 }
    assert.are.equal(3, rows[2][2].cfg.num_stages)
    assert.is_false(rows[1][1].fits)       -- 128x128x32 in 3 stages: 56 KB
    assert.is_true(rows[2][1].fits)        -- 64x64x32 in 2 stages: 19 KB
    local first, second = ab.format(rows, variants):match("^([^\n]*)\n([^\n]*)$")
    assert.truthy(first:match("base %s+%-  s3 %s+%-$"), first)
    assert.truthy(second:match("base %s+[%d.]+  s3 %s+[%d.]+ %(%d%.%d%d%d%)$"), second)
  end)

  it("passes a lower-case name that is not a space parameter as a problem option", function()
    local rows = ab.run { problem = "matmul", shape = { M = 512, N = 512, K = 512 }, backend = "synthetic",
                          configs = { configs[2] }, variants = { assert(ab.parse_variant("compiled:tile_order=compiled")) },
                          rounds = 1 }
    assert.is_nil(rows[1][2].cfg.tile_order)
    assert.matches("^matmul_kernel<64,64,32,2,2,2,0,0,0,", rows[1][1].name)   -- runtime order: GROUP 0
    assert.matches("^matmul_kernel<64,64,32,2,2,2,0,8,0,", rows[1][2].name)   -- compiled in: GROUP 8
  end)

  it("applies opts to the base and every variant, and cluster=2 turns on matmul's clusters", function()
    local c = { block_m = 128, block_n = 128, block_k = 64, num_warps = 4, num_stages = 3, pid_type = "persistent_blocked" }
    local rows = ab.run { problem = "matmul", shape = { M = 512, N = 512, K = 512 }, backend = "synthetic",
                          opts = { loads = "tma_ws" }, configs = { c }, rounds = 1,
                          variants = { assert(ab.parse_variant("cl2:cluster=2")) } }
    assert.are.equal("matmul_tma_kernel<128,128,64,2,2,3,2,0,0,1>", rows[1][1].name)
    assert.are.equal("matmul_tma_cl2_kernel<128,128,64,2,2,3,2,0,0>", rows[1][2].name)
    assert.are.equal(2, rows[1][2].cfg.cluster)
  end)

  it("checks results in round 1 only, and never with no_check", function()
    local htune = require "htune"
    local real, seen = htune.evaluate, {}
    htune.evaluate = function(p, list, opts) seen[#seen + 1] = opts.check; return real(p, list, opts) end
    local ok, err = pcall(function()
      for _, nc in ipairs { false, true } do
        ab.run { problem = "matmul", shape = { M = 512, N = 512, K = 512 }, backend = "synthetic", no_check = nc,
                 configs = { configs[2] }, variants = { assert(ab.parse_variant("nl:MATMUL_WS_NOLOAD=1")) }, rounds = 2 }
      end
    end)
    htune.evaluate = real
    assert(ok, err)
    -- two variants x two rounds per run: checked in round 1 only, then none with no_check
    assert.are.same({ true, true, false, false, false, false, false, false }, seen)
  end)

  it("rejects a config the space calls invalid, naming it", function()
    assert.has_error(function()
      ab.run { problem = "matmul", backend = "synthetic", configs = { { num_warps = 3 } }, variants = {} }
    end)
  end)

  it("times a config outside the constraints with force, and only then", function()
    -- 128x256 tiles on 16 warps: the register estimate (152 a thread) is over the 128 cap
    local over = { block_m = 128, block_n = 256, block_k = 32, num_warps = 16, num_stages = 2 }
    assert.has_error(function()
      ab.run { problem = "matmul", backend = "synthetic", configs = { over }, variants = {} }
    end, "config 1 is not valid for matmul: constraint 'registers': about 152 registers per thread, over 128")
    local rows = ab.run { problem = "matmul", shape = { M = 512, N = 512, K = 512 }, backend = "synthetic",
                          configs = { over }, variants = { assert(ab.parse_variant("x:MATMUL_XSTAGE=0")) },
                          rounds = 1, force = true }
    assert.are.equal(1, #rows[1][1].lat)
    assert.are.equal(1, #rows[1][2].lat)
  end)
end)

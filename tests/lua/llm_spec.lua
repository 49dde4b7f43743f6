-- htune.llm (the C client's binding) and the llm/hybrid strategies, end to end against the
-- mock server (tests/mock_llm) on 127.0.0.1 with short latencies; bounded in time.
local htune = require "htune"
local llm = require "htune.llm"
local sys = require "htune.sys"
local mock_mod = dofile(sys.root .. "/tests/mock_llm/mock.lua")

local SPACE_BLOCK = "htune-space count=2\nparam a 1 2 4\nparam s \"x\" \"y\"\nend htune-space"

local function msgs(tag) return { { role = "system", content = "be brief" }, { role = "user", content = tag .. "\n" .. SPACE_BLOCK } } end

describe("htune.llm", function()
  local m
  setup(function() m = assert(mock_mod.start { latency_ms = 30, idle_exit_s = 5, lifetime_s = 60 }) end)
  teardown(function() if m then m:stop() end end)

  it("raises on misuse naming the field", function()
    assert.has_error(function() llm.client { base_url = m.url } end, "llm.client: 'model' is required")
    assert.has_error(function() llm.client { base_url = m.url, model = "x", protocol = "grpc" } end,
      "llm.client: 'protocol' must be \"openai\" or \"anthropic\", got \"grpc\"")
    assert.has_error(function() llm.client { base_url = m.url, model = "x", max_concurrency = 0 } end)
    local c = llm.client { base_url = m.url, model = "x" }
    assert.has_error(function() c:request { messages = { { role = "user" } } } end,
      "request: messages[1].content must be a string, got nil")
  end)

  it("returns nil, msg, ENOKEY for an unset key variable, and never shows a key", function()
    local c, err, code = llm.client { base_url = m.url, model = "x", api_key_env = "HTUNE_NO_SUCH_KEY_VAR" }
    assert.is_nil(c)
    assert.are.equal("ENOKEY", code)
    assert.matches("HTUNE_NO_SUCH_KEY_VAR", err)
    local key = os.getenv("HOME")
    local k = llm.client { base_url = "http://127.0.0.1:1/v1", model = "x", api_key_env = "HOME", retries = 0 }
    assert.matches("key from %$HOME", tostring(k))
    assert.is_nil(tostring(k):find(key, 1, true))
    local r = k:request { messages = msgs("refused") }:wait(3000)
    assert.is_false(r.ok)
    assert.are.equal("ENET", r.code)
    assert.is_nil(r.error:find(key, 1, true))
  end)

  it("completes a request with text, usage, latency and attempts (openai and anthropic)", function()
    for _, proto in ipairs { "openai", "anthropic" } do
      local c = llm.client { base_url = m.url, model = "mock", protocol = proto }
      local h = c:request { messages = msgs("hello " .. proto), max_tokens = 100, temperature = 0 }
      local r = h:wait(3000)
      assert.is_true(r.ok, tostring(r.error))
      assert.matches("```json", r.text)
      assert.is_true(r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0)
      assert.is_true(r.latency_ms >= 25)
      assert.are.equal(1, r.attempts)
      assert.is_true(h:ready())
      assert.are.equal(r, h:result())
    end
  end)

  it("keeps max_concurrency transfers in flight and wait_any returns the first finished", function()
    local before = m:stats().max_concurrent
    local c = llm.client { base_url = m.url, model = "mock", max_concurrency = 3 }
    local hs = {}
    for i = 1, 6 do hs[i] = c:request { messages = msgs("conc " .. i) } end
    local i, r = llm.wait_any(hs, 3000)
    assert.is_true(i >= 1 and i <= 3 and r.ok)
    for _, h in ipairs(hs) do assert.is_true(h:wait(3000).ok) end
    assert.are.equal(3, c:stats().max_running)
    assert.is_true(m:stats().max_concurrent >= 3 or before >= 3)
    local t0 = sys.now_ms()
    local j, why = llm.wait_any({ c:request { messages = msgs("to") } }, 5)
    assert.is_nil(j)
    assert.are.equal("timeout", why)
    assert.is_true(sys.now_ms() - t0 < 25)
  end)

  it("wait_any with timeout 0 reports a transfer that finished since the last poll", function()
    local c = llm.client { base_url = m.url, model = "mock" }
    local h = c:request { messages = msgs("nonblocking") }
    for _ = 1, 5 do assert.is_false(h:ready()) sys.sleep_ms(2) end -- connects and sends the request
    sys.sleep_ms(250) -- the mock (30 ms) has replied; curl has not read it yet
    local i, r = llm.wait_any({ h }, 0)
    assert.are.equal(1, i, "wait_any(handles, 0) did not poll: " .. tostring(r))
    assert.is_true(r.ok, tostring(r.error))
    local t0 = sys.now_ms()
    local j, why = llm.wait_any({ c:request { messages = msgs("nonblocking 2") } }, 0)
    assert.is_nil(j)
    assert.are.equal("timeout", why)
    assert.is_true(sys.now_ms() - t0 < 20)
  end)

  it("cancels, reports HTTP and parse failures as data, retries a 500", function()
    local c = llm.client { base_url = m.url, model = "mock", retries = 1, backoff_ms = 10 }
    local h = c:request { messages = msgs("cancel me") }
    h:cancel()
    assert.are.equal("ECANCELED", h:wait(100).code)
    local r = c:request { messages = msgs("bad MOCK_FAULTS=badjson") }:wait(3000)
    assert.are.equal("EPARSE", r.code)
    r = c:request { messages = msgs("flaky MOCK_FAULTS=500") }:wait(3000)
    assert.is_true(r.ok)
    assert.are.equal(2, r.attempts)
    r = c:request { messages = msgs("down MOCK_FAULTS=500,500") }:wait(3000)
    assert.are.equal("EHTTP", r.code)
    assert.matches("HTTP 500", r.error)
  end)

  it("serves a repeated request from the disk cache, which holds no key", function()
    local dir = os.tmpname()
    os.remove(dir)
    local c = llm.client { base_url = m.url, model = "mock", cache_dir = dir, api_key_env = "HOME" }
    local a = c:request { messages = msgs("cache") }:wait(3000)
    local b = c:request { messages = msgs("cache") }:wait(3000)
    assert.is_false(a.cached)
    assert.is_true(b.cached and b.ok)
    assert.are.equal(a.text, b.text)
    assert.are.equal(1, c:stats().cache_hits)
    local names = sys.listdir(dir)
    assert.are.equal(1, #names)
    local f = io.open(dir .. "/" .. names[1])
    local body = f:read("a")
    f:close()
    assert.is_nil(body:find(os.getenv("HOME"), 1, true))
    os.remove(dir .. "/" .. names[1])
    os.remove(dir)
  end)
end)

describe("mock_llm's scripted model", function()
  it("answers distinct configs, mostly steps of the fastest shown, ordered numbers by one value", function()
    local m = assert(mock_mod.start { latency_ms = 1, idle_exit_s = 5, lifetime_s = 30, seed = 7 })
    local block = "htune-space count=40\nparam a 1 2 4 8 16 32\nparam b 1 2 4 8 16 32\nparam s \"x\" \"y\" \"z\"\n"
      .. "best 4 8 \"x\"\nbest 32 1 \"z\"\nend htune-space"
    local c = llm.client { base_url = m.url, model = "mock" }
    local r = c:request { messages = { { role = "user", content = block } } }:wait(3000)
    m:stop()
    assert.is_true(r.ok, tostring(r.error))
    local cfgs, seen, near_best, steps, far = {}, {}, 0, 0, 0
    for line in r.text:gmatch("{[^}]*}") do cfgs[#cfgs + 1] = require("cjson").decode(line) end
    assert.are.equal(40, #cfgs)
    local idx = { [1] = 1, [2] = 2, [4] = 3, [8] = 4, [16] = 5, [32] = 6 }
    for _, cfg in ipairs(cfgs) do
      local key = cfg.a .. "/" .. cfg.b .. "/" .. cfg.s
      assert.is_nil(seen[key], "repeated " .. key)
      seen[key] = true
      local da, db = math.abs(idx[cfg.a] - 3), math.abs(idx[cfg.b] - 4)
      local changed = (da > 0 and 1 or 0) + (db > 0 and 1 or 0) + (cfg.s ~= "x" and 1 or 0)
      if changed <= 2 then near_best = near_best + 1 end
      if changed == 1 and (da > 0 or db > 0) then steps = steps + (da + db == 1 and 1 or 0); far = far + (da + db > 1 and 1 or 0) end
    end
    -- three in four are variations, half of them of the fastest: well over a third near it
    assert.is_true(near_best >= 16, near_best .. " of 40 within two fields of the fastest")
    -- one ordered field changed from the fastest: a step, unless a uniform draw happened to land there
    assert.is_true(steps > 2 * far, steps .. " one-step changes, " .. far .. " farther")
  end)
end)

describe("llm and hybrid strategies", function()
  local m
  setup(function() m = assert(mock_mod.start { latency_ms = 150, idle_exit_s = 30, lifetime_s = 240, fault_rate = 0.15 }) end)
  teardown(function() if m then m:stop() end end)

  local function run(strategy, extra)
    local problem = require("htune.problems.toy").new()
    local opts = { client = llm.client { base_url = m.url, model = "mock", max_concurrency = 3, retries = 2, backoff_ms = 20 } }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return htune.tune { problem = problem, strategy = strategy, backend = "synthetic", quiet = true, seed = 3,
      backend_options = { latency_ms = 8 }, budget = { evals = 60 }, strategy_options = opts }
  end

  it("llm: measures LLM configs with several prompts in flight and never waits for them", function()
    local pat = htune.tune { problem = require("htune.problems.toy").new(), strategy = "pattern", backend = "synthetic",
      quiet = true, seed = 3, backend_options = { latency_ms = 8 }, budget = { evals = 60 } }
    local res = run("llm", { batch = 4 })
    assert.are.equal("evals", res.stopped_because, res.message)
    assert.are.equal(60, res.evals)
    local rep = res.report
    assert.is_true(rep.calls >= 2)
    assert.is_true(rep.llm_evals > 0, "no LLM config was measured")
    assert.is_true(rep.local_moves > 0)
    assert.is_true(rep.client.max_running >= 2, "prompts were not in flight together")
    assert.is_true(res.wall_s <= 1.5 * pat.wall_s + 0.2, string.format("llm %.2f s vs pattern %.2f s", res.wall_s, pat.wall_s))
    assert.are.equal(3, #rep.diversity)
  end)

  it("hybrid own_population=false: seeds from the LLM, refines with pattern search", function()
    -- its own faulty mock: which request draws a fault depends on the requests before it, and
    -- a fault on the one initial request (no retry for bad JSON) leaves nothing to measure
    local own = assert(mock_mod.start { latency_ms = 150, idle_exit_s = 5, lifetime_s = 30, fault_rate = 0.15, seed = 2 })
    local res = run("hybrid", { batch = 6, own_population = false,
      client = llm.client { base_url = own.url, model = "mock", max_concurrency = 3, retries = 2, backoff_ms = 20 } })
    own:stop()
    assert.are.equal("evals", res.stopped_because, res.message)
    assert.is_true(res.report.consults >= 1)
    assert.is_true(res.report.llm_evals > 0)
    assert.is_truthy(res.best and res.best.latency_us)
  end)

  it("hybrid: LLM configs never interrupt the climb (reserve waits for convergence)", function()
    local problem = require("htune.problems.toy").new()
    local pat = htune.tune { problem = problem, strategy = "pattern", backend = "synthetic", quiet = true, seed = 3,
      backend_options = { latency_ms = 0 }, budget = { evals = 60 }, rebench_k = 0, strategy_options = { initial_population = 0 } }
    local measured
    local hyb = require "htune.strategies.hybrid"
    local strat = setmetatable({ observe = function(st, rs) measured = st.hybrid.llm_measured return hyb.observe(st, rs) end },
      { __index = hyb })
    local res = run(strat, { batch = 6, own_population = false, initial_first = false })
    assert.are.equal("evals", res.stopped_because, res.message)
    -- until the first LLM config, hybrid's trace is pattern's climb from the default, config for config
    local k = 1
    while res.trace[k] and not measured[res.trace[k].hash] do
      assert.are.equal(pat.trace[k].hash, res.trace[k].hash, "eval " .. k)
      k = k + 1
    end
    assert.is_true(k > 10, "an LLM config came at eval " .. k)
  end)

  -- Hybrid with its defaults against pattern alone on the toy problem, 100 evals, no faults.
  local function against_pattern(seed, extra)
    local problem = require("htune.problems.toy").new()
    local pat = htune.tune { problem = problem, strategy = "pattern", backend = "synthetic", quiet = true, seed = seed,
      backend_options = { latency_ms = 0 }, budget = { evals = 100 }, rebench_k = 0 }
    local hyb = require "htune.strategies.hybrid"
    local st
    local strat = setmetatable({ observe = function(s, rs) st = s return hyb.observe(s, rs) end }, { __index = hyb })
    local clean = assert(mock_mod.start { latency_ms = 20, idle_exit_s = 5, lifetime_s = 30, seed = seed })
    local opts = { client = llm.client { base_url = clean.url, model = "mock" } }
    for k, v in pairs(extra or {}) do opts[k] = v end
    local res = htune.tune { problem = problem, strategy = strat, backend = "synthetic", quiet = true, seed = seed,
      backend_options = { latency_ms = 2 }, budget = { evals = 100 }, rebench_k = 0, strategy_options = opts }
    clean:stop()
    assert.are.equal("evals", res.stopped_because, res.message)
    return res, pat, st
  end

  it("hybrid: pattern's own run until a climb converges, then the LLM's reserve before the restart", function()
    local llm_evals, fresh_reserve = 0, 0
    for seed = 1, 3 do
      local res, pat, st = against_pattern(seed)
      local measured = st.hybrid.llm_measured
      local k = 1
      while res.trace[k] and not measured[res.trace[k].hash] do
        assert.are.equal(pat.trace[k].hash, res.trace[k].hash, "seed " .. seed .. " eval " .. k)
        k = k + 1
      end
      -- the first LLM config comes where pattern leaves its trace for a restart: its first climb is over
      assert.is_true(k > 11, "seed " .. seed .. ": an LLM config came at eval " .. k .. ", inside the population")
      llm_evals = llm_evals + res.report.llm_evals
      -- the first reserve measured was asked with results shown (a stall consult replaced the
      -- initial reply, asked before anything was measured), not the initial reply itself
      if res.trace[k] and measured[res.trace[k].hash] == "reserve" then fresh_reserve = fresh_reserve + 1 end
      -- with reserve_first=false the reserve waits for an exhausted population: none within 100 evals
      assert.are.equal(0, (against_pattern(seed, { reserve_first = false })).report.llm_evals, "seed " .. seed)
    end
    assert.is_true(llm_evals > 0, "no LLM config measured in three seeds")
    assert.is_true(fresh_reserve > 0, "every first convergence measured the no-feedback initial reply")
  end)

  it("hybrid probe=1 measures one reserve config per converged climb, the whole batch without it", function()
    local probe_evals, runs = 0, { probe = 0, batch = 0 }
    for seed = 1, 3 do
      for _, mode in ipairs { "probe", "batch" } do
        local res, _, st = against_pattern(seed, mode == "probe" and { probe = 1 } or nil)
        local measured = st.hybrid.llm_measured
        for k = 2, #res.trace do -- two LLM configs in a row: more than one from one reserve
          if measured[res.trace[k].hash] and measured[res.trace[k - 1].hash] then runs[mode] = runs[mode] + 1 end
        end
        if mode == "probe" then probe_evals = probe_evals + res.report.llm_evals end
      end
    end
    assert.is_true(probe_evals > 0, "probe=1 measured no LLM config in three seeds")
    assert.are.equal(0, runs.probe)
    assert.is_true(runs.batch > 0, "the default measured no two reserve configs in a row")
  end)

  it("hybrid's screen (the default) drops reserve configs whose nearest measured config is no faster than the restart point", function()
    local with, without, screened = 0, 0, 0
    for seed = 1, 3 do
      local res, _, st = against_pattern(seed)
      with, screened = with + res.report.llm_evals, screened + (st.hybrid.screened or 0)
      local off, _, st_off = against_pattern(seed, { screen = false })
      assert.is_nil(st_off.hybrid.screened, "screen=false screened")
      without = without + off.report.llm_evals
    end
    assert.is_true(screened > 0, "nothing screened in three seeds")
    assert.is_true(with < without, ("screened runs measured %d LLM configs, unscreened %d"):format(with, without))
  end)

  it("hybrid's prompts show the run's fastest config, however long ago it was measured", function()
    local problem = require("htune.problems.toy").new()
    local rng, history, seen = htune.rng(4), {}, {}
    for i = 1, 60 do -- the fastest first, then 59 slower results
      local cfg = problem.space:sample(rng)
      local h = problem.space:hash(cfg)
      if not seen[h] then
        history[#history + 1] = { ok = true, latency_us = 10 + #history, cfg = cfg, hash = h }
        seen[h] = history[#history]
      end
    end
    local sent
    local fake = { request = function(_, req) sent = req.messages return { result = function() return nil end } end,
                   poll = function() end }
    local state = { problem = problem, space = problem.space, options = { client = fake }, budget = { evals = 200 },
                    history = history, seen = seen, rng = rng, evals = #history }
    local hyb = require "htune.strategies.hybrid"
    hyb.init(state)
    hyb.propose(state, 4)
    assert.is_truthy(sent, "no prompt sent")
    local fastest = "10.000 us  " .. problem.space:to_json(history[1].cfg)
    assert.is_truthy(sent[#sent].content:find(fastest, 1, true), "the prompt lacks " .. fastest)
  end)

  it("hybrid own_population: pattern's own random population is not topped up again at its restart", function()
    local problem = require("htune.problems.toy").new()
    local pat = htune.tune { problem = problem, strategy = "pattern", backend = "synthetic", quiet = true, seed = 3,
      backend_options = { latency_ms = 0 }, budget = { evals = 200 }, rebench_k = 0 }
    local measured
    local hyb = require "htune.strategies.hybrid"
    local strat = setmetatable({ observe = function(st, rs) measured = st.hybrid.llm_measured return hyb.observe(st, rs) end },
      { __index = hyb })
    -- every reply fails, so the LLM's initial population falls short by all of it
    local dead = assert(mock_mod.start { latency_ms = 20, idle_exit_s = 5, lifetime_s = 30, fault_rate = 1 })
    local res = htune.tune { problem = problem, strategy = strat, backend = "synthetic", quiet = true, seed = 3,
      backend_options = { latency_ms = 0 }, budget = { evals = 200 }, rebench_k = 0,
      strategy_options = { client = llm.client { base_url = dead.url, model = "mock", retries = 0 }, batch = 6,
                           initial_first = false, own_population = true } }
    dead:stop()
    assert.are.equal("evals", res.stopped_because, res.message)
    assert.are.equal(0, res.report.llm_evals)
    for k = 1, 200 do assert.are.equal(pat.trace[k].hash, res.trace[k].hash, "eval " .. k) end
  end)

  it("hybrid: when pattern stops inside a propose, the restart comes in that call, not after the next event", function()
    local hyb = require "htune.strategies.hybrid"
    local idle_after_stop = 0
    local strat = setmetatable({ propose = function(st, n)
      local before = st.pattern and st.pattern.phase
      local out = hyb.propose(st, n)
      if #out == 0 and before ~= "stopped" and st.pattern.phase == "stopped" then idle_after_stop = idle_after_stop + 1 end
      return out
    end }, { __index = hyb })
    local clean = assert(mock_mod.start { latency_ms = 100, idle_exit_s = 5, lifetime_s = 30 })
    for seed = 1, 2 do
      local res = htune.tune { problem = require("htune.problems.toy").new(), strategy = strat, backend = "synthetic",
        backend_options = { latency_ms = 1, seed = seed }, budget = { evals = 100 }, seed = seed, quiet = true, rebench_k = 0,
        strategy_options = { client = llm.client { base_url = clean.url, model = "mock", max_concurrency = 3 } } }
      assert.are.equal("evals", res.stopped_because, res.message)
    end
    clean:stop()
    assert.are.equal(0, idle_after_stop)
  end)

  it("the driver parses a reply as it arrives, while the backend is busy", function()
    -- 5 evals of 250 ms each; replies (150 ms) land mid-eval and are read then, not at the next observe
    local clean = assert(mock_mod.start { latency_ms = 150, idle_exit_s = 5, lifetime_s = 30 }) -- no faults, no retries
    local problem = require("htune.problems.toy").new()
    local res = htune.tune { problem = problem, strategy = "llm", backend = "synthetic", quiet = true, seed = 4,
      backend_options = { latency_ms = 250 }, budget = { evals = 5 }, rebench_k = 0,
      strategy_options = { client = llm.client { base_url = clean.url, model = "mock", max_concurrency = 2 }, batch = 2, concurrency = 2 } }
    clean:stop()
    assert.are.equal("evals", res.stopped_because, res.message)
    local rep = res.report
    assert.is_true(rep.ok_calls + rep.errors >= 1, "no reply arrived")
    -- a reply is read only when the client is polled: read late, its latency would be ~250-750 ms
    assert.is_true(rep.mean_llm_ms < 150 + 60, string.format("replies seen after %.0f ms (mock: 150)", rep.mean_llm_ms))
  end)

  it("llm with local_fill=false: an idle backend waits on the LLM instead of spinning", function()
    local calls = 0
    local strat = setmetatable({ propose = function(st, n) calls = calls + 1 return require("htune.strategies.llm").propose(st, n) end },
      { __index = require("htune.strategies.llm") })
    local res = htune.tune { problem = require("htune.problems.toy").new(), strategy = strat, backend = "synthetic",
      quiet = true, seed = 5, backend_options = { latency_ms = 1 }, budget = { evals = 12 }, rebench_k = 0,
      max_empty_rounds = 3, strategy_options = { client = llm.client { base_url = m.url, model = "mock", retries = 3,
        backoff_ms = 20 }, local_fill = false, batch = 6, concurrency = 2 } }
    assert.are.equal("evals", res.stopped_because, res.message)
    assert.are.equal(12, res.evals)
    assert.is_true(res.report.llm_evals >= 11)
    assert.is_true(calls < 60, "propose called " .. calls .. " times: the driver spun")
    assert.is_true(res.time.llm_wait_ms > 100, "waited " .. res.time.llm_wait_ms .. " ms on the LLM")
  end)

  -- The prompt's device section in a run: captured through a template table.
  local function device_text_in_run(backend, backend_options)
    local seen
    local tpl = { system = "s", user = function(ctx) seen = seen or ctx.device_text return "u\n" .. ctx.space_block end }
    local res = htune.tune { problem = require("htune.problems.toy").new(), strategy = "hybrid", backend = backend,
      quiet = true, seed = 6, backend_options = backend_options, budget = { evals = 6 }, rebench_k = 0,
      strategy_options = { client = llm.client { base_url = m.url, model = "mock" }, template = tpl } }
    assert.is_truthy(res, "run failed")
    return seen, res
  end

  it("puts the backend's device specs in the prompt (synthetic, replay with recorded specs)", function()
    local text = device_text_in_run("synthetic", { latency_ms = 1 })
    assert.matches("synthetic", text)
    text = device_text_in_run("synthetic", { specs = { name = "Test GPU 77", sm_count = 77, l2_bytes = 1048576 } })
    assert.matches("Test GPU 77", text)
    assert.matches("streaming multiprocessors: 77", text)
    assert.matches("L2 cache %(bytes%): 1048576", text)
    local problem = require("htune.problems.toy").new()
    local replay = require "htune.backends.replay"
    local path = os.tmpname() .. ".replay"
    local rows, rng = {}, htune.rng(1)
    for i = 1, 40 do local c = problem.space:sample(rng) rows[i] = { cfg = c, ok = true, latency_us = 10 + i } end
    assert(replay.write(path, problem, rows, { device = "NVIDIA H100 80GB HBM3", sm_count = 132, l2_bytes = 52428800,
      bandwidth_gbs = 3352, cc = "9.0" }))
    text = device_text_in_run("replay", { path = path, nearest = true })
    os.remove(path)
    assert.matches("NVIDIA H100 80GB HBM3", text)
    assert.matches("streaming multiprocessors: 132", text)
    assert.matches("DRAM bandwidth %(GB/s%): 3352", text)
    assert.matches("compute capability: 9.0", text)
  end)

  it("llm: a dead endpoint still finishes the run on local moves", function()
    local res = htune.tune { problem = require("htune.problems.toy").new(), strategy = "llm", backend = "synthetic",
      quiet = true, backend_options = { latency_ms = 1 }, budget = { evals = 30 },
      strategy_options = { base_url = "http://127.0.0.1:1/v1", model = "none", retries = 0 } }
    assert.are.equal("evals", res.stopped_because, res.message)
    assert.is_true(res.report.errors >= 1)
    assert.matches("ENET", res.report.last_error)
  end)
end)

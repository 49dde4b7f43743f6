-- Starts tests/mock_llm (the C mock server built as $(BUILD)/mock_llm beside htune) on
-- 127.0.0.1 for tests, examples and benchmarks; it stops by itself (lifetime, idle), and
-- m:stop() ends it early by its pid.
--   local mock = dofile("tests/mock_llm/mock.lua")
--   local m = assert(mock.start{latency_ms = 20})   -- m.url, m.port, m.pid, m:stats(), m:stop()
local sys = require "htune.sys"
local cjson = require "cjson.safe"

local M = {}

-- The mock binary: $HTUNE_MOCK_LLM, else mock_llm beside (or above, for build/asan) htune.
function M.binary()
  local env = os.getenv("HTUNE_MOCK_LLM")
  if env then return env end
  local p = io.popen("readlink /proc/" .. sys.pid .. "/exe")
  local exe = p and p:read("l")
  if p then p:close() end
  local dir = exe and exe:match("^(.*)/[^/]+$")
  for _, cand in ipairs { dir and dir .. "/mock_llm", dir and dir .. "/../mock_llm", sys.root .. "/build/mock_llm" } do
    local f = cand and io.open(cand)
    if f then f:close() return cand end
  end
  return nil, "mock_llm not found (make builds it beside htune; or set HTUNE_MOCK_LLM)"
end

local function read_file(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- start{latency_ms=50, lifetime_s=60, idle_exit_s=10, fault_rate=0, seed=1} -> mock or nil, msg
function M.start(o)
  o = o or {}
  local bin, err = M.binary()
  if not bin then return nil, err end
  local dir = os.tmpname()
  os.remove(dir)
  assert(sys.mkdirs(dir))
  local port_file, stats_file = dir .. "/port", dir .. "/stats.json"
  local cmd = string.format("%q --latency-ms %g --lifetime-s %g --idle-exit-s %g --fault-rate %g --seed %d "
    .. "--port-file %q --stats-file %q >/dev/null 2>&1 &", bin, o.latency_ms or 50, o.lifetime_s or 60,
    o.idle_exit_s or 10, o.fault_rate or 0, o.seed or 1, port_file, stats_file)
  os.execute(cmd)
  local t0 = sys.now_ms()
  while sys.now_ms() - t0 < 5000 do
    local s = read_file(port_file)
    local port, pid = (s or ""):match("^(%d+) (%d+)")
    if port then
      return setmetatable({ port = tonumber(port), pid = tonumber(pid), dir = dir, stats_file = stats_file,
        url = "http://127.0.0.1:" .. port .. "/v1" }, { __index = M })
    end
    sys.sleep_ms(10)
  end
  return nil, "mock_llm did not start within 5 s: " .. cmd
end

-- {requests=, chat_requests=, active=, max_concurrent=} as of the last finished request.
function M:stats()
  return cjson.decode(read_file(self.stats_file) or "") or { requests = 0, chat_requests = 0, active = 0, max_concurrent = 0 }
end

function M:stop()
  if self.pid then os.execute("kill " .. math.tointeger(self.pid) .. " 2>/dev/null") end
  self.pid = nil
  os.remove(self.stats_file)
  os.remove(self.dir .. "/port")
  os.remove(self.dir)
end

return M

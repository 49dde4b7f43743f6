-- LLM-guided tuning of the toy problem; a real endpoint via HTUNE_LLM_URL/_MODEL/_KEY_ENV, else the mock.
local htune = require "htune"
local url, mock = os.getenv("HTUNE_LLM_URL")
if not url then
  mock = assert(dofile(htune.sys.root .. "/tests/mock_llm/mock.lua").start { latency_ms = 500 })
  url = mock.url
end
local res = htune.tune {
  problem = require("htune.problems.toy").new(), strategy = arg[1] or "llm", backend = "synthetic",
  backend_options = { latency_ms = 20 }, budget = { evals = 120 },
  strategy_options = { base_url = url, model = os.getenv("HTUNE_LLM_MODEL") or "mock",
    api_key_env = os.getenv("HTUNE_LLM_KEY_ENV"), batch = 8, concurrency = 3,
    device = { sm_count = 132, l2_bytes = 50 << 20, bandwidth_gbs = 3350 } },
}
local r = res.report
print(string.format("best %.3f us, %d evals, %.1f s; %d calls, %d LLM configs, %d tokens", res.best.latency_us,
  res.evals, res.wall_s, r.calls, r.llm_evals, r.prompt_tokens + r.completion_tokens))
if mock then mock:stop() end

-- A/B of two prompt templates: fraction of optimum vs LLM calls and tokens (toy problem).
local htune = require "htune"
local A, B = arg[1] or "default", arg[2] or "terse"
local url, mock = os.getenv("HTUNE_LLM_URL")
if not url then
  mock = assert(dofile(htune.sys.root .. "/tests/mock_llm/mock.lua").start { latency_ms = 200 })
  url = mock.url
end
local p = require("htune.problems.toy").new()
local opt = math.huge
for i = 0, p.space:size() - 1 do
  local c = p.space:at(i)
  if p.space:validate(c) then opt = math.min(opt, p.landscape(c) or math.huge) end
end
for _, t in ipairs { A, B } do
  for seed = 1, 3 do
    local res = htune.tune { problem = p, strategy = "llm", backend = "synthetic", seed = seed, quiet = true,
      budget = { evals = 60 }, rebench_k = 0, max_empty_rounds = 10000, strategy_options = { base_url = url,
      model = os.getenv("HTUNE_LLM_MODEL") or "mock", api_key_env = os.getenv("HTUNE_LLM_KEY_ENV"),
      template = t, local_fill = false } }
    local r = res.report
    print(string.format("%-8s seed %d: %.3f of optimum, %d calls, %d tokens", t, seed, opt / res.best.latency_us,
      r.calls, r.prompt_tokens + r.completion_tokens))
  end
end
if mock then mock:stop() end

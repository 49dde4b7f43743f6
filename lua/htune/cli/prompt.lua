-- `htune prompt render PROBLEM|FILE.lua`: prints the exact messages an LLM strategy would send,
-- for prompt experimentation. FILE returns a problem table, or {problem=, history=, device=,
-- template=, n=}; PROBLEM is a shipped problem name ("toy", "matmul", "softmax").
local M = { summary = "print the exact LLM prompt for a problem (htune prompt render ...)" }
M.usage = [[
usage: htune prompt render PROBLEM|FILE.lua [--template NAME|FILE.lua] [--n N]
                          [--samples K] [--seed S] [--device FILE.lua]

Prints the system and user messages the llm/hybrid strategies would send.
PROBLEM: a shipped problem ("toy", "matmul", "softmax") or a kernel's spec.lua; FILE.lua
returns a problem table or {problem=, history=, device=, template=, n=}. --samples K measures K random configs on
the synthetic backend (seed S) so the "best so far" sections show something; --device FILE
returns a table of device specs (sm_count, smem_per_sm_bytes, l2_bytes, bandwidth_gbs,
tensor_tflops, name). Templates: lua/htune/prompts/*.lua, or your own file.
]]

local function parse_args(args)
  local o = { n = 8, samples = 0, seed = 1 }
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--template" or a == "--n" or a == "--samples" or a == "--seed" or a == "--device" then
      if not args[i + 1] then return nil, a .. " needs a value" end
      o[a:sub(3)] = args[i + 1]
      i = i + 2
    elseif not o.target then o.target, i = a, i + 1
    else return nil, "unexpected argument '" .. a .. "'" end
  end
  if not o.target then return nil, "missing PROBLEM or FILE.lua" end
  for _, k in ipairs { "n", "samples", "seed" } do
    local v = math.tointeger(tonumber(o[k]))
    if not v then return nil, string.format("--%s takes a whole number, got '%s'", k, tostring(o[k])) end
    o[k] = v
  end
  return o
end

local function load_target(target)
  if target:match("spec%.lua$") then -- a kernel spec: built with its default shape
    local p, err = require("htune").problem(target)
    if not p then return nil, err end
    return { problem = p }
  end
  if target:match("%.lua$") then
    local ok, v = pcall(dofile, target)
    if not ok then return nil, tostring(v) end
    if type(v) == "table" and v.space then return { problem = v } end
    if type(v) == "table" and type(v.problem) == "table" then return v end
    return nil, target .. " must return a problem table or {problem=, ...}"
  end
  if target == "toy" then return { problem = require("htune.problems.toy").new() } end
  local p, err = require("htune").problem(target)
  if not p then return nil, err end
  return { problem = p }
end

local function sample_history(problem, k, seed)
  if k <= 0 then return {} end
  local rng = require("htune.rng")(seed)
  local cfgs = {}
  for i = 1, k do cfgs[i] = problem.space:sample(rng) end
  local b = assert(require("htune.backends.synthetic").open(problem, { seed = seed }))
  local trials = {}
  for i, c in ipairs(cfgs) do trials[i] = { id = i, cfg = c, hash = problem.space:hash(c) } end
  b:submit(trials)
  local out = {}
  while #out < k do for _, r in ipairs(b:poll(100)) do out[#out + 1] = r end end
  b:close()
  return out
end

function M.run(args)
  if args[1] ~= "render" then io.stderr:write(M.usage) return 2 end
  table.remove(args, 1)
  local o, err = parse_args(args)
  local t = o and load_target(o.target)
  if not t then
    io.stderr:write("htune prompt: ", tostring(err or select(2, load_target(o.target))), "\n")
    return 2
  end
  local device = t.device
  if o.device then device = dofile(o.device) end
  local history = t.history or sample_history(t.problem, o.samples, o.seed)
  local prompt = require "htune.prompt"
  local msgs = prompt.build(t.problem, { history = history, device = device, n = t.n or o.n,
    template = o.template or t.template })
  io.stdout:write(prompt.render(msgs))
  return 0
end

return M

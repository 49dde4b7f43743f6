-- htune.evaluate(problem, configs, opts): measures a list of configs on a backend (default
-- "live": NVRTC compiles overlap GPU timing) and hands back results as they complete:
--   local results, stats = htune.evaluate(p, cfgs, {on_result = function(r) ... end})
--       results[i] belongs to configs[i]; on_result sees each as it completes
--   for r in htune.evaluate(p, cfgs, {iterate = true}) do ... end     -- completion order
local M = {}

-- Every config is measured in full unless opts.cutoff = true: early cutoff is for searches,
-- where a loser's exact time does not matter. Every result is checked against the problem's
-- reference unless opts.check = false (the live backend's option: diagnostics only).
local function open_backend(problem, opts)
  if opts.backend_object then return opts.backend_object end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.cutoff = opts.cutoff == true
  return require("htune.backends." .. (opts.backend or "live")).open(problem, o)
end

local function trials_of(problem, configs)
  local trials = {}
  for i, cfg in ipairs(configs) do trials[i] = { id = i, cfg = cfg, hash = problem.space:hash(cfg) } end
  return trials
end

-- An iterator over results in completion order; closes a backend it opened when done.
local function stream(b, owned)
  local buffered = {}
  return function()
    while #buffered == 0 do
      if b:pending() == 0 then
        if owned and b.close then b:close() end
        return nil
      end
      buffered = b:poll(100)
    end
    return table.remove(buffered, 1)
  end
end

-- evaluate(problem, configs, opts) -> results (configs' order), backend stats | iterator
-- (opts.iterate) | nil, msg, code when the backend cannot open.
function M.evaluate(problem, configs, opts)
  opts = opts or {}
  local b, err, code = open_backend(problem, opts)
  if not b then return nil, err, code end
  b:submit(trials_of(problem, configs))
  local next_result = stream(b, not opts.backend_object)
  if opts.iterate then return next_result end
  local results = {}
  for r in next_result do
    results[r.id] = r
    if opts.on_result then opts.on_result(r) end
  end
  return results, b.stats and b:stats() or nil
end

return M

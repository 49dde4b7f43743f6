-- htune.evaluate(problem, configs, opts): measures a list of configs on a backend (default
-- "live") and hands back results as they complete: through opts.on_result(result), or as an
-- iterator when no callback is given:  for r in htune.evaluate(p, cfgs) do ... end
local M = {}

local function open_backend(problem, opts)
  if opts.backend_object then return opts.backend_object end
  return require("htune.backends." .. (opts.backend or "live")).open(problem, opts)
end

local function trials_of(problem, configs)
  local trials = {}
  for i, cfg in ipairs(configs) do trials[i] = { id = i, cfg = cfg, hash = problem.space:hash(cfg) } end
  return trials
end

-- evaluate(problem, configs, opts) -> iterator (no on_result) | results in completion order,
-- backend stats (with on_result) | nil, msg, code when the backend cannot open.
function M.evaluate(problem, configs, opts)
  opts = opts or {}
  local b, err, code = open_backend(problem, opts)
  if not b then return nil, err, code end
  b:submit(trials_of(problem, configs))
  local owned = not opts.backend_object
  local buffered = {}
  local function next_result()
    while #buffered == 0 do
      if b:pending() == 0 then
        if owned and b.close then b:close() end
        return nil
      end
      buffered = b:poll(100)
    end
    return table.remove(buffered, 1)
  end
  if not opts.on_result then return next_result end
  local all = {}
  for r in next_result do
    all[#all + 1] = r
    opts.on_result(r)
  end
  return all, b.stats and b:stats() or nil
end

return M

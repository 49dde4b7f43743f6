-- Records a replay table: measures every valid config of a problem when there are at most
-- --all-max of them, else --count (>= 20000) distinct samples, on the live backend (or
-- --backend synthetic for a dry run), and writes data/<problem>.replay.gz with metadata.
--   htune run scripts/record.lua --problem matmul [--backend live] [--count 20000] [--out FILE]
local htune = require "htune"
local replay = require "htune.backends.replay"

local o = { problem = "matmul", backend = "live", count = 20000, all_max = 50000, batch = 64 }
for i = 1, #arg, 2 do
  local k = arg[i]:gsub("^%-%-", ""):gsub("-", "_")
  o[k] = tonumber(arg[i + 1]) or arg[i + 1]
end

local function configs(space)
  local size = space:size()
  local out = {}
  if size <= o.all_max then
    for i = 0, size - 1 do
      local c = space:at(i)
      if c and space:validate(c) then out[#out + 1] = c end
    end
    return out, "all valid"
  end
  local seen, r = {}, htune.rng(o.seed or 1)
  for _ = 1, o.count * 50 do
    if #out >= o.count then break end
    local c = space:sample(r)
    local h = space:hash(c)
    if not seen[h] then seen[h] = true; out[#out + 1] = c end
  end
  return out, "sampled"
end

local function git_commit()
  local p = io.popen("git -C " .. htune.sys.root .. " rev-parse --short HEAD 2>/dev/null")
  local c = p and p:read("l")
  if p then p:close() end
  return c or "unknown"
end

local problem = o.problem == "toy" and require("htune.problems.toy").new() or htune.problem(o.problem, {})
local be = assert(require("htune.backends." .. o.backend).open(problem, {}))
local cfgs, how = configs(problem.space)
io.stderr:write(string.format("record: %s: %d configs (%s) on %s\n", problem.key or problem.name, #cfgs, how, be.info.device))
local rows, next_i, t0 = {}, 1, htune.sys.now_ms()
while #rows < #cfgs do
  while next_i <= #cfgs and be:pending() < o.batch do
    be:submit { { id = next_i, cfg = cfgs[next_i], hash = problem.space:hash(cfgs[next_i]) } }
    next_i = next_i + 1
  end
  for _, r in ipairs(be:poll(100)) do rows[#rows + 1] = r end
  if #rows % 1000 == 0 then io.stderr:write(string.format("\r%d/%d", #rows, #cfgs)) end
end
io.stderr:write("\n")
be:close()
local out = o.out or (htune.sys.root .. "/data/" .. problem.name .. ".replay.gz")
htune.sys.mkdirs(out:match("(.*)/") or ".")
assert(replay.write(out, problem, rows, {
  device = be.info.device, driver = be.info.driver or "unknown", commit = git_commit(), how = how,
  created = os.date("!%Y-%m-%dT%H:%M:%SZ"), seconds = string.format("%.0f", (htune.sys.now_ms() - t0) / 1000),
  baseline_us = be.info.baseline_us, baseline_name = be.info.baseline_name,
}))
print(string.format("record: wrote %d rows to %s in %.1f s", #rows, out, (htune.sys.now_ms() - t0) / 1000))

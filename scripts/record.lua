-- Records a replay table: measures every valid config of a problem when there are at most
-- --all-max of them, else --count (>= 20000) distinct samples, on the live backend (or
-- --backend synthetic for a dry run), and writes data/<problem>.replay.gz with metadata.
-- --seconds S stops submitting after S seconds and writes what was measured (the GPU time one
-- call may use is limited; a partial sample of a shuffled list is still a uniform sample);
-- configs still compiling --grace seconds (default 30) after that are left out.
--   htune run scripts/record.lua --problem matmul [--backend live] [--count 20000] [--seconds S]
--     [--out FILE] [--commit SHA] [--M 1024 --N 1024 --K 1024 | --rows 4096 --cols 256]
local htune = require "htune"
local replay = require "htune.backends.replay"

local o = { problem = "matmul", backend = "live", count = 20000, all_max = 50000, batch = 64, grace = 30 }
for i = 1, #arg, 2 do
  local k = arg[i]:gsub("^%-%-", ""):gsub("-", "_")
  o[k] = tonumber(arg[i + 1]) or arg[i + 1]
end

local function configs(space)
  local size = space:size()
  local out = {}
  -- size() counts valid configs; at() indexes the unconstrained product of the parameters.
  local full = 1
  for _, d in ipairs(space:params()) do full = full * d.count end
  if size <= o.all_max and full <= 100 * o.all_max then
    for i = 0, full - 1 do
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

local shape = {}
for _, k in ipairs { "M", "N", "K", "rows", "cols" } do shape[k] = tonumber(o[k]) end
-- "580.95.05 (CUDA 13.0)": the kernel driver from nvidia-smi and the driver API version.
local function driver_string(be)
  if be.info.backend ~= "live" then return be.info.driver or be.info.backend end
  local p = io.popen("nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null")
  local kd = p and p:read("l")
  if p then p:close() end
  local ok, _, c = pcall(function() return require("htune.cuda").init {} end)
  local v = ok and type(c) == "table" and c.driver_version
  local api = v and string.format("CUDA %d.%d", v // 1000, v % 1000 // 10)
  return (kd or "unknown") .. (api and " (" .. api .. ")" or "")
end

local problem = o.problem == "toy" and require("htune.problems.toy").new() or htune.problem(o.problem, shape)
-- Cutoff off: every row needs its full latency, not "cannot beat the best so far".
local be = assert(require("htune.backends." .. o.backend).open(problem, { cutoff = false }))
local cfgs, how = configs(problem.space)
io.stderr:write(string.format("record: %s: %d configs (%s) on %s\n", problem.key or problem.name, #cfgs, how, be.info.device))
-- Shuffle (seeded) so that a run cut short by --seconds is a uniform sample of the list.
local shuffle = htune.rng(o.seed or 1)
for i = #cfgs, 2, -1 do
  local j = shuffle:int(1, i)
  cfgs[i], cfgs[j] = cfgs[j], cfgs[i]
end
local rows, next_i, t0, last = {}, 1, htune.sys.now_ms(), htune.sys.now_ms()
local deadline = o.seconds and t0 + 1000 * tonumber(o.seconds)
local function progress(final)
  local s = (htune.sys.now_ms() - t0) / 1000
  io.stderr:write(string.format("%srecord: %d/%d measured, %.1f s, %.1f configs/s%s", final and "" or "\r",
    #rows, #cfgs, s, #rows / math.max(s, 1e-3), final and "\n" or ""))
end
while #rows < next_i - 1 or next_i <= #cfgs do
  local open = not deadline or htune.sys.now_ms() < deadline
  while open and next_i <= #cfgs and be:pending() < o.batch do
    be:submit { { id = next_i, cfg = cfgs[next_i], hash = problem.space:hash(cfgs[next_i]) } }
    next_i = next_i + 1
  end
  if not open and (be:pending() == 0 or htune.sys.now_ms() > deadline + 1000 * o.grace) then break end
  for _, r in ipairs(be:poll(100)) do rows[#rows + 1] = r end
  if htune.sys.now_ms() - last > 5000 then last = htune.sys.now_ms(); progress() end
end
progress(true)
local left = be:pending()
if #rows < #cfgs then how = string.format("%s, %d of %d measured (--seconds %s)", how, #rows, #cfgs, o.seconds) end
local driver = driver_string(be)
local out = o.out or (htune.sys.root .. "/data/" .. problem.name .. ".replay.gz")
htune.sys.mkdirs(out:match("(.*)/") or ".")
assert(replay.write(out, problem, rows, {
  device = be.info.device, driver = driver, commit = o.commit or git_commit(), how = how,
  created = os.date("!%Y-%m-%dT%H:%M:%SZ"), seconds = string.format("%.0f", (htune.sys.now_ms() - t0) / 1000),
  baseline_us = be.info.baseline_us, baseline_name = be.info.baseline_name,
}))
print(string.format("record: wrote %d rows to %s in %.1f s%s", #rows, out, (htune.sys.now_ms() - t0) / 1000,
  left > 0 and string.format(" (%d still compiling after --grace %d s left out)", left, o.grace) or ""))
if left == 0 then be:close() end -- else the worker sees its pipe close and exits
-- Without closing the Lua state: its collector would wait for compiles still running.
os.exit(0, false)

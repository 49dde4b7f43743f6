-- bench-compile: configs/s of the NVRTC compile service on distinct configs of a matmul template,
-- for 1..N threads, unbatched vs batched (coalesced programs), cold vs warm disk cache.
--   htune run scripts/bench-compile.lua [--short] [--configs N] [--threads 1,2,16] [--batch 1,4]
--                                        [--arch sm_90a] [--kernel standin|matmul] [--offset N] [--define K=V] [--procs 16]
--                                        [--opt name=v]
-- --procs P[,P] adds cold rows that split the row's configs over P processes (htune run of this
-- script, one compile thread each): threads of one process against processes on the same load.
-- --define K=V adds a define to every matmul job (repeatable), to time a variant of the template
-- (e.g. --define MATMUL_FUSED_PROLOGUE=1).
-- --opt name=v sets a problem option of kernels/matmul (repeatable), e.g. --opt tile_order=compiled
-- (l2_grouping and loop_order in the template again, so they make distinct jobs as before c2d7911).
-- --offset N skips the first N sampled configs, so that several processes can each compile their
-- own share of one config list (threads against processes on the same configs).
-- Uses kernels/matmul (spec.lua + matmul.cu) when present, else kernels/bench/matmul_mma.cu.
require("htune.usage").on_help(arg)
local htune = require "htune"
local nv = require "htune.nvrtc"
local sys = require "htune.sys"

local function die(msg)
  io.stderr:write("bench-compile: ", msg, "\n")
  os.exit(2)
end

local function parse_args(argv)
  local o = { configs = 200, threads = nil, batch = { 1, 4 }, arch = nil, kernel = nil, offset = 0, defines = {}, procs = {}, opts = {} }
  local i = 1
  while i <= #argv do
    local a, v = argv[i], argv[i + 1]
    local function list(s) local t = {} for x in s:gmatch("%d+") do t[#t + 1] = tonumber(x) end return t end
    if a == "--short" then o.configs, o.short = 16, true
    elseif a == "--configs" then o.configs, i = tonumber(v), i + 1
    elseif a == "--threads" then o.threads, i = list(v), i + 1
    elseif a == "--batch" then o.batch, i = list(v), i + 1
    elseif a == "--arch" then o.arch, i = v, i + 1
    elseif a == "--kernel" then o.kernel, i = v, i + 1
    elseif a == "--procs" then o.procs, i = list(v), i + 1
    elseif a == "--child" then o.child = true
    elseif a == "--define" then
      local k, val = require("htune.problem").parse_define(v)
      if not k then die("--define wants NAME=VALUE, got " .. tostring(v)) end
      o.defines[k], i = val, i + 1
    elseif a == "--opt" then
      local k, val = require("htune.problem").parse_opt(v)
      if not k then die("--opt wants name=value (a lower-case problem option), got " .. tostring(v)) end
      o.opts[k], i = val, i + 1
    elseif a == "--offset" then o.offset, i = math.tointeger(tonumber(v)), i + 1
    else die("unknown argument " .. a .. " (see the header of scripts/bench-compile.lua)") end
    i = i + 1
  end
  if not math.tointeger(o.configs) or o.configs < 1 then die("--configs must be a whole number >= 1, got " .. tostring(o.configs)) end
  if not o.offset or o.offset < 0 then die("--offset must be a whole number >= 0") end
  if not o.threads then
    o.threads = {}
    local t = 1
    while t < sys.ncpus do o.threads[#o.threads + 1] = t; t = t * 2 end
    o.threads[#o.threads + 1] = sys.ncpus
    if o.short then o.threads = { 1, sys.ncpus } end
  end
  return o
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- The stand-in's configs: block sizes, warps and stages whose warp tiles split into 16x16.
local function standin_jobs(n, arch)
  local src, jobs = read(sys.root .. "/kernels/bench/matmul_mma.cu"), {}
  local r = htune.rng(1)
  local all = {}
  for _, bm in ipairs { 32, 64, 128, 256 } do for _, bn in ipairs { 32, 64, 128, 256 } do
    for _, bk in ipairs { 16, 32, 64 } do for _, wm in ipairs { 1, 2, 4 } do for _, wn in ipairs { 1, 2, 4 } do
      for _, st in ipairs { 2, 3, 4, 5 } do
        if bm // wm >= 16 and bn // wn >= 16 and bm // wm <= 64 and bn // wn <= 64 then
          all[#all + 1] = string.format("matmul_mma<%d,%d,%d,%d,%d,%d>", bm, bn, bk, wm, wn, st)
        end
      end end end end end end
  r:shuffle(all)
  for i = 1, math.min(n, #all) do
    jobs[i] = { source = src, name = "matmul_mma.cu", name_exprs = { all[i] }, options = { "-std=c++17" }, arch = arch }
  end
  return jobs, "kernels/bench/matmul_mma.cu"
end

-- The real template through its problem spec: sampled configs with distinct compile jobs (the
-- spec gives configs that differ only in arguments that change nothing one kernel).
local function matmul_jobs(n, arch, extra, opts)
  local po = { M = 1024, N = 1024, K = 1024, dtype = "fp16", defines = extra }
  for k, v in pairs(opts or {}) do po[k] = v end
  local p = htune.problem("matmul", po)
  local r, seen, jobs = htune.rng(1), {}, {}
  for _ = 1, n * 50 do
    if #jobs >= n then break end
    local cfg = p.space:sample(r)
    local c = p.compile(cfg)
    local h = require("htune.problem").job_key(c)
    if not seen[h] then
      seen[h] = true
      jobs[#jobs + 1] = { source = p.source, name = "matmul.cu", name_exprs = { c.name_expr },
                          defines = c.defines, options = c.options, arch = arch }
    end
  end
  return jobs, "kernels/matmul/matmul.cu"
end

local function pick_jobs(o)
  local has_spec = io.open(sys.root .. "/kernels/matmul/spec.lua") and io.open(sys.root .. "/kernels/matmul/matmul.cu")
  if o.kernel == "matmul" or (o.kernel == nil and has_spec) then
    local ok, jobs, name = pcall(matmul_jobs, o.configs, o.arch, o.defines, o.opts)
    if ok then return jobs, name end
    -- --define and --opt apply to kernels/matmul only: timing the stand-in would drop them
    if o.kernel == "matmul" or next(o.defines) or next(o.opts) then die("kernels/matmul unusable: " .. tostring(jobs)) end
    io.stderr:write("bench-compile: kernels/matmul unusable (" .. tostring(jobs) .. "), using the stand-in\n")
  end
  return standin_jobs(o.configs, o.arch)
end

-- Submits every job, waits for all; returns configs/s, failures, mean batch size.
local function run_all(jobs)
  local t0, handles = sys.now_ms(), {}
  for i, j in ipairs(jobs) do handles[i] = nv.submit(j) end
  local failed, batch_sum, cached, cpu_ms = 0, 0, 0, 0
  for _, h in ipairs(handles) do
    local r = h:wait()
    cpu_ms = cpu_ms + (r.cached and 0 or (r.compile_ms or 0))
    if not r.ok then
      failed = failed + 1
      if failed == 1 then io.stderr:write("first failure: " .. (r.error or "?") .. "\n" .. r.log:sub(1, 600) .. "\n") end
    end
    batch_sum = batch_sum + (r.batch or 1)
    cached = cached + (r.cached and 1 or 0)
  end
  local s = (sys.now_ms() - t0) / 1000
  return #jobs / s, failed, batch_sum / #jobs, cached, s, cpu_ms / #jobs
end

local o = parse_args(arg or {})
local ver = nv.version()
if not ver then
  io.stderr:write("bench-compile: " .. tostring(nv.unavailable_reason) .. "\n")
  return 1
end
-- Every cold row compiles its own configs, and NVRTC's own cache is off: htune passes --no-cache
-- from NVRTC 13 (nv.driver_cache()), and scripts/bench-compile sets CUDA_CACHE_DISABLE=1 too.
-- NVRTC (12.9+) keeps its PTX and cubin in the CUDA driver's compute cache (~/.nv/ComputeCache)
-- where a driver is installed, across processes. On the H200 host the same 32 configs took 265
-- ms each in one process and 25 ms in the next (the front end alone), so rows or runs that
-- repeated configs measured that cache, not a compile.
local modes = #o.threads * #o.batch + #o.procs
local all_jobs, kernel = pick_jobs({ configs = o.offset + o.configs * modes, arch = o.arch, kernel = o.kernel, defines = o.defines, opts = o.opts })
if next(o.defines) and kernel ~= "kernels/matmul/matmul.cu" then die("--define applies to the matmul template only") end
if #all_jobs < o.offset + o.configs * modes then
  io.stderr:write(("bench-compile: only %d distinct configs for %d rows of %d\n"):format(#all_jobs, modes, o.configs))
  return 1
end
local function slice(m)
  local t = {}
  for i = 1, o.configs do t[i] = all_jobs[o.offset + (m - 1) * o.configs + i] end
  return t
end
local jobs = slice(1)
local dir = os.tmpname()
os.remove(dir)
nv.cache { dir = dir, enabled = true }
if o.child then -- one share of a --procs row: compile it on one thread, report, leave
  nv.threads(1)
  nv.max_batch(1)
  local _, failed, _, hits, wall, per_ms = run_all(jobs)
  print(string.format("child %d %.4f %d %d %.1f", #jobs, wall, failed, hits, per_ms))
  nv.cache_clear()
  os.remove(dir)
  return 0
end

local function shell_quote(x) return "'" .. tostring(x):gsub("'", "'\\''") .. "'" end

-- A --procs row: the configs of slice m split over p child processes started together; wall
-- time from the first start to the last exit (so it includes starting p htune processes).
local function run_procs(m, p)
  local exe = os.getenv("HTUNE") or (sys.root .. "/build/htune")
  local base = o.offset + (m - 1) * o.configs
  local t0, kids, at = sys.now_ms(), {}, 0
  for k = 1, p do
    local n = o.configs // p + (k <= o.configs % p and 1 or 0)
    if n > 0 then
      local cmd = { string.format("%s run %s --child --configs %d --offset %d --threads 1 --batch 1", shell_quote(exe),
        shell_quote(sys.root .. "/scripts/bench-compile.lua"), n, base + at) }
      if o.arch then cmd[#cmd + 1] = "--arch " .. shell_quote(o.arch) end
      if o.kernel then cmd[#cmd + 1] = "--kernel " .. shell_quote(o.kernel) end
      for name, v in pairs(o.defines) do cmd[#cmd + 1] = "--define " .. shell_quote(name .. "=" .. tostring(v)) end
      for name, v in pairs(o.opts) do cmd[#cmd + 1] = "--opt " .. shell_quote(name .. "=" .. tostring(v)) end
      kids[#kids + 1] = assert(io.popen(table.concat(cmd, " ") .. " 2>&1", "r"))
      at = at + n
    end
  end
  local failed, hits, cpu, done = 0, 0, 0, 0
  for _, f in ipairs(kids) do
    local out = f:read("a")
    f:close()
    local n, _, fl, h, per = out:match("child (%d+) ([%d.]+) (%d+) (%d+) ([%d.]+)")
    if not n then die("a --procs child failed:\n" .. out:sub(1, 800)) end
    done, failed, hits = done + tonumber(n), failed + tonumber(fl), hits + tonumber(h)
    cpu = cpu + tonumber(per) * tonumber(n)
  end
  local wall = (sys.now_ms() - t0) / 1000
  return done / wall, failed, hits, wall, cpu / math.max(done, 1)
end
local driver_cache = not nv.driver_cache() and "off (--no-cache)"
  or os.getenv("CUDA_CACHE_DISABLE") == "1" and "off (CUDA_CACHE_DISABLE=1)" or "ON (cold rows may be cache hits)"
local variant = {}
for k, v in pairs(o.defines) do variant[#variant + 1] = k .. "=" .. tostring(v) end
for k, v in pairs(o.opts) do variant[#variant + 1] = k .. "=" .. tostring(v) end
table.sort(variant)
print(string.format("bench-compile: %d configs of %s%s, NVRTC %s, arch %s, %d CPUs, cache %s, driver compute cache %s",
  #jobs, kernel, #variant > 0 and " (" .. table.concat(variant, ",") .. ")" or "", ver,
  jobs[1].arch or os.getenv("HTUNE_ARCH") or "sm_90", sys.ncpus, dir, driver_cache))
local ht = nv.huge_text()
print(string.format("libnvrtc on huge pages: %.0f of %.0f MB remapped (%s)", ht.huge / 2^20, ht.remapped / 2^20, ht.note))
print(string.format("%-8s %-8s %-6s %10s %8s %7s %7s %10s", "threads", "batch", "cache", "configs/s", "wall_s", "failed", "avg_b", "ms/config"))
local best_cold, serial, best_mode, mode = 0, nil, "", 0
for _, t in ipairs(o.threads) do
  for _, b in ipairs(o.batch) do
    mode = mode + 1
    jobs = slice(mode)
    nv.threads(t)
    nv.max_batch(b)
    nv.cache_clear()
    local rate, failed, avg_b, hits, wall, per_ms = run_all(jobs)
    if hits > 0 then io.stderr:write(("bench-compile: %d of %d cold compiles were cache hits\n"):format(hits, #jobs)) end
    if t == 1 and b == 1 then serial = rate end
    if rate > best_cold then best_cold, best_mode = rate, ("threads=%d batch=%d"):format(t, b) end
    print(string.format("%-8d %-8d %-6s %10.2f %8.2f %7d %7.2f %10.0f", t, b, "cold", rate, wall, failed, avg_b, per_ms))
  end
end
for _, p in ipairs(o.procs) do
  mode = mode + 1
  local rate, failed, hits, wall, per_ms = run_procs(mode, p)
  if hits > 0 then io.stderr:write(("bench-compile: %d cold compiles in the processes were cache hits\n"):format(hits)) end
  if rate > best_cold then best_cold, best_mode = rate, ("%d processes"):format(p) end
  print(string.format("%-8s %-8d %-6s %10.2f %8.2f %7d %7.2f %10.0f", p .. "proc", 1, "cold", rate, wall, failed, 1, per_ms))
end
-- Warm: every job a cache hit. The first pass also pays for growing the heap to hold all
-- results (large cubins when batched); later passes show the steady state.
local rate, first_rate
for pass = 1, 3 do
  collectgarbage()
  local r, failed, _, cached, wall = run_all(jobs)
  rate = math.max(rate or 0, r)
  first_rate = first_rate or r
  print(string.format("%-8d %-8d %-6s %10.2f %8.3f %7d %7s  (%d/%d cache hits, pass %d)", nv.threads(), nv.max_batch(),
    "warm", r, wall, failed, "-", cached, #jobs, pass))
end
local vs_serial = serial and (", %.2fx naive serial (threads=1 batch=1)"):format(best_cold / serial) or ""
print(("best cold: %.2f configs/s (%s)%s; warm: %.0f configs/s first pass, %.0f best"):format(
  best_cold, best_mode, vs_serial, first_rate, rate))
nv.cache_clear()
os.remove(dir)
return 0

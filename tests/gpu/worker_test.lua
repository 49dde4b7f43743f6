-- GPU tests of the measuring instrument: launch and time, copy bandwidth against the
-- device's own copy figure, failed trials for fault / trap / hang with the next trial fine,
-- a wrong result caught, and the live pipeline over a small space.
local htune = require "htune"
local sys = htune.sys
package.path = sys.root .. "/tests/gpu/?.lua;" .. package.path
local K = require "kernels"

local N = 1 << 20

local function saxpy_worker()
  local w = assert(htune.bench.worker())
  local ref = K.kernel("saxpy_ref")
  local args = { { buf = 1 }, { buf = 2 }, { buf = 3 }, { f32 = 2.0 }, { i32 = N } }
  assert(w:setup { buffers = { { dtype = "fp32", count = N, init = "random", seed = 1 },
                               { dtype = "fp32", count = N, init = "random", seed = 2 },
                               { dtype = "fp32", count = N } }, output = 3, atol = 1e-5, rtol = 1e-5,
                   reference = { image = ref.image, name = ref.name, grid = 1024, block = 256, args = args } })
  local function run(expr, timeout_ms)
    local k = K.kernel(expr)
    local t0 = sys.now_ms()
    assert(w:submit { image = k.image, name = k.name, grid = N // 256, block = 256, args = args,
                      opts = { time_cap_ms = 100 }, timeout_ms = timeout_ms or 3000 })
    local r
    repeat r = w:poll(20) until r
    r.wall_ms = sys.now_ms() - t0
    return r
  end
  return w, run
end

local T = {}

function T.saxpy_launch_and_time()
  local w, run = saxpy_worker()
  local r = run("saxpy")
  assert(r.ok, r.message)
  assert(r.check.mismatches == 0)
  assert(r.stats.median_us > 1 and r.stats.median_us < 1000, "median " .. r.stats.median_us)
  print(string.format("gpu-figure: saxpy n=2^20 median %.2f us (min %.2f, noise %.2f%%, reps %d, batch %d, converged %s)",
    r.stats.median_us, r.stats.min_us, r.stats.noise_pct, r.stats.reps, r.stats.batch, tostring(r.stats.converged)))
  w:close()
end

function T.wrong_result_is_caught()
  local w, run = saxpy_worker()
  local r = run("saxpy_wrong")
  assert(r.status == "wrong", r.status)
  assert(r.check.mismatches == 1 and r.check.first_bad == 100, r.message)
  print("gpu-figure: wrong kernel -> " .. r.message)
  w:close()
end

local function failure_then_ok(expr, want, timeout_ms)
  local w, run = saxpy_worker()
  local r = run(expr, timeout_ms)
  assert(r.status == want, expr .. " gave " .. tostring(r.status) .. ": " .. tostring(r.message))
  local r2 = run("saxpy")
  assert(r2.ok, "after " .. expr .. ": " .. tostring(r2.message))
  print(string.format("gpu-figure: %s -> %s (%s); restart %.0f ms; failed trial + restart %.0f ms; next trial ok after %.0f ms",
    expr, r.status, r.message, r.restart_ms or -1, r.wall_ms, r.wall_ms + r2.wall_ms))
  assert(w:restarts() == 1)
  w:close()
  return r, r2
end

function T.fault_then_next_trial_ok()
  local r, r2 = failure_then_ok("saxpy_fault", "fault")
  assert(r.wall_ms + r2.wall_ms < 1500, "recovery took " .. (r.wall_ms + r2.wall_ms) .. " ms")
end
function T.trap_then_next_trial_ok() failure_then_ok("saxpy_trap", "fault") end
function T.hang_then_next_trial_ok() failure_then_ok("saxpy_hang", "timeout", 2000) end

function T.copy_bandwidth_matches_device_copy()
  local n = 64 << 20   -- 256 MiB per buffer: far beyond L2
  local w = assert(htune.bench.worker())
  local k = K.kernel("copy4")
  local args = { { buf = 1 }, { buf = 2 }, { i64 = n // 4 } }
  assert(w:setup { buffers = { { dtype = "fp32", count = n, init = "random" }, { dtype = "fp32", count = n } }, output = 2,
                   reference = { image = k.image, name = k.name, grid = 4096, block = 256, args = args } })
  assert(w:submit { kind = "baseline", name = "memcpy", params = { 0 }, opts = { time_cap_ms = 300 } })
  local m
  repeat m = w:poll(20) until m
  assert(m.ok, m.message)
  local best
  for _, grid in ipairs { 132 * 8, 132 * 16, 132 * 32 } do
    assert(w:submit { image = k.image, name = k.name, grid = grid, block = 256, args = args, opts = { time_cap_ms = 300 } })
    local r
    repeat r = w:poll(20) until r
    assert(r.ok, r.message)
    if not best or r.stats.median_us < best.stats.median_us then best = r; best.grid = grid end
  end
  local bytes = 2 * 4 * n
  local bw, bw_ref = bytes / best.stats.median_us / 1e3, bytes / m.stats.median_us / 1e3
  print(string.format("gpu-figure: copy4 256 MiB grid %d: %.1f us = %.0f GB/s; cuMemcpyDtoDAsync %.1f us = %.0f GB/s; ratio %.3f",
    best.grid, best.stats.median_us, bw, m.stats.median_us, bw_ref, bw / bw_ref))
  assert(math.abs(bw - bw_ref) / bw_ref < 0.10, "copy kernel off the device copy figure by more than 10%")
  w:close()
end

-- The SM clock check on a real GPU: fields present and plausible, few discards for a steady
-- kernel, NVML reads rate-limited (~0.5 ms each on the H100), the median unchanged by
-- the check; with NVML missing (or made missing through libnvml=) it reports why, no failure.
local function saxpy_stats(opts, worker_opts)
  local w = assert(htune.bench.worker(worker_opts))
  local k = K.kernel("saxpy")
  local args = { { buf = 1 }, { buf = 2 }, { buf = 3 }, { f32 = 2.0 }, { i32 = N } }
  assert(w:setup { buffers = { { dtype = "fp32", count = N, init = "random", seed = 1 },
                               { dtype = "fp32", count = N, init = "random", seed = 2 }, { dtype = "fp32", count = N } },
                   output = 3 })
  assert(w:submit { image = k.image, name = k.name, grid = N // 256, block = 256, args = args, opts = opts, timeout_ms = 5000 })
  local r
  repeat r = w:poll(20) until r
  w:close()
  assert(r.ok, r.message)
  return r.stats
end

function T.sm_clock_fields_are_plausible()
  local s = saxpy_stats { time_cap_ms = 200 }
  if not s.clock_checked then
    assert(s.clock_note and s.clock_note:match("NVML unavailable"), "no clock check and no reason: " .. tostring(s.clock_note))
    print("gpu: skip SM clock figures: " .. s.clock_note)
    return
  end
  local total = s.reps + s.discarded + s.clock_discards
  local share = s.clock_read_us / (1000 * s.wall_ms)
  print(string.format("gpu-figure: saxpy SM clock %.0f-%.0f MHz (ref %.0f, rated %.0f), %d of %d samples discarded for clocks, reasons '%s'%s; %d NVML reads %.1f us each = %.2f%% of %.1f ms loop wall",
    s.clock_min_mhz, s.clock_max_mhz, s.clock_ref_mhz, s.clock_rated_mhz, s.clock_discards, total, s.clock_reasons,
    s.clock_note and (" (" .. s.clock_note .. ")") or "", s.clock_reads, s.clock_read_us / s.clock_reads, 100 * share, s.wall_ms))
  assert(s.clock_rated_mhz > 1000, "rated SM clock " .. s.clock_rated_mhz)
  assert(s.clock_max_mhz > 1000 and s.clock_max_mhz <= s.clock_rated_mhz + 1, "max SM clock " .. s.clock_max_mhz)
  assert(s.clock_min_mhz > 0 and s.clock_min_mhz <= s.clock_max_mhz)
  assert(s.clock_reads >= 1)
  assert(s.clock_discards <= math.max(64, 0.1 * total), s.clock_discards .. " of " .. total .. " discarded for a steady kernel")
  -- Reads happen while the GPU runs the samples, so they cost wall time only where a read
  -- outlasts its round; the loop's wall per sample with and without the check says so.
  local off = saxpy_stats { time_cap_ms = 200, clock_check = false }
  local ratio = s.median_us / off.median_us
  print(string.format("gpu-figure: saxpy median with clock check %.3f us, without %.3f us (ratio %.4f); loop wall %.1f vs %.1f ms",
    s.median_us, off.median_us, ratio, s.wall_ms, off.wall_ms))
  assert(off.clock_note == "clock check off (clock_check=false)" and off.clock_reads == 0)
  -- The ratio itself is a benchmark figure (printed above; scripts/bench-eval reports it): on a
  -- 16 ms loop one 2 ms NVML read moved it 0.3% in one H100 session and 3.7% in the next. The
  -- test guards against a design that reads in the timed path (19-21% when first measured).
  assert(math.abs(ratio - 1) < 0.10, "the clock check moved the median by " .. (ratio - 1) * 100 .. "%")
  -- Reads are at least clock_every_ms (50) apart: a 10 ms loop reads at warm-up and at most once more.
  assert(s.clock_reads <= 2 + s.wall_ms / 50, s.clock_reads .. " reads in a " .. s.wall_ms .. " ms loop")
end

function T.sm_clock_without_nvml_says_why()
  local s = saxpy_stats({ time_cap_ms = 50 }, { libnvml = "/nonexistent/libnvidia-ml.so.1" })
  assert(not s.clock_checked and s.clock_reads == 0 and s.clock_discards == 0)
  assert(s.clock_note and s.clock_note:match("^NVML unavailable: .*/nonexistent/"), tostring(s.clock_note))
  print("gpu-figure: without NVML -> " .. s.clock_note)
end

function T.live_pipeline_over_a_space()
  local p = K.saxpy_problem(N, { "saxpy_t" })
  local cfgs = {}
  for _, items in ipairs { 1, 2, 4, 8 } do
    for _, block in ipairs { 128, 256, 512 } do cfgs[#cfgs + 1] = { kernel = "saxpy_t", items = items, block = block } end
  end
  local streamed = 0
  local all, st = htune.evaluate(p, cfgs, { compiler = K.compiler(), on_result = function() streamed = streamed + 1 end })
  assert(all, st)
  assert(streamed == #cfgs and #all == #cfgs)
  local okn = 0
  for _, r in ipairs(all) do if r.ok or r.reason == "cutoff" then okn = okn + 1 end end
  assert(okn == #cfgs, okn .. " of " .. #cfgs .. " ok")
  print(string.format("gpu-figure: live pipeline %d configs in %.0f ms = %.1f configs/s, GPU idle share %.1f%% (nvrtc %s)",
    st.evals, st.wall_ms, st.configs_per_s, 100 * st.idle_share, tostring(K.nvrtc_available)))
end

return T

-- A synthetic tuning problem: a matmul-shaped space (tiles, warps, stages, scheduling) and an
-- analytic latency model (waves of tiles, occupancy, latency hiding, L2 reuse) with regions
-- that fail to compile, fault or give wrong results. Used by tests, examples and eval-strategies.
local S = require "htune.space"

local M = {}

local SMS, SMEM, FLOPS_PER_US, BW_PER_US = 132, 232448, 7.5e6, 25e3

local function efficiency(c)
  local ideal_warps = math.min(16, math.max(1, c.block_m * c.block_n / 4096))
  local warp_eff = 1 / (1 + 0.35 * math.abs(math.log(c.num_warps / ideal_warps, 2)))
  local hide = math.min(1, c.num_stages * c.block_k / 96)
  local stage_eff = (0.4 + 0.6 * hide) * (1 - 0.02 * math.max(0, c.num_stages - 4))
  local k_eff = ({ [16] = 0.8, [32] = 0.95, [64] = 1.0, [128] = 0.93 })[c.block_k]
  return warp_eff * stage_eff * k_eff
end

-- Latency in microseconds for problem size m, n, k, or nil and a failure reason.
local function latency(c, m, n, k)
  local threads = c.num_warps * 32
  local regs = c.block_m * c.block_n / threads + 40
  if regs > 255 then return nil, "compile", "register demand " .. math.floor(regs) .. " > 255" end
  if c.pid_type == "xyz" and c.block_m == 16 and c.block_n == 16 then return nil, "fault", "grid too large" end
  if c.num_stages == 1 and c.block_k == 128 and c.swizzle then return nil, "wrong", "max abs err 0.5" end
  local smem = 2 * (c.block_m + c.block_n) * c.block_k * c.num_stages
  local per_sm = math.min(SMEM // smem, 2048 // threads, 65536 // (math.ceil(regs) * threads), 32)
  if per_sm < 1 then return nil, "compile", "does not fit one SM" end
  local tiles = math.ceil(m / c.block_m) * math.ceil(n / c.block_n)
  local active = math.min(per_sm, math.ceil(tiles / SMS))
  local waves = math.ceil(tiles / (SMS * active))
  local occupancy = math.min(1, 0.55 + 0.45 * active * c.num_warps / 8)
  local compute = 2 * c.block_m * c.block_n * k / (FLOPS_PER_US * efficiency(c) * occupancy)
  local memory = 2 * (c.block_m + c.block_n) * k / (BW_PER_US * (c.swizzle and 3 or 1.8))
  local tile_us = math.max(compute, memory) + 0.2 * math.min(compute, memory)
  local sched = ({ flat = 1.0, xyz = (c.block_m == c.block_n) and 0.99 or 1.03,
                   persistent = waves > 1 and 0.96 or 1.06 })[c.pid_type]
  return 3 + waves * active * tile_us * sched
end

-- new{M=, N=, K=} -> problem table (space, landscape, key, baseline).
function M.new(shape)
  shape = shape or {}
  local m, n, k = shape.M or 1024, shape.N or 1024, shape.K or 1024
  local space = S.new {
    name = "toy_matmul",
    params = {
      { "block_m", S.pow2(16, 256), default = 64 },
      { "block_n", S.pow2(16, 256), default = 64 },
      { "block_k", S.pow2(16, 128), default = 32 },
      { "num_warps", S.pow2(1, 16), default = 4 },
      { "num_stages", S.int(1, 6, 1), default = 2 },
      { "pid_type", S.choice { "flat", "xyz", "persistent" } },
      { "swizzle", S.bool() },
    },
    bounds = { { name = "smem_bytes", max = SMEM,
                 terms = { { 2, "block_m", "block_k", "num_stages" }, { 2, "block_n", "block_k", "num_stages" } } } },
  }
  local problem = {
    name = "toy", shape = { M = m, N = n, K = k }, dtype = "fp16",
    key = string.format("toy/%dx%dx%d/fp16", m, n, k), space = space,
    flops = 2 * m * n * k, bytes = 2 * (m * k + k * n + m * n),
    landscape = function(cfg) return latency(cfg, m, n, k) end,
  }
  problem.baseline_us = problem.landscape(space:default())
  problem.baseline_name = "default config"
  return problem
end

return M

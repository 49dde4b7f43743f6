-- htune devices: the GPUs the CUDA driver reports, asked of a GPU worker process.
local cuda = require "htune.cuda"

local M = { summary = "list GPUs (name, CC, SMs, clocks, memory, bandwidth, L2, smem)",
            usage = "usage: htune devices [--fake]\n  --fake  show the CPU fake driver's device (tests)\n" }

local function mib(b) return b / (1024 * 1024) end

function M.run(args)
  local fake = args[1] == "--fake"
  local ok, info = cuda.init { fake = fake }
  if not ok then
    io.stderr:write("htune devices: " .. tostring(info) .. "\n")
    return 1
  end
  print(string.format("driver %d.%d (%s), %d device(s)", info.driver_version // 1000,
    (info.driver_version % 1000) // 10, info.api, #info.devices))
  for _, d in ipairs(info.devices) do
    print(string.format("[%d] %s  CC %s (%s)  %d SMs  SM clock %.0f MHz  memory %.1f GiB @ %.0f MHz x %d bit"
      .. " = %.0f GB/s peak  L2 %.0f MiB  smem %d KiB/block (opt-in %d KiB), %d KiB/SM  %d regs/SM",
      d.ordinal, d.name, d.cc, d.arch, d.sms, d.clock_mhz, d.mem_bytes / 2 ^ 30, d.mem_clock_mhz, d.bus_width_bits,
      d.peak_bandwidth_gbs, mib(d.l2_bytes), d.smem_per_block // 1024, d.smem_per_block_optin // 1024,
      d.smem_per_sm // 1024, d.regs_per_sm))
  end
  return 0
end

return M

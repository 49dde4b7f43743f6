-- Kernels and problems shared by the GPU tests and scripts/bench-eval, and a compiler with
-- htune.nvrtc's submit/ready/wait shape that falls back to cubins prebuilt on the build
-- machine (build-*/gpu-cubins, written whenever NVRTC works) when the GPU machine has no NVRTC.
local htune = require "htune"
local sys = htune.sys

local M = {}

M.source = [[
extern "C" __global__ void saxpy(const float *x, const float *y, float *out, float a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = a * x[i] + y[i];
}
extern "C" __global__ void saxpy_ref(const float *x, const float *y, float *out, float a, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) out[i] = a * x[i] + y[i];
}
extern "C" __global__ void saxpy_wrong(const float *x, const float *y, float *out, float a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = a * x[i] + y[i] + (i == 100 ? 1.0f : 0.0f);
}
extern "C" __global__ void saxpy_fault(const float *x, const float *y, float *out, float a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i == 0) *(volatile float *)(out + (1ull << 40)) = 1.0f;   // illegal address
  if (i < n) out[i] = a * x[i] + y[i];
}
extern "C" __global__ void saxpy_trap(const float *x, const float *y, float *out, float a, int n) {
  if (blockIdx.x == 0 && threadIdx.x == 0) __trap();
}
extern "C" __global__ void saxpy_hang(const float *x, const float *y, float *out, float a, int n) {
  volatile const float *vx = x;
  while (vx[0] != 12345.0f) {}                                  // x is in [-1, 1): never ends
}
// items per thread and block size as template parameters: a small space for pipeline tests
template <int ITEMS> __global__ void saxpy_t(const float *x, const float *y, float *out, float a, int n) {
  int base = (blockIdx.x * blockDim.x) * ITEMS + threadIdx.x;
#pragma unroll
  for (int k = 0; k < ITEMS; k++) {
    int i = base + k * blockDim.x;
    if (i < n) out[i] = a * x[i] + y[i];
  }
}
extern "C" __global__ void copy4(const float4 *src, float4 *dst, long long n4) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n4; i += (long long)gridDim.x * blockDim.x)
    dst[i] = src[i];
}
// one block spinning for `cycles` SM clocks: a kernel of known duration for overhead figures
extern "C" __global__ void spin(const float *x, const float *y, float *out, float a, long long cycles) {
  long long t0 = clock64();
  while (clock64() - t0 < cycles) {}
  if (threadIdx.x == 0 && blockIdx.x == 0) out[0] = x[0];
}
]]

local function cubin_dir()
  local root = sys.root .. "/" .. (os.getenv("BUILD") or "build-cuda")
  return root .. "/gpu-cubins"
end

local function key(job)
  return sys.hash(table.concat({ job.source, table.concat(job.name_exprs, ","), job.arch or "", table.concat(job.options or {}, " ") }, "\0"))
end

local function ready_handle(res) return { ready = function() return true end, wait = function() return res end } end

local function read_prebuilt(job)
  local f = io.open(cubin_dir() .. "/" .. key(job) .. ".lua", "rb")
  if not f then return { ok = false, log = "no NVRTC here and no prebuilt cubin for " .. job.name_exprs[1] } end
  local chunk = f:read("a")
  f:close()
  return load(chunk, "prebuilt", "t", {})()
end

local function write_prebuilt(job, res)
  sys.mkdirs(cubin_dir())
  local lowered = {}
  for k, v in pairs(res.lowered or {}) do lowered[#lowered + 1] = string.format("[%q]=%q", k, v) end
  sys.write_atomic(cubin_dir() .. "/" .. key(job) .. ".lua", string.format(
    "return {ok=true, cubin=%q, lowered={%s}, compile_ms=%.3f, facts={}, prebuilt=true}", res.cubin, table.concat(lowered, ","), res.compile_ms or 0))
end

-- compiler{prebuild=bool}: nvrtc when it works (saving cubins when prebuild), else prebuilt.
function M.compiler(opts)
  local ok, nvrtc = pcall(require, "htune.nvrtc")
  local has = ok and nvrtc.version() ~= nil
  M.nvrtc_available = has
  return {
    submit = function(job)
      job.arch = job.arch or "sm_90"
      if not has then return ready_handle(read_prebuilt(job)) end
      local h = nvrtc.submit(job)
      if not (opts and opts.prebuild) then return h end
      return { ready = function() return h:ready() end,
               wait = function() local r = h:wait(); if r.ok then write_prebuilt(job, r) end; return r end }
    end,
    wait_any = has and nvrtc.wait_any or nil,
  }
end

-- A saxpy problem (fp32, n elements); kernel = the config's name_expr.
function M.saxpy_problem(n, names)
  local S = htune.space
  local args = function() return { "X", "Y", "OUT", { f32 = 2.0 }, { i32 = n } } end
  return {
    name = "saxpy", source = M.source, dir = sys.root .. "/tests/gpu", tolerance = { atol = 1e-5, rtol = 1e-5 },
    space = S.new { name = "saxpy", params = { { "kernel", S.choice(names) }, { "items", S.choice { 1, 2, 4, 8 } },
                                               { "block", S.pow2(64, 1024) } } },
    compile = function(c) return { name_expr = c.kernel == "saxpy_t" and ("saxpy_t<" .. c.items .. ">") or c.kernel,
                                   options = { "-std=c++17" } } end,
    launch = function(c)
      local per = c.kernel == "saxpy_t" and c.block * c.items or c.block
      return { grid = { (n + per - 1) // per, 1, 1 }, block = { c.block, 1, 1 }, smem = 0 }
    end,
    buffers = { { name = "X", dtype = "fp32", count = n, init = "random", seed = 1 },
                { name = "Y", dtype = "fp32", count = n, init = "random", seed = 2 },
                { name = "OUT", dtype = "fp32", count = n, output = true } },
    args = args,
    reference = { name_expr = "saxpy_ref", launch = function() return { grid = { 1024 }, block = { 256 } } end, args = args },
    flops = 2 * n, bytes = 12 * n,
  }
end

-- Compiles every test kernel once (fills the prebuilt folder when NVRTC works).
function M.prebuild()
  local c = M.compiler { prebuild = true }
  local exprs = { "saxpy", "saxpy_ref", "saxpy_wrong", "saxpy_fault", "saxpy_trap", "saxpy_hang", "copy4", "spin",
                  "saxpy_t<1>", "saxpy_t<2>", "saxpy_t<4>", "saxpy_t<8>" }
  local n = 0
  for _, e in ipairs(exprs) do
    local r = c.submit { source = M.source, name = "saxpy.cu", name_exprs = { e }, options = { "-std=c++17" },
                         include_dirs = { sys.root .. "/tests/gpu" }, arch = "sm_90" }:wait()
    if r.ok then n = n + 1 end
  end
  return n, #exprs
end

-- Compiles one kernel synchronously: {image=, name=} or raises.
function M.kernel(expr)
  local r = M.compiler().submit { source = M.source, name = "saxpy.cu", name_exprs = { expr }, options = { "-std=c++17" },
                                  include_dirs = { sys.root .. "/tests/gpu" }, arch = "sm_90" }:wait()
  assert(r.ok, r.log)
  return { image = r.cubin, name = r.lowered[expr] or expr }
end

return M

-- Runs tests/gpu/wgmma_test.lua alone (tests/gpu/run.lua runs every GPU test):
--   build/htune run kernels/matmul_wgmma/gpu_check.lua
local htune = require "htune"
local ok_dev, why = htune.cuda.init()
if not ok_dev then print("gpu: skipped: " .. tostring(why)); return 0 end
local tests = dofile(htune.sys.root .. "/tests/gpu/wgmma_test.lua")
local names, passed, failed = {}, 0, 0
for name in pairs(tests) do names[#names + 1] = name end
table.sort(names)
for _, name in ipairs(names) do
  local t0 = htune.sys.now_ms()
  local ok, err = xpcall(tests[name], debug.traceback)
  if ok then passed = passed + 1 else failed = failed + 1 end
  print(string.format("%s %s (%.0f ms)%s", ok and "ok" or "FAIL", name, htune.sys.now_ms() - t0, ok and "" or ("\n" .. tostring(err))))
end
print(string.format("%d passed, %d failed", passed, failed))
return failed == 0 and 0 or 1

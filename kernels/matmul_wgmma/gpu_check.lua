-- Runs tests/gpu/wgmma_test.lua alone (tests/gpu/run.lua with its file filter):
--   build/htune run kernels/matmul_wgmma/gpu_check.lua
arg = { "wgmma" }
return dofile(require("htune").sys.root .. "/tests/gpu/run.lua")

-- GPU test runner: runs every tests/gpu/*_test.lua on the device; without a CUDA driver it
-- prints why it skips and reports zero tests. Each test file returns a table name -> function.
--   build/htune run tests/gpu/run.lua [FILE_PART [NAME_PART]]   (only files / test names containing them)
local htune = require "htune"
local sys = htune.sys

local dir = sys.root .. "/tests/gpu"
local cuda = htune.cuda
local ok_dev, why = false, "htune.cuda is not built yet"
if cuda.available ~= false and cuda.init then ok_dev, why = cuda.init() end
if not ok_dev then
  print("gpu: skipped: " .. tostring(why))
  print("0 passed, 0 failed")
  return 0
end

local passed, failed, skipped = 0, 0, 0
for _, f in ipairs(sys.listdir(dir) or {}) do
  if f:match("_test%.lua$") and (not arg[1] or f:find(arg[1], 1, true)) then -- arg[1]: only files containing it
    local tests = dofile(dir .. "/" .. f)
    local names = {}
    for name in pairs(tests) do
      if not arg[2] or name:find(arg[2], 1, true) then names[#names + 1] = name end   -- arg[2]: only names containing it
    end
    table.sort(names)
    for _, name in ipairs(names) do
      local t0 = sys.now_ms()
      local ok, err, why = xpcall(tests[name], debug.traceback)
      if ok and err == "skip" then   -- check.skip(why): not run here, neither passed nor failed
        skipped = skipped + 1
        print(string.format("skip %s:%s: %s", f, name, tostring(why)))
      else
        if ok then passed = passed + 1 else failed = failed + 1 end
        print(string.format("%s %s:%s (%.0f ms)%s", ok and "ok" or "FAIL", f, name, sys.now_ms() - t0,
          ok and "" or ("\n" .. tostring(err))))
      end
    end
  end
end
print(string.format("%d passed, %d failed, %d skipped", passed, failed, skipped))
return failed == 0 and 0 or 1

-- Checks a database left by tests/cli/store.sh's kill loop: one run, configs 1..N each exactly
-- once, and every trial a killed child had seen committed still holds that child's measurement.
-- usage: htune run store_check.lua DB N OUT_FILES...  (prints "ok ..." or raises)
local st = assert(require("htune.store").open(arg[1]))
local n = tonumber(arg[2])
local runs = assert(st:runs())
assert(#runs == 1, "expected 1 run (each restart resumes it), found " .. #runs)
local rows = assert(st:trials(runs[1].id))
local by_a, hashes = {}, {}
for _, r in ipairs(rows) do
  local a = tonumber(r.cfg:match('"a":(%d+)'))
  assert(not by_a[a], "config a=" .. tostring(a) .. " stored twice")
  assert(not hashes[r.hash], "hash " .. r.hash .. " stored twice")
  by_a[a], hashes[r.hash] = r, true
end
assert(#rows == n, string.format("expected %d trials, found %d", n, #rows))
for a = 1, n do assert(by_a[a], "config a=" .. a .. " missing") end
local promised, lost_in_flight = 0, 0
for i = 3, #arg do
  local session, committed = {}, 0
  for line in io.lines(arg[i]) do
    local a, lat, c = line:match("^T (%d+) (%d+) (%d+)$")
    if a then
      session[#session + 1] = { a = tonumber(a), lat = tonumber(lat) }
      committed = math.max(committed, tonumber(c))
    end
  end
  for j = 1, committed do
    local t = session[j]
    local row = by_a[t.a]
    assert(row.latency_us == t.lat, string.format("%s: committed trial a=%d lost or re-measured (%s, want %d)",
      arg[i], t.a, tostring(row.latency_us), t.lat))
  end
  promised = promised + committed
  lost_in_flight = lost_in_flight + (#session - committed)
end
print(string.format("ok %d trials, %d promised durable by killed runs all kept, %d printed but in flight", #rows, promised, lost_in_flight))

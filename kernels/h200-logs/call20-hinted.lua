-- hinted.lua IN OUT: the rows of IN whose config uses an L2 hint on the 16-byte path
local htune = require "htune"
local replay = require "htune.backends.replay"
local t = assert(replay.read(arg[1]))
local p = htune.problem("matmul", {})
local sp = p.space
local keep = {}
for _, r in ipairs(t.rows) do
  if r.latency_us then
    local c = sp:at(r.index)
    local ev = c.load_eviction_policies
    if c.vector_width == 8 and (ev[1] ~= "" or ev[2] ~= "") then keep[#keep + 1] = r end
  end
end
local meta = {}
for k, v in pairs(t.meta) do if k ~= "htune-replay" and k ~= "problem" and k ~= "space" and k ~= "columns" and k ~= "sample_rows" then meta[k] = v end end
table.sort(keep, function(a, b) return a.latency_us < b.latency_us end)
print(#keep, "hinted rows of", #t.rows, "fastest", keep[1].latency_us)
assert(replay.write_indexed(arg[2], t.meta.problem, t.meta.space, keep, meta))

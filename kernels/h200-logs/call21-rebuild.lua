-- rebuild.lua BASE NEW OUT: BASE's rows as they are (first, in order, so its sample block stays
-- first), then NEW's rows for configs BASE lacks; NEW's header, with how/closed/drift fixed.
local replay = require "htune.backends.replay"
local base, new = assert(replay.read(arg[1])), assert(replay.read(arg[2]))
local have, rows = {}, {}
for _, r in ipairs(base.rows) do have[r.index] = true; rows[#rows + 1] = r end
local added = 0
for _, r in ipairs(new.rows) do if not have[r.index] then have[r.index] = true; rows[#rows + 1] = r; added = added + 1 end end
local meta = {}
for k, v in pairs(new.meta) do if not ({ ["htune-replay"] = 1, problem = 1, space = 1, columns = 1 })[k] then meta[k] = v end end
meta.how = base.meta.how .. string.format("; plus %d configs the strategies visit (commit %s, call 20): %s", added, new.meta.commit, new.meta.closed)
meta.drift = new.meta.drift .. " (re-measured values not kept: BASE's readings stand)"
print(added, "added", #rows, "rows")
assert(replay.write_indexed(arg[3], base.meta.problem, base.meta.space, rows, meta))

-- merge-tables: adds the rows of further random samples of a space to a replay table's sample
-- block, so that nearest="sample" (eval-strategies --sample-nearest) and the `sample_rows`
-- count cover them, and keeps every reading BASE already has:
--   htune run scripts/merge-tables.lua BASE SAMPLE... --out FILE
-- FILE holds BASE's sample block (its first `sample_rows` distinct configs; all of BASE when it
-- has no such header), then each SAMPLE's rows in order, then BASE's other rows. A config BASE
-- already holds keeps BASE's readings (its rows move into the sample block), so a table closed by
-- record --close-over stays exact for its runs; a config two SAMPLEs share keeps the first
-- reading. The header is BASE's, with `how` and `sample_rows` updated.
local replay = require "htune.backends.replay"

local USAGE = "usage: htune run scripts/merge-tables.lua BASE SAMPLE... --out FILE"
local function die(msg)
  io.stderr:write("merge-tables: ", msg, "\n", USAGE, "\n")
  os.exit(2)
end

local paths, out = {}, nil
local i = 1
while arg[i] do
  if arg[i] == "--out" then out = arg[i + 1] or die("--out needs a value"); i = i + 2
  elseif arg[i] == "--help" or arg[i] == "-h" then print(USAGE) os.exit(0)
  elseif arg[i]:match("^%-%-") then die("unknown option '" .. arg[i] .. "'")
  else paths[#paths + 1] = arg[i]; i = i + 1 end
end
if not out then die("--out FILE is required") end
if #paths < 2 then die("needs BASE and at least one SAMPLE table, got " .. #paths) end

local tables = {}
for k, p in ipairs(paths) do
  local t, err = replay.read(p)
  if not t then die(err) end
  if k > 1 and t.meta.space ~= tables[1].meta.space then
    die(string.format("%s holds space '%s', %s holds '%s'", p, tostring(t.meta.space), paths[1], tostring(tables[1].meta.space)))
  end
  tables[k] = t
end

local base = tables[1]
local n_sample = base.meta.sample_rows and math.tointeger(tonumber(base.meta.sample_rows))
if base.meta.sample_rows and (not n_sample or n_sample < 1) then
  die(paths[1] .. ": sample_rows must be a whole number >= 1, got '" .. base.meta.sample_rows .. "'")
end
local base_rows = {}      -- index -> BASE's rows of that config
local in_block = {}       -- index -> true for BASE's sample block
local distinct = 0
for _, r in ipairs(base.rows) do
  if not base_rows[r.index] then
    base_rows[r.index] = {}
    distinct = distinct + 1
    if not n_sample or distinct <= n_sample then in_block[r.index] = true end
  end
  table.insert(base_rows[r.index], r)
end

local rows, placed, block = {}, {}, 0
local function place(index, list)
  placed[index] = true
  for _, r in ipairs(list) do rows[#rows + 1] = r end
end
for _, r in ipairs(base.rows) do
  if in_block[r.index] and not placed[r.index] then place(r.index, base_rows[r.index]); block = block + 1 end
end
local added, kept = 0, 0
for k = 2, #tables do
  for _, r in ipairs(tables[k].rows) do
    if not placed[r.index] then
      if base_rows[r.index] then place(r.index, base_rows[r.index]); kept = kept + 1
      else place(r.index, { r }); added = added + 1 end
      block = block + 1
    end
  end
end
for _, r in ipairs(base.rows) do
  if not placed[r.index] then place(r.index, base_rows[r.index]) end
end

local meta = {}
for key, v in pairs(base.meta) do meta[key] = v end
for _, key in ipairs { "htune-replay", "problem", "space", "columns" } do meta[key] = nil end
meta.sample_rows = block
local how = {}
for k = 2, #tables do how[#how + 1] = string.format("%s (%s)", paths[k]:match("[^/]*$"), tables[k].meta.how or "?") end
meta.how = string.format("%s; sample block merged with %s: %d new configs, %d that BASE held keep its readings",
  base.meta.how or "?", table.concat(how, ", "), added, kept)
local ok, err = replay.write_indexed(out, base.meta.problem, base.meta.space, rows, meta)
if not ok then die(err) end
print(string.format("merge-tables: wrote %d rows (%d distinct configs, %d in the sample block: %d from BASE, %d new, %d BASE held) to %s",
  #rows, distinct + added, block, block - added - kept, added, kept, out))

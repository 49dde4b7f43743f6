-- ab-variants: template variants against the default on named configs of one shape, in one
-- process on the GPU (htune.ab: rounds alternate the variants' order; medians per config).
--   htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096
--       --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=3 [--config ...]
--       --variant LABEL:NAME=V[,NAME=V] [--variant ...] [--rounds 5] [--backend live|synthetic]
--       [--opt NAME=V[,NAME=V]] [--force] [--no-check]
-- A config names the parameters it changes from the space's default; a list value takes colons
-- (loop_order=1:0, load_eviction_policies=first:). In a variant, an
-- upper-case NAME is a template macro; a lower-case one is a config parameter set on every
-- config where the space has it (cluster=2 also turns on matmul_wgmma's clusters), else a
-- problem option (tile_order=compiled). --opt sets problem options on the base and every variant
-- (--opt loads=tma_ws compares variants of the TMA kernel). --force times configs the space's constraints reject
-- (to see whether a constraint is too strict), saying so. --no-check times without checking the
-- results against the reference (diagnostic variants wrong by design, e.g. MATMUL_WS_NOLOAD=1
-- or MATMUL_WS_NOMMA=1 of matmul's tma_ws kernel), and says so in the header line.
require("htune.usage").on_help(arg)
local ab = require "htune.ab"

local function die(msg)
  io.stderr:write("ab-variants: ", msg, "\n")
  os.exit(2)
end

local o = { problem = "matmul", configs = {}, variants = {}, rounds = 5 }
local i = 1
while arg[i] do
  local a, v = arg[i], arg[i + 1]
  if a == "--force" then o.force, i = true, i + 1 goto next end -- the flags without a value
  if a == "--no-check" then o.no_check, i = true, i + 1 goto next end
  if v == nil then die(a .. " needs a value (see --help)") end
  if a == "--problem" then o.problem = v
  elseif a == "--shape" then
    o.shape = require("htune.problem").parse_shape(v)
    if not o.shape then die("--shape wants MxNxK (positive whole numbers), got '" .. v .. "'") end
  elseif a == "--config" then
    local c, err = ab.parse_config(v)
    if not c then die(err) end
    o.configs[#o.configs + 1] = c
  elseif a == "--opt" then -- as bench-tune's: lower-case names, numbers and true/false read as such
    o.opts = require("htune.problem").parse_opts(v, o.opts)
    if not o.opts then die("--opt wants name=v[,name=v] (lower-case problem options), got '" .. v .. "'") end
  elseif a == "--backend" then o.backend = v
  elseif a == "--variant" then
    local var, err = ab.parse_variant(v)
    if not var then die(err) end
    o.variants[#o.variants + 1] = var
  elseif a == "--rounds" then
    o.rounds = math.tointeger(tonumber(v))
    if not o.rounds or o.rounds < 1 then die("--rounds wants a whole number >= 1, got '" .. v .. "'") end
  else die("unknown argument '" .. a .. "' (see --help)") end
  i = i + 2
  ::next::
end
if #o.configs == 0 then die("name at least one --config") end
if #o.variants == 0 then die("name at least one --variant") end
local rows, variants = ab.run(o)
local sh = o.shape or {}
print(string.format("== %s %sx%sx%s (medians of %d rounds, us; ratio to base%s)", o.problem,
  sh.M or "?", sh.N or "?", sh.K or "?", o.rounds, o.no_check and "; results NOT checked" or ""))
print(ab.format(rows, variants))

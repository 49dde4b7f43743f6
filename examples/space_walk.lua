-- Samples the seed's Helion matmul space, walks a pattern search on a TOY objective (no GPU).
local htune = require "htune"
local sp = dofile(htune.sys.root .. "/lua/htune/spaces/helion_matmul.lua")
local r = htune.rng(tonumber(arg and arg[1]) or 7)
local cfgs, seen, distinct = {}, {}, 0
for i = 1, 1000 do
  cfgs[i] = sp:sample(r)
  local h = sp:hash(cfgs[i])
  if not seen[h] then seen[h], distinct = true, distinct + 1 end
end
print(("%s: %d configs; sampled 1000, %d distinct"):format(sp:name(), (sp:size()), distinct))
for i = 1, 3 do print(#sp:neighbors(cfgs[i]) .. " neighbours of", sp:to_json(cfgs[i])) end
-- Toy score, not a measurement: distance from 128x128x32, 8 warps, 4 stages.
local function toy(c)
  local l = function(x, y) return math.abs(math.log(x / y, 2)) end
  return l(c.block_m, 128) + l(c.block_n, 128) + l(c.block_k, 32) + l(c.num_warps, 8) + math.abs(c.num_stages - 4)
end
local best, rounds = cfgs[1], 0
repeat
  local moved = false
  for _, n in ipairs(sp:neighbors(best)) do
    if toy(n) < toy(best) then best, moved = n, true end
  end
  rounds = rounds + 1
until not moved
print(("toy score %.2f after %d rounds: %s"):format(toy(best), rounds, sp:to_json(best)))

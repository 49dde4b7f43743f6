-- Live progress of a tuning run: one rewritten line on a TTY (evals, configs/s, best so far,
-- % of the baseline), plain lines otherwise (on each new best and every few seconds), or
-- nothing with quiet. Plain lines come at most every 250 ms. Writes to stderr so a script's stdout stays clean.
local sys = require "htune.sys"

local M = {}
local P = {}
P.__index = P

-- new{quiet=, total=, strategy=, baseline_us=, baseline_name=, out=, tty=, every_ms=}
function M.new(o)
  o = o or {}
  local out = o.out or io.stderr
  local tty = o.tty
  if tty == nil then tty = sys.isatty(2) end
  return setmetatable({
    quiet = o.quiet, total = o.total, strategy = o.strategy or "?", baseline_us = o.baseline_us,
    baseline_name = o.baseline_name or "baseline", out = out, tty = tty,
    every_ms = o.every_ms or (tty and 100 or 2000), last_ms = -math.huge, last_best = nil,
  }, P)
end

-- The status line for a run's current state.
function P:line(evals, elapsed_s, best_us)
  local parts = { string.format("[%s] %d", self.strategy, evals) }
  if self.total then parts[1] = parts[1] .. "/" .. self.total end
  parts[1] = parts[1] .. " evals"
  parts[#parts + 1] = string.format("%.1f cfg/s", elapsed_s > 0 and evals / elapsed_s or 0)
  if best_us then
    parts[#parts + 1] = string.format("best %.2f us", best_us)
    if self.baseline_us then
      parts[#parts + 1] = string.format("%.0f%% of %s", 100 * self.baseline_us / best_us, self.baseline_name)
    end
  end
  return table.concat(parts, "  ")
end

function P:update(run)
  if self.quiet then return end
  local now = sys.now_ms()
  local best = run.state.best and run.state.best.latency_us
  local improved = best and best ~= self.last_best
  local since = now - self.last_ms
  if since < self.every_ms and not (improved and not self.tty and since >= 250) then return end
  self.last_ms, self.last_best = now, best
  local text = self:line(run.state.evals, (now - run.t0) / 1000, best)
  if self.tty then self.out:write("\r\27[K", text) else self.out:write(text, "\n") end
  self.out:flush()
end

function P:finish(res)
  if self.quiet then return end
  local best = res.best and res.best.latency_us
  local text = self:line(res.evals, res.wall_s, best) ..
      string.format("  in %.2f s, stopped: %s", res.wall_s, res.stopped_because) ..
      ((res.twins or 0) > 0 and string.format(" (%d evals were twins of measured configs: same kernel and launch)", res.twins) or "")
  if self.tty then self.out:write("\r\27[K") end
  self.out:write(text, "\n")
  if res.message then self.out:write("htune: ", res.message, "\n") end
  self.out:flush()
end

return M

-- A short prompt template (no source, no diverse configs): the B side of examples/prompt_ab.lua.
return {
  system = "You tune GPU kernel parameters. Reply with a JSON array only.",
  user = function(ctx)
    return table.concat({
      "Problem: " .. ctx.problem_text,
      "Parameters:\n" .. ctx.space_text,
      "Best so far:\n" .. ctx.best_text,
      "Rejected before:\n" .. ctx.rejected_text,
      "Give " .. ctx.n .. " new configs as a JSON array of objects with keys " .. table.concat(ctx.names, ", ") .. ".",
      ctx.space_block,
    }, "\n\n")
  end,
}

-- The default prompt template: everything htune knows, in sections. Copy this file, edit it and
-- pass its path as strategy_options.template (or `htune prompt render --template FILE`).
-- ctx fields: n, names, source, space_text, device_text, problem_text, best_text, diverse_text,
-- failures_text, rejected_text, space_block, evals, note.
return {
  system = "You are an expert CUDA performance engineer tuning a GPU kernel's compile-time "
    .. "parameters. You answer with a JSON array of configurations and nothing else matters.",
  user = function(ctx)
    return table.concat({
      "## Kernel source\n```cuda\n" .. ctx.source .. "\n```",
      "## Problem\n" .. ctx.problem_text,
      "## Device\n" .. ctx.device_text,
      "## Parameters (name: meaning. legal values)\n" .. ctx.space_text,
      "## Fastest configs so far (latency, config) after " .. ctx.evals .. " measurements\n" .. ctx.best_text,
      "## Other measured configs, chosen to be different from the best\n" .. ctx.diverse_text,
      "## Recent failures (config: reason)\n" .. ctx.failures_text,
      "## Your earlier proposals that were rejected (entry: reason)\n" .. ctx.rejected_text,
      "## Note\n" .. (ctx.note or "(none)"),
      "## Task\nPropose " .. ctx.n .. " NEW configurations likely to be faster than the fastest above. "
        .. "Think about tile reuse, occupancy, shared-memory limits and latency hiding on this device. "
        .. "Do not repeat measured configs. Reply with a JSON array of " .. ctx.n
        .. " objects in a ```json fenced block; each object has exactly the keys "
        .. table.concat(ctx.names, ", ") .. " and only legal values.",
      "Machine-readable summary of the space:\n" .. ctx.space_block,
    }, "\n\n")
  end,
}

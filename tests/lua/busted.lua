-- Runs busted inside htune, so specs can require the htune C modules:
--   build/htune run tests/lua/busted.lua [busted options] tests/lua
require "busted.runner" ({ standalone = false })

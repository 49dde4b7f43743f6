/* htune.bench: Lua binding (placeholder until its issue lands: an empty module). */
#include "runtime.h"
#include <lauxlib.h>

int luaopen_htune_bench(lua_State *L) {
    lua_newtable(L);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "available");
    return 1;
}

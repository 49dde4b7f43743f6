/* htune entry point: hands argv to the Lua CLI (lua/htune/cli/main.lua), which owns
 * command routing; C keeps only --version and the hidden GPU worker mode. */
#include "runtime.h"
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "__worker") == 0) { int worker_main(int, char **); return worker_main(argc, argv); }
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("htune %s\n", HTUNE_VERSION);
        return 0;
    }
    lua_State *L = runtime_new();
    if (!L) return 1;
    char cli[4200];
    snprintf(cli, sizeof cli, "%s/lua/htune/cli/main.lua", runtime_root());
    if (luaL_loadfile(L, cli) != LUA_OK) {
        fprintf(stderr, "htune: cannot load the Lua library (set HTUNE_ROOT to the folder holding lua/): %s\n",
                lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    for (int i = 1; i < argc; i++) lua_pushstring(L, argv[i]);
    int status = runtime_docall(L, argc - 1, 1);
    int code = 1;
    if (status == LUA_OK) code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 0;
    lua_close(L);
    return code;
}

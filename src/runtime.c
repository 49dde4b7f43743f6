/* The Lua runtime: state setup, module preloads, package.path, protected calls.
 * Only this file, main.c and the l*.c bindings include Lua headers. */
#include "runtime.h"
#include "util.h"
#include <lauxlib.h>
#include <lua-cjson.h>

int luaopen_cjson_safe(lua_State *L); /* in liblua5.4-cjson.a, not in its header */
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root_dir[4096] = ".";

static int has_lua_tree(const char *dir) {
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/lua/htune/init.lua", dir);
    return access(probe, R_OK) == 0;
}

/* $HTUNE_ROOT, then the source tree (exe in build/), then an install (exe in bin/). */
static void find_root(void) {
    const char *env = getenv("HTUNE_ROOT");
    if (env && has_lua_tree(env)) {
        snprintf(root_dir, sizeof root_dir, "%s", env);
        return;
    }
    char exe[4096], cand[4200];
    if (util_exe_dir(exe, sizeof exe) != 0) return;
    const char *rel[] = {"..", "../share/htune", "../..", NULL};
    for (int i = 0; rel[i]; i++) {
        snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]);
        char *real = realpath(cand, NULL);
        if (real && has_lua_tree(real)) {
            snprintf(root_dir, sizeof root_dir, "%s", real);
            free(real);
            return;
        }
        free(real);
    }
}

const char *runtime_root(void) { return root_dir; }

static const luaL_Reg preloads[] = {
    {"cjson", luaopen_cjson},
    {"cjson.safe", luaopen_cjson_safe},
    {"htune.sys", luaopen_htune_sys},
    {"htune.space", luaopen_htune_space},
    {"htune.rng", luaopen_htune_rng},
    {"htune.nvrtc", luaopen_htune_nvrtc},
    {"htune.cuda", luaopen_htune_cuda},
    {"htune.bench", luaopen_htune_bench},
    {"htune.llm", luaopen_htune_llm},
    {"htune.store", luaopen_htune_store},
    {NULL, NULL},
};

static void set_paths(lua_State *L) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const luaL_Reg *r = preloads; r->name; r++) {
        lua_pushcfunction(L, r->func);
        lua_setfield(L, -2, r->name);
    }
    lua_pop(L, 1);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua;%s", root_dir, root_dir, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
}

lua_State *runtime_new(void) {
    if (strcmp(root_dir, ".") == 0) find_root();
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "htune: cannot create Lua state: out of memory\n");
        return NULL;
    }
    luaL_openlibs(L);
    set_paths(L);
    return L;
}

static int msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int runtime_docall(lua_State *L, int narg, int nres) {
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    int status = lua_pcall(L, narg, nres, base);
    lua_remove(L, base);
    if (status != LUA_OK) {
        fprintf(stderr, "htune: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    return status;
}

int runtime_run_file(lua_State *L, const char *path, int argc, char **argv) {
    lua_createtable(L, argc, 1);
    lua_pushstring(L, path);
    lua_rawseti(L, -2, 0);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "arg");
    if (luaL_loadfile(L, path) != LUA_OK) {
        fprintf(stderr, "htune: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return 1;
    }
    for (int i = 0; i < argc; i++) lua_pushstring(L, argv[i]);
    return runtime_docall(L, argc, 0) == LUA_OK ? 0 : 1;
}

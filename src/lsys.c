/* htune.sys: process facts and small OS helpers for the Lua side (clock, tty, files,
 * directory listing, hashing) and the instruction budget that guards user strategies. */
#include "runtime.h"
#include "util.h"
#include <dirent.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int sys_now_ms(lua_State *L) {
    lua_pushnumber(L, util_now_ms());
    return 1;
}

static int sys_sleep_ms(lua_State *L) {
    double ms = luaL_checknumber(L, 1);
    if (ms < 0) return luaL_argerror(L, 1, lua_pushfstring(L, "sleep time must be >= 0, got %f", ms));
    struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1e6)};
    nanosleep(&ts, NULL);
    return 0;
}

static int sys_isatty(lua_State *L) {
    lua_pushboolean(L, isatty((int)luaL_optinteger(L, 1, 1)));
    return 1;
}

/* listdir(path) -> sorted array of entry names, or nil, message */
static int sys_listdir(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    DIR *d = opendir(path);
    if (!d) {
        luaL_pushfail(L);
        lua_pushfstring(L, "cannot list '%s'", path);
        return 2;
    }
    lua_newtable(L);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        lua_pushstring(L, e->d_name);
        lua_rawseti(L, -2, ++n);
    }
    closedir(d);
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, -3);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    return 1;
}

static int sys_mkdirs(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    if (util_mkdirs(path) != 0) {
        luaL_pushfail(L);
        lua_pushfstring(L, "cannot create directory '%s'", path);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int sys_write_atomic(lua_State *L) {
    size_t n;
    const char *path = luaL_checkstring(L, 1);
    const char *data = luaL_checklstring(L, 2, &n);
    char err[512];
    if (util_write_atomic(path, data, n, err, sizeof err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int sys_hash(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    char hex[17];
    util_hex64(util_fnv1a(UTIL_FNV_INIT, s, n), hex);
    lua_pushstring(L, hex);
    return 1;
}

#define BUDGET_NAME_KEY "htune.budget.name"

static void budget_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, BUDGET_NAME_KEY);
    luaL_error(L, "%s exceeded its budget", lua_tostring(L, -1));
}

/* with_budget(instructions, name, fn, ...) -> fn's results; raises
 * "<name> exceeded its budget" when fn runs more than `instructions` VM instructions. */
static int sys_with_budget(lua_State *L) {
    lua_Integer budget = luaL_checkinteger(L, 1);
    luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    if (budget <= 0 || budget > 0x7fffffff) return luaL_argerror(L, 1, lua_pushfstring(L, "budget must be in 1..2^31-1, got %I", budget));
    lua_pushvalue(L, 2);
    lua_setfield(L, LUA_REGISTRYINDEX, BUDGET_NAME_KEY);
    int nargs = lua_gettop(L) - 3;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, (int)budget);
    int status = lua_pcall(L, nargs, LUA_MULTRET, 0);
    lua_sethook(L, NULL, 0, 0);
    if (status != LUA_OK) return lua_error(L);
    return lua_gettop(L) - 2;
}

int luaopen_htune_sys(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"now_ms", sys_now_ms},       {"sleep_ms", sys_sleep_ms}, {"isatty", sys_isatty},
        {"listdir", sys_listdir},     {"mkdirs", sys_mkdirs},     {"write_atomic", sys_write_atomic},
        {"hash", sys_hash},           {"with_budget", sys_with_budget}, {NULL, NULL},
    };
    luaL_newlib(L, fns);
    lua_pushstring(L, runtime_root());
    lua_setfield(L, -2, "root");
    lua_pushstring(L, HTUNE_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushinteger(L, util_ncpus());
    lua_setfield(L, -2, "ncpus");
    lua_pushinteger(L, (lua_Integer)getpid());
    lua_setfield(L, -2, "pid");
    return 1;
}

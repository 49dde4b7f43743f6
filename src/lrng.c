/* htune.rng: Lua binding of src/rng.c. The module table is callable, htune.rng(seed) -> Rng
 * userdata ("htune.Rng", a 32-byte xoshiro256** state); also rng.new(seed), rng.from_state(s).
 * lrng_check is shared with lspace.c so space methods take an Rng argument. */
#include "lrng.h"
#include "runtime.h"
#include "util.h"
#include <lauxlib.h>
#include <string.h>
#include <unistd.h>

#define RNG_MT "htune.Rng"

rng_t *lrng_check(lua_State *L, int i) { return (rng_t *)luaL_checkudata(L, i, RNG_MT); }

static rng_t *push_rng(lua_State *L) {
    rng_t *r = (rng_t *)lua_newuserdatauv(L, sizeof *r, 0);
    luaL_setmetatable(L, RNG_MT);
    return r;
}

/* Seed: an integer, a string (hashed with FNV-1a 64), or none (clock and pid: not repeatable). */
static uint64_t seed_arg(lua_State *L, int i) {
    if (lua_isnoneornil(L, i)) return util_now_ns() ^ ((uint64_t)getpid() << 32);
    if (lua_type(L, i) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, i, &n);
        return util_fnv1a(UTIL_FNV_INIT, s, n);
    }
    int exact = 0;
    lua_Integer v = lua_tointegerx(L, i, &exact);
    if (!exact) {
        if (lua_type(L, i) == LUA_TNUMBER)
            return (uint64_t)luaL_error(L, "rng seed must be an integer, got %f", lua_tonumber(L, i));
        return (uint64_t)luaL_typeerror(L, i, "integer or string seed");
    }
    return (uint64_t)v;
}

static int rng_new(lua_State *L) {
    uint64_t seed = seed_arg(L, 1);
    rng_seed(push_rng(L), seed);
    return 1;
}

static int rng_call(lua_State *L) { /* rng(seed): argument 1 is the module table */
    uint64_t seed = seed_arg(L, 2);
    rng_seed(push_rng(L), seed);
    return 1;
}

static int rng_from_state(lua_State *L) {
    size_t n = 0;
    const char *s = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &n) : NULL;
    rng_t tmp;
    if (!s || rng_from_hex(&tmp, s, n) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, "rng state must be 64 hex digits, not all zero (from r:state())");
        return 2;
    }
    *push_rng(L) = tmp;
    return 1;
}

static int l_next(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)rng_next(lrng_check(L, 1)));
    return 1;
}

static int l_int(lua_State *L) {
    rng_t *r = lrng_check(L, 1);
    lua_Integer lo = luaL_checkinteger(L, 2), hi = luaL_checkinteger(L, 3);
    if (lo > hi) return luaL_error(L, "rng:int: empty range: lo=%I > hi=%I", lo, hi);
    lua_pushinteger(L, (lua_Integer)rng_range(r, lo, hi));
    return 1;
}

static int l_float(lua_State *L) {
    lua_pushnumber(L, rng_float(lrng_check(L, 1)));
    return 1;
}

static int l_normal(lua_State *L) {
    rng_t *r = lrng_check(L, 1);
    double mean = luaL_optnumber(L, 2, 0.0), sd = luaL_optnumber(L, 3, 1.0);
    lua_pushnumber(L, mean + sd * rng_normal(r));
    return 1;
}

/* shuffle(t): Fisher-Yates over t[1..#t] in place; returns t. */
static int l_shuffle(lua_State *L) {
    rng_t *r = lrng_check(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 2);
    for (lua_Integer i = n; i > 1; i--) {
        lua_Integer j = 1 + (lua_Integer)rng_below(r, (uint64_t)i);
        lua_geti(L, 2, i);
        lua_geti(L, 2, j);
        lua_seti(L, 2, i);
        lua_seti(L, 2, j);
    }
    lua_settop(L, 2);
    return 1;
}

static int l_choice(lua_State *L) {
    rng_t *r = lrng_check(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 2);
    if (n < 1) return luaL_error(L, "rng:choice: the table is empty");
    lua_geti(L, 2, 1 + (lua_Integer)rng_below(r, (uint64_t)n));
    return 1;
}

static int l_clone(lua_State *L) {
    rng_t *r = lrng_check(L, 1);
    *push_rng(L) = *r;
    return 1;
}

static int l_state(lua_State *L) {
    char hex[65];
    rng_state_hex(lrng_check(L, 1), hex);
    lua_pushstring(L, hex);
    return 1;
}

static int l_tostring(lua_State *L) {
    char hex[65];
    rng_state_hex(lrng_check(L, 1), hex);
    lua_pushfstring(L, "htune.Rng(xoshiro256**, state %s)", hex);
    return 1;
}

static const luaL_Reg methods[] = {
    {"next", l_next}, {"int", l_int}, {"float", l_float}, {"normal", l_normal},
    {"shuffle", l_shuffle}, {"choice", l_choice}, {"clone", l_clone}, {"state", l_state},
    {NULL, NULL},
};

static const luaL_Reg funcs[] = {
    {"new", rng_new}, {"from_state", rng_from_state}, {NULL, NULL},
};

int luaopen_htune_rng(lua_State *L) {
    if (luaL_newmetatable(L, RNG_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    lua_newtable(L);
    lua_pushcfunction(L, rng_call);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    return 1;
}

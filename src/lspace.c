/* htune.space: Lua binding of src/space.c, the methods of htune.Space (declarations are in
 * src/lspace_new.c). Configs cross as Lua tables <-> int32 index vectors; the Lua predicates
 * (uservalues 1: functions, 2: names) run here, after the C bounds. */
#include "lrng.h"
#include "lspace.h"
#include "runtime.h"
#include "space.h"
#include "util.h"
#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_SLOTS 128
#define ESTIMATE_SAMPLES 20000
#define ENUMERATE_MAX 2000000

static lspace *check_space(lua_State *L, int i) {
    lspace *u = (lspace *)luaL_checkudata(L, i, SPACE_MT);
    if (!u->sp) luaL_error(L, "htune.Space is closed");
    return u;
}

/* A scratch config vector: local storage when it fits, else a GC'd userdata on the stack. */
static int32_t *cfg_buf(lua_State *L, const lspace *u, int32_t *local) {
    int n = space_nslots(u->sp);
    if (n <= LOCAL_SLOTS) return local;
    return (int32_t *)lua_newuserdatauv(L, (size_t)n * sizeof(int32_t), 0);
}

/* ---- values ---- */

int lspace_to_value(lua_State *L, int idx, space_value *v) {
    memset(v, 0, sizeof *v);
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) v->type = SPACE_VINT, v->i = lua_tointeger(L, idx);
        else v->type = SPACE_VFLOAT, v->f = lua_tonumber(L, idx);
        return 0;
    case LUA_TSTRING: v->type = SPACE_VSTR, v->s = lua_tolstring(L, idx, &v->len); return 0;
    case LUA_TBOOLEAN: v->type = SPACE_VBOOL, v->i = lua_toboolean(L, idx); return 0;
    default: return -1;
    }
}

void lspace_push_value(lua_State *L, const space_value *v) {
    switch (v->type) {
    case SPACE_VINT: lua_pushinteger(L, v->i); break;
    case SPACE_VFLOAT: lua_pushnumber(L, v->f); break;
    case SPACE_VSTR: lua_pushlstring(L, v->s, v->len); break;
    default: lua_pushboolean(L, (int)v->i); break;
    }
}

static void push_slot(lua_State *L, const space *sp, int slot, int32_t idx) {
    space_value v;
    space_slot_value(sp, slot, idx, &v);
    lspace_push_value(L, &v);
}

static void push_perm(lua_State *L, int n, int32_t rank) {
    int perm[SPACE_PERM_MAX];
    space_perm_unrank(n, rank, perm);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushinteger(L, perm[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

/* Pushes value idx of slot: from the cache table at c when the slot is cached (no string
 * interning), else built from the C value. */
static void push_cached(lua_State *L, const lspace *u, int c, int slot, int32_t idx) {
    if (u->val_off && u->val_off[slot] >= 0) lua_rawgeti(L, c, (lua_Integer)u->val_off[slot] + idx + 1);
    else push_slot(L, u->sp, slot, idx);
}

/* Pushes the config table of index vector cfg (self, the space, is at stack index 1). */
static void push_cfg(lua_State *L, const lspace *u, const int32_t *cfg) {
    const space *sp = u->sp;
    int np = space_nparams(sp);
    lua_getiuservalue(L, 1, 3);
    int c = lua_gettop(L);
    lua_createtable(L, 0, np);
    for (int p = 0; p < np; p++) {
        int slot = space_param_slot(sp, p), n = space_param_n(sp, p);
        enum space_kind k = space_param_kind(sp, p);
        lua_rawgeti(L, c, p + 1); /* the interned key */
        if (k == SPACE_PERM) {
            push_perm(L, n, cfg[slot]);
        } else if (k == SPACE_LIST) {
            lua_createtable(L, n, 0);
            for (int i = 0; i < n; i++) {
                push_cached(L, u, c, slot + i, cfg[slot + i]);
                lua_rawseti(L, -2, i + 1);
            }
        } else {
            push_cached(L, u, c, slot, cfg[slot]);
        }
        lua_rawset(L, c + 1);
    }
    lua_remove(L, c);
}

/* ---- Lua table -> index vector (non-raising: 0, or -1 with err) ---- */

/* "field 'name'" or "field 'name' element k" (k >= 1), for messages. */
static void where_of(const space *sp, int slot, char *buf, size_t len) {
    int p = space_slot_param(sp, slot);
    if (space_param_kind(sp, p) == SPACE_LIST)
        snprintf(buf, len, "field '%s' element %d", space_param_name(sp, p), slot - space_param_slot(sp, p) + 1);
    else
        snprintf(buf, len, "field '%s'", space_param_name(sp, p));
}

/* The value at the top into cfg[slot]; messages are built only on failure. */
int lspace_slot_from_lua(lua_State *L, const space *sp, int slot, int32_t *cfg, char *err, size_t el) {
    space_value v;
    char where[128], dom[256], val[64];
    int typed = lspace_to_value(L, -1, &v) == 0;
    int32_t idx = typed ? space_value_index(sp, slot, &v) : -1;
    if (idx >= 0) {
        cfg[slot] = idx;
        return 0;
    }
    where_of(sp, slot, where, sizeof where);
    space_describe_slot(sp, slot, dom, sizeof dom);
    if (!typed) {
        snprintf(err, el, "%s: expected %s, got %s", where, dom, luaL_typename(L, -1));
    } else {
        space_format_value(&v, val, sizeof val);
        snprintf(err, el, "%s: %s is not %s", where, val, dom);
    }
    return -1;
}

/* The array at the top holds exactly n elements? */
static int array_len_ok(lua_State *L, const char *name, int n, char *err, size_t el) {
    if (!lua_istable(L, -1)) {
        snprintf(err, el, "field '%s': expected an array of %d elements, got %s", name, n, luaL_typename(L, -1));
        return 0;
    }
    lua_Unsigned len = lua_rawlen(L, -1);
    if (len != (lua_Unsigned)n) {
        snprintf(err, el, "field '%s': expected %d elements, got %llu", name, n, (unsigned long long)len);
        return 0;
    }
    return 1;
}

static int perm_from_lua(lua_State *L, const space *sp, int p, int32_t *cfg, char *err, size_t el) {
    const char *name = space_param_name(sp, p);
    int n = space_param_n(sp, p), perm[SPACE_PERM_MAX];
    if (!array_len_ok(L, name, n, err, el)) return -1;
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, -1, i + 1);
        int ok = lua_isinteger(L, -1);
        lua_Integer x = lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (!ok || x < 0 || x >= n) {
            snprintf(err, el, "field '%s' element %d: expected an integer in 0..%d", name, i + 1, n - 1);
            return -1;
        }
        perm[i] = (int)x;
    }
    int32_t rank = space_perm_rank(n, perm);
    if (rank < 0) {
        snprintf(err, el, "field '%s': not a permutation of 0..%d (repeated element)", name, n - 1);
        return -1;
    }
    cfg[space_param_slot(sp, p)] = rank;
    return 0;
}

static int list_from_lua(lua_State *L, const space *sp, int p, int32_t *cfg, char *err, size_t el) {
    const char *name = space_param_name(sp, p);
    int n = space_param_n(sp, p), slot = space_param_slot(sp, p);
    if (!array_len_ok(L, name, n, err, el)) return -1;
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, -1, i + 1);
        int rc = lspace_slot_from_lua(L, sp, slot + i, cfg, err, el);
        lua_pop(L, 1);
        if (rc) return -1;
    }
    return 0;
}

int lspace_param_from_lua(lua_State *L, const space *sp, int p, int32_t *cfg, char *err, size_t el) {
    if (space_param_kind(sp, p) == SPACE_PERM) return perm_from_lua(L, sp, p, cfg, err, el);
    if (space_param_kind(sp, p) == SPACE_LIST) return list_from_lua(L, sp, p, cfg, err, el);
    return lspace_slot_from_lua(L, sp, space_param_slot(sp, p), cfg, err, el);
}

/* Names the first key of the table at idx that is not a parameter: 1, or 0 when every raw key
 * is a parameter (the rest came through __index). */
static int unknown_key(lua_State *L, const space *sp, int idx, char *err, size_t el) {
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        size_t len = 0;
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (!k || space_find_param(sp, k, len) < 0) {
            if (k) snprintf(err, el, "unknown field '%.60s'", k);
            else snprintf(err, el, "unknown field of type %s (fields are parameter names)", luaL_typename(L, -1));
            lua_pop(L, 1);
            return 1;
        }
    }
    return 0;
}

static int cfg_from_lua(lua_State *L, const space *sp, int idx, int32_t *cfg, char *err, size_t el) {
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx)) {
        snprintf(err, el, "config must be a table, got %s", luaL_typename(L, idx));
        return -1;
    }
    int np = space_nparams(sp);
    for (int p = 0; p < np; p++) {
        if (lua_getfield(L, idx, space_param_name(sp, p)) == LUA_TNIL) {
            lua_pop(L, 1);
            snprintf(err, el, "missing field '%s'", space_param_name(sp, p));
            return -1;
        }
        int rc = lspace_param_from_lua(L, sp, p, cfg, err, el);
        lua_pop(L, 1);
        if (rc) return -1;
    }
    int nkeys = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) lua_pop(L, 1), nkeys++;
    if (nkeys == np) return 0;
    return unknown_key(L, sp, idx, err, el) ? -1 : 0;
}

/* Converts argument i or raises "sp:method: reason". */
static void check_cfg(lua_State *L, const lspace *u, int i, int32_t *cfg, const char *method) {
    char err[512];
    if (cfg_from_lua(L, u->sp, i, cfg, err, sizeof err) != 0) luaL_error(L, "sp:%s: %s", method, err);
}

/* Argument i as an index vector in a scratch buffer (local, or a userdata pushed when too large);
 * raises "sp:method: reason". */
static int32_t *arg_cfg(lua_State *L, const lspace *u, int i, int32_t *local, const char *method) {
    int32_t *cfg = cfg_buf(L, u, local);
    check_cfg(L, u, i, cfg, method);
    return cfg;
}

/* ---- predicates ---- */

/* Runs every predicate on the config table at the top. 1 when all hold; else 0 and, if why,
 * "constraint 'name'[: reason]". Raises when a predicate errors or returns a non-boolean. */
static int preds_ok(lua_State *L, const lspace *u, char *why, size_t wl) {
    if (u->npred == 0) return 1;
    int cfg = lua_gettop(L);
    lua_getiuservalue(L, 1, 1);
    lua_getiuservalue(L, 1, 2);
    int ok = 1;
    for (int i = 1; i <= u->npred && ok; i++) {
        lua_rawgeti(L, cfg + 1, i);
        lua_pushvalue(L, cfg);
        int status = lua_pcall(L, 1, 2, 0);
        lua_rawgeti(L, cfg + 2, i);
        const char *name = lua_tostring(L, -1);
        if (status != LUA_OK) {
            const char *msg = lua_tostring(L, -2);
            luaL_error(L, "constraint '%s' raised an error: %s", name, msg ? msg : "(non-string error)");
        }
        int t = lua_type(L, -3);
        if (t != LUA_TBOOLEAN && t != LUA_TNIL)
            luaL_error(L, "constraint '%s' returned a %s (expected true, false or nil)", name, lua_typename(L, t));
        ok = lua_toboolean(L, -3);
        if (!ok && why) {
            const char *reason = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
            snprintf(why, wl, reason ? "constraint '%s': %s" : "constraint '%s' failed", name, reason);
        }
        lua_settop(L, cfg + 2);
        if (!u->sp) luaL_error(L, "htune.Space was closed by constraint '%s'", name);
    }
    lua_settop(L, cfg);
    return ok;
}

/* Pushes cfg's table when the predicates hold (returns 1); else pushes nothing and, if why,
 * names the failed predicate. */
static int push_if_preds(lua_State *L, const lspace *u, const int32_t *cfg, char *why, size_t wl) {
    push_cfg(L, u, cfg);
    if (preds_ok(L, u, why, wl)) return 1;
    lua_pop(L, 1);
    return 0;
}

/* Pushes cfg's table when it passes the bounds and predicates (returns 1); else pushes nothing. */
static int push_if_valid(lua_State *L, const lspace *u, const int32_t *cfg) {
    return space_bounds_ok(u->sp, cfg, NULL) && push_if_preds(L, u, cfg, NULL, 0);
}

/* Full validity of an index vector: C check, then predicates. 1, or 0 with why. */
static int valid_cfg(lua_State *L, const lspace *u, const int32_t *cfg, char *why, size_t wl) {
    if (space_check(u->sp, cfg, why, wl) != 0) return 0;
    push_cfg(L, u, cfg);
    int ok = preds_ok(L, u, why, wl);
    lua_pop(L, 1);
    return ok;
}

static int space_gc(lua_State *L) {
    lspace *u = (lspace *)luaL_checkudata(L, 1, SPACE_MT);
    space_free(u->sp);
    u->sp = NULL;
    free(u->val_off);
    u->val_off = NULL;
    return 0;
}

/* ---- methods ---- */

static void push_index_or_float(lua_State *L, uint64_t v) {
    if (v <= (uint64_t)INT64_MAX) lua_pushinteger(L, (lua_Integer)v);
    else lua_pushnumber(L, (double)v);
}

/* Counts valid configs by enumerating the product (bounds in C, then predicates). */
static uint64_t count_valid(lua_State *L, const lspace *u) {
    int32_t local[LOCAL_SLOTS];
    int32_t *cfg = cfg_buf(L, u, local);
    uint64_t n = 0;
    memset(cfg, 0, (size_t)space_nslots(u->sp) * sizeof *cfg);
    do {
        if (u->npred == 0) n += (uint64_t)space_bounds_ok(u->sp, cfg, NULL);
        else if (push_if_valid(L, u, cfg)) lua_pop(L, 1), n++;
    } while (space_next(u->sp, cfg));
    return n;
}

/* Estimates the valid fraction from uniform draws of the product (fixed seed: repeatable). */
static double estimate_valid(lua_State *L, const lspace *u, double product) {
    int32_t local[LOCAL_SLOTS];
    int32_t *cfg = cfg_buf(L, u, local);
    rng_t r;
    rng_seed(&r, 0x5eed5eedULL);
    int hits = 0;
    for (int i = 0; i < ESTIMATE_SAMPLES; i++) {
        space_sample_raw(u->sp, &r, cfg);
        if (u->npred == 0) hits += space_bounds_ok(u->sp, cfg, NULL);
        else if (push_if_valid(L, u, cfg)) lua_pop(L, 1), hits++;
    }
    return product * hits / ESTIMATE_SAMPLES;
}

/* size() -> count, exact */
static int m_size(lua_State *L) {
    lspace *u = check_space(L, 1);
    int overflow;
    uint64_t prod = space_product(u->sp, &overflow);
    int constrained = space_nbounds(u->sp) > 0 || u->npred > 0;
    if (!constrained && !overflow) {
        push_index_or_float(L, prod);
        lua_pushboolean(L, prod <= (uint64_t)INT64_MAX);
        return 2;
    }
    if (!overflow && prod <= ENUMERATE_MAX) {
        push_index_or_float(L, count_valid(L, u));
        lua_pushboolean(L, 1);
        return 2;
    }
    double dprod = 1;
    for (int s = 0; s < space_nslots(u->sp); s++) dprod *= space_slot_count(u->sp, s);
    double est = constrained ? estimate_valid(L, u, dprod) : dprod;
    if (est < 0x1p63) lua_pushinteger(L, (lua_Integer)llround(est));
    else lua_pushnumber(L, est);
    lua_pushboolean(L, 0);
    return 2;
}

/* values of a slot as a Lua array (nil when there are more than 100000). */
static void push_slot_values(lua_State *L, const space *sp, int slot) {
    int32_t n = space_slot_count(sp, slot);
    if (n > 100000) return lua_pushnil(L);
    lua_createtable(L, n, 0);
    int perm = space_param_kind(sp, space_slot_param(sp, slot)) == SPACE_PERM;
    int pn = space_param_n(sp, space_slot_param(sp, slot));
    for (int32_t i = 0; i < n; i++) {
        if (perm) push_perm(L, pn, i);
        else push_slot(L, sp, slot, i);
        lua_rawseti(L, -2, i + 1);
    }
}

static int m_params(lua_State *L) {
    const space *sp = check_space(L, 1)->sp;
    int np = space_nparams(sp);
    int32_t local[LOCAL_SLOTS];
    int32_t *def = cfg_buf(L, check_space(L, 1), local);
    space_default(sp, def);
    push_cfg(L, check_space(L, 1), def);
    lua_createtable(L, np, 0);
    for (int p = 0; p < np; p++) {
        enum space_kind k = space_param_kind(sp, p);
        lua_createtable(L, 0, 7);
        lua_pushstring(L, space_param_name(sp, p));
        lua_setfield(L, -2, "name");
        lua_pushstring(L, space_kind_name(k));
        lua_setfield(L, -2, "kind");
        push_slot_values(L, sp, space_param_slot(sp, p));
        lua_setfield(L, -2, "values");
        push_index_or_float(L, space_param_count(sp, p));
        lua_setfield(L, -2, "count");
        if (k == SPACE_LIST || k == SPACE_PERM) lua_pushinteger(L, space_param_n(sp, p)), lua_setfield(L, -2, "n");
        if (k == SPACE_LIST) lua_pushstring(L, space_kind_name(space_param_elem_kind(sp, p))), lua_setfield(L, -2, "elem");
        lua_getfield(L, -3, space_param_name(sp, p));
        lua_setfield(L, -2, "default");
        lua_rawseti(L, -2, p + 1);
    }
    return 1;
}

/* Draws until bounds and predicates hold (max_tries draws in all); pushes the config or raises
 * naming the last rejecter. */
static void sample_one(lua_State *L, const lspace *u, rng_t *r, int32_t *cfg) {
    char why[512] = "";
    int which;
    for (int t = 0; t < u->max_tries; t++) {
        space_sample_raw(u->sp, r, cfg);
        if (!space_bounds_ok(u->sp, cfg, &which)) {
            snprintf(why, sizeof why, "bound '%s'", space_bound_name(u->sp, which));
            continue;
        }
        if (push_if_preds(L, u, cfg, why, sizeof why)) return;
    }
    luaL_error(L, "sp:sample: space '%s' seems empty: no sample passed in %d tries (last rejected by %s)",
               space_name(u->sp), u->max_tries, why);
}

static int m_sample(lua_State *L) {
    lspace *u = check_space(L, 1);
    rng_t *r = lrng_check(L, 2);
    int32_t local[LOCAL_SLOTS];
    sample_one(L, u, r, cfg_buf(L, u, local));
    return 1;
}

/* sample_many(rng, n) -> checksum, n: n samples kept in C (tables only when predicates exist). */
static int m_sample_many(lua_State *L) {
    lspace *u = check_space(L, 1);
    rng_t *r = lrng_check(L, 2);
    lua_Integer n = luaL_checkinteger(L, 3);
    int32_t local[LOCAL_SLOTS];
    int32_t *cfg = cfg_buf(L, u, local);
    uint64_t sum = UTIL_FNV_INIT;
    char err[512];
    int ns = space_nslots(u->sp);
    if (n < 0) return luaL_error(L, "sp:sample_many: n=%I must be >= 0", n);
    for (lua_Integer i = 0; i < n; i++) {
        if (u->npred) {
            sample_one(L, u, r, cfg);
            lua_pop(L, 1);
        } else if (space_sample(u->sp, r, cfg, u->max_tries, err, sizeof err) != 0) {
            return luaL_error(L, "sp:sample_many: %s", err);
        }
        sum = util_fnv1a(sum, cfg, (size_t)ns * sizeof *cfg);
    }
    lua_pushinteger(L, (lua_Integer)sum);
    lua_pushinteger(L, n);
    return 2;
}

static int m_neighbors(lua_State *L) {
    lspace *u = check_space(L, 1);
    int32_t local[LOCAL_SLOTS];
    int32_t *cfg = arg_cfg(L, u, 2, local, "neighbors");
    int cap = space_max_neighbors(u->sp), ns = space_nslots(u->sp);
    int32_t *out = (int32_t *)lua_newuserdatauv(L, (size_t)(cap ? cap : 1) * (size_t)ns * sizeof *out, 0);
    int n = space_neighbors(u->sp, cfg, out, cap), k = 0;
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++)
        if (push_if_preds(L, u, out + (size_t)i * (size_t)ns, NULL, 0)) lua_rawseti(L, -2, ++k);
    return 1;
}

/* Shared tail of mutate/crossover: no valid move in max_tries -> the first valid fallback. */
static int fallback(lua_State *L, const lspace *u, const int32_t *a, const int32_t *b, const char *method) {
    char why[512];
    if (valid_cfg(L, u, a, why, sizeof why)) return push_cfg(L, u, a), 1;
    if (b && valid_cfg(L, u, b, why, sizeof why)) return push_cfg(L, u, b), 1;
    return luaL_error(L, "sp:%s: no valid config found in %d tries (input invalid: %s)", method, u->max_tries, why);
}

static int m_mutate(lua_State *L) {
    lspace *u = check_space(L, 1);
    int32_t la[LOCAL_SLOTS], lo[LOCAL_SLOTS];
    int32_t *cfg = arg_cfg(L, u, 2, la, "mutate"), *out = cfg_buf(L, u, lo);
    rng_t *r = lrng_check(L, 3);
    lua_Integer nf = luaL_optinteger(L, 4, 1);
    if (nf < 1) return luaL_error(L, "sp:mutate: nfields=%I must be >= 1", nf);
    for (int t = 0; t < u->max_tries; t++) {
        space_mutate_raw(u->sp, cfg, r, nf > 1000000 ? 1000000 : (int)nf, out);
        if (push_if_valid(L, u, out)) return 1;
    }
    return fallback(L, u, cfg, NULL, "mutate");
}

static int m_crossover(lua_State *L) {
    lspace *u = check_space(L, 1);
    int32_t la[LOCAL_SLOTS], lb[LOCAL_SLOTS], lo[LOCAL_SLOTS];
    int32_t *a = arg_cfg(L, u, 2, la, "crossover"), *b = arg_cfg(L, u, 3, lb, "crossover");
    int32_t *out = cfg_buf(L, u, lo);
    rng_t *r = lrng_check(L, 4);
    for (int t = 0; t < u->max_tries; t++) {
        space_crossover_raw(u->sp, a, b, r, out);
        if (push_if_valid(L, u, out)) return 1;
    }
    return fallback(L, u, a, b, "crossover");
}

static int m_encode(lua_State *L) {
    lspace *u = check_space(L, 1);
    int32_t local[LOCAL_SLOTS];
    int32_t *cfg = arg_cfg(L, u, 2, local, "encode");
    int n = space_encode_len(u->sp);
    double *x = (double *)lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *x, 0);
    space_encode(u->sp, cfg, x);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) lua_pushnumber(L, x[i]), lua_rawseti(L, -2, i + 1);
    return 1;
}

static int m_encode_names(lua_State *L) {
    lspace *u = check_space(L, 1);
    int n = space_encode_len(u->sp);
    char name[256];
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        space_encode_name(u->sp, i, name, sizeof name);
        lua_pushstring(L, name);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int m_hash(lua_State *L) {
    lspace *u = check_space(L, 1);
    int32_t local[LOCAL_SLOTS];
    int32_t *cfg = arg_cfg(L, u, 2, local, "hash");
    char hex[17];
    util_hex64(space_hash(u->sp, cfg), hex);
    lua_pushstring(L, hex);
    return 1;
}

static int m_to_json(lua_State *L) {
    lspace *u = check_space(L, 1);
    int32_t local[LOCAL_SLOTS];
    int32_t *cfg = arg_cfg(L, u, 2, local, "to_json");
    size_t n = space_to_json(u->sp, cfg, NULL, 0);
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, n + 1);
    space_to_json(u->sp, cfg, p, n + 1);
    luaL_pushresultsize(&b, n);
    return 1;
}

/* from_json(s) -> config, or nil, reason (never raises on bad input). */
static int m_from_json(lua_State *L) {
    lspace *u = check_space(L, 1);
    size_t n;
    const char *s = luaL_checklstring(L, 2, &n);
    int32_t local[LOCAL_SLOTS];
    int32_t *cfg = cfg_buf(L, u, local);
    char err[512];
    if (space_from_json(u->sp, s, n, cfg, err, sizeof err) == 0 && push_if_preds(L, u, cfg, err, sizeof err)) return 1;
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
}

static int m_default(lua_State *L) {
    lspace *u = check_space(L, 1);
    int32_t local[LOCAL_SLOTS];
    int32_t *cfg = cfg_buf(L, u, local);
    space_default(u->sp, cfg);
    push_cfg(L, u, cfg);
    return 1;
}

static int m_validate(lua_State *L) {
    lspace *u = check_space(L, 1);
    int32_t local[LOCAL_SLOTS];
    int32_t *cfg = cfg_buf(L, u, local);
    char why[512];
    int ok = cfg_from_lua(L, u->sp, 2, cfg, why, sizeof why) == 0 && space_check(u->sp, cfg, why, sizeof why) == 0;
    if (ok) {
        lua_pushvalue(L, 2);
        ok = preds_ok(L, u, why, sizeof why);
    }
    lua_pushboolean(L, ok);
    if (ok) return 1;
    lua_pushstring(L, why);
    return 2;
}

static int m_index_of(lua_State *L) {
    lspace *u = check_space(L, 1);
    int32_t local[LOCAL_SLOTS];
    int32_t *cfg = arg_cfg(L, u, 2, local, "index_of");
    uint64_t ix;
    if (space_index_of(u->sp, cfg, &ix) != 0 || ix > (uint64_t)INT64_MAX)
        return luaL_error(L, "sp:index_of: space '%s' is too large for a 63-bit dense index", space_name(u->sp));
    lua_pushinteger(L, (lua_Integer)ix);
    return 1;
}

static int m_at(lua_State *L) {
    lspace *u = check_space(L, 1);
    lua_Integer ix = luaL_checkinteger(L, 2);
    int32_t local[LOCAL_SLOTS];
    int32_t *cfg = cfg_buf(L, u, local);
    if (ix < 0 || space_at(u->sp, (uint64_t)ix, cfg) != 0)
        return luaL_error(L, "sp:at: index %I is outside 0..size-1 of the unconstrained space", ix);
    push_cfg(L, u, cfg);
    return 1;
}

static int m_name(lua_State *L) {
    lua_pushstring(L, space_name(check_space(L, 1)->sp));
    return 1;
}

/* constraints() -> names of the C bounds, then of the Lua predicates. */
static int m_constraints(lua_State *L) {
    lspace *u = check_space(L, 1);
    int nb = space_nbounds(u->sp);
    lua_createtable(L, nb + u->npred, 0);
    for (int i = 0; i < nb; i++) lua_pushstring(L, space_bound_name(u->sp, i)), lua_rawseti(L, -2, i + 1);
    lua_getiuservalue(L, 1, 2);
    for (int i = 1; i <= u->npred; i++) lua_rawgeti(L, -1, i), lua_rawseti(L, -3, nb + i);
    lua_pop(L, 1);
    return 1;
}

static int m_tostring(lua_State *L) {
    lspace *u = (lspace *)luaL_checkudata(L, 1, SPACE_MT);
    if (!u->sp) return lua_pushliteral(L, "htune.Space(closed)"), 1;
    int overflow;
    uint64_t prod = space_product(u->sp, &overflow);
    char num[32];
    if (overflow) snprintf(num, sizeof num, ">2^64");
    else snprintf(num, sizeof num, "%llu", (unsigned long long)prod);
    lua_pushfstring(L, "htune.Space(%s: %d params, %d bounds, %d constraints, product %s)", space_name(u->sp),
                    space_nparams(u->sp), space_nbounds(u->sp), u->npred, num);
    return 1;
}

static int l_is_space(lua_State *L) {
    lua_pushboolean(L, luaL_testudata(L, 1, SPACE_MT) != NULL);
    return 1;
}

static const luaL_Reg methods[] = {
    {"size", m_size}, {"params", m_params}, {"sample", m_sample}, {"sample_many", m_sample_many},
    {"neighbors", m_neighbors}, {"mutate", m_mutate}, {"crossover", m_crossover}, {"encode", m_encode},
    {"encode_names", m_encode_names}, {"hash", m_hash}, {"to_json", m_to_json}, {"from_json", m_from_json},
    {"default", m_default}, {"validate", m_validate}, {"index_of", m_index_of}, {"at", m_at},
    {"name", m_name}, {"constraints", m_constraints}, {"close", space_gc}, {NULL, NULL},
};

static const luaL_Reg funcs[] = {
    {"is_space", l_is_space}, {NULL, NULL},
};

int luaopen_htune_space(lua_State *L) {
    if (luaL_newmetatable(L, SPACE_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, space_gc), lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, space_gc), lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, m_tostring), lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    luaL_setfuncs(L, lspace_declaring, 0);
    return 1;
}

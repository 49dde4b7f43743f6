/* htune.space declarations: the descriptor constructors (S.pow2, S.int, S.choice, S.bool,
 * S.list, S.perm: plain tables) and S.new, which turns a declaration table into the C space plus
 * the Lua predicates kept in the userdata's uservalues. Errors name the param and value. */
#include "lspace.h"
#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- declaring: S.new{name=, params=, bounds=, constraints=, max_tries=} ---- */

static const char *const kind_names[] = {"pow2", "int", "choice", "bool", "list", "perm", NULL};

static int64_t int_field(lua_State *L, int idx, const char *f, const char *pn, int64_t dflt, int required) {
    int t = lua_getfield(L, idx, f);
    if (t == LUA_TNIL && !required) {
        lua_pop(L, 1);
        return dflt;
    }
    if (!lua_isinteger(L, -1))
        luaL_error(L, "htune.space.new: param '%s': %s must be an integer, got %s", pn, f,
                   t == LUA_TNIL ? "nil" : luaL_tolstring(L, -1, NULL));
    int64_t v = lua_tointeger(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Choice values: a temporary array (userdata left on the stack) of values borrowed from t. */
static void choice_values(lua_State *L, int idx, const char *pn, space_spec *s) {
    if (lua_getfield(L, idx, "values") != LUA_TTABLE)
        luaL_error(L, "htune.space.new: param '%s': choice needs a values array", pn);
    int vt = lua_gettop(L);
    int n = (int)lua_rawlen(L, vt);
    space_value *vals = (space_value *)lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *vals, 0);
    lua_insert(L, vt); /* keep the buffer below the values table; both stay on the stack */
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, vt + 1, i + 1);
        if (lspace_to_value(L, -1, &vals[i]) != 0 || vals[i].type == SPACE_VBOOL)
            luaL_error(L, "htune.space.new: param '%s': choice value #%d must be a string or number, got %s", pn,
                       i + 1, luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    s->values = vals;
    s->nvalues = n;
}

/* Reads the descriptor table at idx into s (a list's element into *elem). Leaves temporaries
 * on the stack; they live until S.new returns. */
static void spec_from_lua(lua_State *L, int idx, const char *pn, space_spec *s, space_spec *elem) {
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx))
        luaL_error(L, "htune.space.new: param '%s': kind must be a descriptor table such as S.int(1, 8), got %s", pn,
                   luaL_typename(L, idx));
    memset(s, 0, sizeof *s);
    lua_getfield(L, idx, "kind");
    const char *k = lua_tostring(L, -1);
    int kind = -1;
    for (int i = 0; k && kind_names[i]; i++)
        if (strcmp(k, kind_names[i]) == 0) kind = i;
    if (kind < 0) luaL_error(L, "htune.space.new: param '%s': unknown kind '%s'", pn, k ? k : luaL_typename(L, -1));
    lua_pop(L, 1);
    s->kind = (enum space_kind)kind;
    if (kind == SPACE_POW2 || kind == SPACE_INT) {
        s->lo = int_field(L, idx, "lo", pn, 0, 1);
        s->hi = int_field(L, idx, "hi", pn, 0, 1);
        s->step = int_field(L, idx, "step", pn, 1, 0);
    } else if (kind == SPACE_CHOICE) {
        choice_values(L, idx, pn, s);
    } else if (kind == SPACE_LIST || kind == SPACE_PERM) {
        s->n = (int)int_field(L, idx, "n", pn, 0, 1);
        if (kind == SPACE_LIST && elem) {
            lua_getfield(L, idx, "of");
            spec_from_lua(L, -1, pn, elem, NULL);
            if (elem->kind == SPACE_LIST || elem->kind == SPACE_PERM)
                luaL_error(L, "htune.space.new: param '%s': list elements must be pow2, int, choice or bool, got %s",
                           pn, space_kind_name(elem->kind));
            s->elem = elem;
        }
    }
}

/* params[i] = { "name", descriptor, default = ... } (or name=, kind= fields). */
static void add_param(lua_State *L, space *sp, int entry, int i) {
    char err[512];
    if (!lua_istable(L, entry)) luaL_error(L, "htune.space.new: params[%d] must be a table", i);
    if (lua_rawgeti(L, entry, 1) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_getfield(L, entry, "name");
    }
    const char *pn = lua_tostring(L, -1);
    if (!pn || lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "htune.space.new: params[%d] has no name", i);
    if (lua_rawgeti(L, entry, 2) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_getfield(L, entry, "kind");
    }
    space_spec s, elem;
    spec_from_lua(L, -1, pn, &s, &elem);
    if (space_add_param(sp, pn, &s, err, sizeof err) < 0) luaL_error(L, "htune.space.new: %s", err);
}

/* Sets param p's default from entry.default (a list also accepts one scalar for every element). */
static void set_default(lua_State *L, space *sp, int entry, int p, int32_t *cfg) {
    char err[512];
    if (lua_getfield(L, entry, "default") == LUA_TNIL) return (void)lua_pop(L, 1);
    int rc;
    if (space_param_kind(sp, p) == SPACE_LIST && !lua_istable(L, -1)) {
        rc = 0;
        for (int i = 0; i < space_param_n(sp, p) && rc == 0; i++)
            rc = lspace_slot_from_lua(L, sp, space_param_slot(sp, p) + i, cfg, err, sizeof err);
    } else {
        rc = lspace_param_from_lua(L, sp, p, cfg, err, sizeof err);
    }
    if (rc == 0) rc = space_set_default(sp, p, cfg + space_param_slot(sp, p), err, sizeof err);
    if (rc) luaL_error(L, "htune.space.new: param '%s': default: %s", space_param_name(sp, p), err);
    lua_pop(L, 1);
}

static void add_params(lua_State *L, space *sp, int spec) {
    if (lua_getfield(L, spec, "params") != LUA_TTABLE) luaL_error(L, "htune.space.new: params must be an array");
    int params = lua_gettop(L), n = (int)lua_rawlen(L, params);
    if (n == 0) luaL_error(L, "htune.space.new: params is empty");
    for (int i = 1; i <= n; i++) {
        int top = lua_gettop(L);
        lua_rawgeti(L, params, i);
        add_param(L, sp, top + 1, i);
        lua_settop(L, top);
    }
    int32_t *cfg = (int32_t *)lua_newuserdatauv(L, (size_t)space_nslots(sp) * sizeof(int32_t), 0);
    space_default(sp, cfg);
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, params, i);
        set_default(L, sp, lua_gettop(L), i - 1, cfg);
        lua_pop(L, 1);
    }
    lua_settop(L, params - 1);
}

/* One bound: {name=, terms={{coef, "p", "q"}, ...}, min=, max=}. */
static void add_bound(lua_State *L, space *sp, int b, int i) {
    char err[512];
    space_term terms[16];
    if (!lua_istable(L, b)) luaL_error(L, "htune.space.new: bounds[%d] must be a table", i);
    lua_getfield(L, b, "name");
    const char *name = lua_tostring(L, -1);
    if (lua_getfield(L, b, "terms") != LUA_TTABLE) luaL_error(L, "htune.space.new: bound '%s': terms must be an array", name ? name : "?");
    int tt = lua_gettop(L), nt = (int)lua_rawlen(L, tt);
    if (nt > 16) luaL_error(L, "htune.space.new: bound '%s': at most 16 terms", name ? name : "?");
    for (int t = 0; t < nt; t++) {
        lua_rawgeti(L, tt, t + 1);
        int term = lua_gettop(L);
        int nf = lua_istable(L, term) ? (int)lua_rawlen(L, term) - 1 : -1;
        lua_rawgeti(L, term, 1);
        if (nf < 1 || nf > SPACE_TERM_MAX || !lua_isnumber(L, -1))
            luaL_error(L, "htune.space.new: bound '%s': term %d must be {coef, \"param\", ...} with 1..%d names",
                       name ? name : "?", t + 1, SPACE_TERM_MAX);
        terms[t].coef = lua_tonumber(L, -1);
        terms[t].nfactors = nf;
        for (int f = 0; f < nf; f++) {
            lua_rawgeti(L, term, f + 2);
            terms[t].factors[f] = lua_tostring(L, -1); /* kept alive by the term table */
            if (!terms[t].factors[f]) luaL_error(L, "htune.space.new: bound '%s': term %d: parameter names must be strings", name ? name : "?", t + 1);
            lua_pop(L, 1);
        }
        lua_settop(L, term);
    }
    lua_getfield(L, b, "min");
    lua_getfield(L, b, "max");
    double mn = luaL_optnumber(L, -2, -HUGE_VAL), mx = luaL_optnumber(L, -1, HUGE_VAL);
    if (space_add_bound(sp, name, terms, nt, mn, mx, err, sizeof err) < 0) luaL_error(L, "htune.space.new: %s", err);
}

static void add_bounds(lua_State *L, space *sp, int spec) {
    int t = lua_getfield(L, spec, "bounds");
    if (t != LUA_TNIL && t != LUA_TTABLE) luaL_error(L, "htune.space.new: bounds must be an array");
    int bounds = lua_gettop(L);
    for (int i = 1; t == LUA_TTABLE && i <= (int)lua_rawlen(L, bounds); i++) {
        lua_rawgeti(L, bounds, i);
        add_bound(L, sp, lua_gettop(L), i);
        lua_settop(L, bounds);
    }
    lua_settop(L, bounds - 1);
}

/* constraints = { {name=, fn=}, ... } (a bare function is named "constraint #i") into uservalues. */
static int add_constraints(lua_State *L, int ud, int spec) {
    int t = lua_getfield(L, spec, "constraints");
    if (t != LUA_TNIL && t != LUA_TTABLE) luaL_error(L, "htune.space.new: constraints must be an array");
    int cs = lua_gettop(L), n = t == LUA_TTABLE ? (int)lua_rawlen(L, cs) : 0;
    lua_createtable(L, n, 0);
    lua_createtable(L, n, 0);
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, cs, i);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "fn");
            lua_getfield(L, -2, "name");
            lua_remove(L, -3);
        } else {
            lua_pushnil(L);
        }
        if (lua_isnil(L, -1)) lua_pop(L, 1), lua_pushfstring(L, "constraint #%d", i);
        if (!lua_isfunction(L, -2))
            luaL_error(L, "htune.space.new: constraint '%s' must have a function fn, got %s", lua_tostring(L, -1),
                       luaL_typename(L, -2));
        lua_rawseti(L, cs + 2, i);
        lua_rawseti(L, cs + 1, i);
    }
    lua_setiuservalue(L, ud, 2);
    lua_setiuservalue(L, ud, 1);
    lua_settop(L, cs - 1);
    return n;
}

/* ---- descriptors ---- */

static int d_pow2(lua_State *L) {
    lua_Integer lo = luaL_checkinteger(L, 1), hi = luaL_checkinteger(L, 2);
    lua_createtable(L, 0, 3);
    lua_pushliteral(L, "pow2"), lua_setfield(L, -2, "kind");
    lua_pushinteger(L, lo), lua_setfield(L, -2, "lo");
    lua_pushinteger(L, hi), lua_setfield(L, -2, "hi");
    return 1;
}

static int d_int(lua_State *L) {
    lua_Integer lo = luaL_checkinteger(L, 1), hi = luaL_checkinteger(L, 2), step = luaL_optinteger(L, 3, 1);
    lua_createtable(L, 0, 4);
    lua_pushliteral(L, "int"), lua_setfield(L, -2, "kind");
    lua_pushinteger(L, lo), lua_setfield(L, -2, "lo");
    lua_pushinteger(L, hi), lua_setfield(L, -2, "hi");
    lua_pushinteger(L, step), lua_setfield(L, -2, "step");
    return 1;
}

static int d_choice(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "choice"), lua_setfield(L, -2, "kind");
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 1; i <= n; i++) lua_geti(L, 1, i), lua_rawseti(L, -2, i);
    lua_setfield(L, -2, "values");
    return 1;
}

static int d_bool(lua_State *L) {
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "bool"), lua_setfield(L, -2, "kind");
    return 1;
}

static int d_list(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_createtable(L, 0, 3);
    lua_pushliteral(L, "list"), lua_setfield(L, -2, "kind");
    lua_pushinteger(L, n), lua_setfield(L, -2, "n");
    lua_pushvalue(L, 2), lua_setfield(L, -2, "of");
    return 1;
}

static int d_perm(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "perm"), lua_setfield(L, -2, "kind");
    lua_pushinteger(L, n), lua_setfield(L, -2, "n");
    return 1;
}

/* Uservalue 3: interned param names and slot values, so building config tables hashes nothing. */
static void build_cache(lua_State *L, lspace *u, int ud) {
    const space *sp = u->sp;
    int np = space_nparams(sp), ns = space_nslots(sp), next = np;
    if (!(u->val_off = malloc((size_t)ns * sizeof *u->val_off))) luaL_error(L, "htune.space.new: out of memory");
    lua_createtable(L, np + 16, 0);
    for (int p = 0; p < np; p++) lua_pushstring(L, space_param_name(sp, p)), lua_rawseti(L, -2, p + 1);
    for (int s = 0; s < ns; s++) {
        int p = space_slot_param(sp, s), count = space_slot_count(sp, s);
        u->val_off[s] = -1;
        if (space_param_kind(sp, p) == SPACE_PERM || count > 4096) continue;
        if (s > space_param_slot(sp, p)) { /* later list element: same values as the first */
            u->val_off[s] = u->val_off[s - 1];
            continue;
        }
        u->val_off[s] = next;
        for (int32_t i = 0; i < count; i++) {
            space_value v;
            space_slot_value(sp, s, i, &v);
            lspace_push_value(L, &v);
            lua_rawseti(L, -2, ++next);
        }
    }
    lua_setiuservalue(L, ud, 3);
}

static int l_new(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "name");
    const char *name = luaL_optstring(L, -1, "space");
    lspace *u = (lspace *)lua_newuserdatauv(L, sizeof *u, 3);
    memset(u, 0, sizeof *u);
    luaL_setmetatable(L, SPACE_MT);
    int ud = lua_gettop(L);
    if (!(u->sp = space_new(name))) return luaL_error(L, "htune.space.new: out of memory");
    add_params(L, u->sp, 1);
    build_cache(L, u, ud);
    add_bounds(L, u->sp, 1);
    u->npred = add_constraints(L, ud, 1);
    lua_getfield(L, 1, "max_tries");
    lua_Integer tries = luaL_optinteger(L, -1, 10000);
    if (tries < 1 || tries > 100000000) luaL_error(L, "htune.space.new: max_tries=%I must be in 1..1e8", tries);
    u->max_tries = (int)tries;
    lua_settop(L, ud);
    return 1;
}

const luaL_Reg lspace_declaring[] = {
    {"new", l_new}, {"pow2", d_pow2}, {"int", d_int}, {"choice", d_choice}, {"bool", d_bool},
    {"list", d_list}, {"perm", d_perm}, {NULL, NULL},
};

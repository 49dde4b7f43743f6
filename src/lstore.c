/* htune.store: the Lua binding of the results store (src/store.c). A Store userdata owns one
 * connection; rows come back as flat tables named by column. Policy (run keys, resume,
 * trial shape, export) lives in lua/htune/record.lua and lua/htune/exchange.lua. */
#include "runtime.h"
#include "store.h"
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define STORE_MT "htune.Store"

typedef struct {
    store *s;
    char path[1024];
} lstore;

static lstore *check_store(lua_State *L, int i) {
    lstore *u = luaL_checkudata(L, i, STORE_MT);
    if (!u->s) luaL_error(L, "htune.store: store %s is closed", u->path);
    return u;
}

static int push_fail(lua_State *L, int code, const char *err) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    lua_pushstring(L, store_code_name(code));
    return 3;
}

static double opt_num(lua_State *L, int t, const char *k, double dflt) {
    lua_getfield(L, t, k);
    double v = luaL_optnumber(L, -1, dflt);
    lua_pop(L, 1);
    return v;
}

/* open(path [, {batch_ms=5, batch_max=256, busy_ms=10000}]) -> Store | nil, msg, code */
static int l_open(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    store_options o = {5, 256, 10000};
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        o.batch_ms = opt_num(L, 2, "batch_ms", o.batch_ms);
        o.batch_max = (int)opt_num(L, 2, "batch_max", o.batch_max);
        o.busy_ms = (int)opt_num(L, 2, "busy_ms", o.busy_ms);
        if (o.batch_ms < 0 || o.batch_max < 1 || o.busy_ms < 0)
            return luaL_argerror(L, 2, lua_pushfstring(L, "batch_ms and busy_ms must be >= 0, batch_max >= 1, got batch_ms %f, busy_ms %d, batch_max %d", o.batch_ms, o.busy_ms, o.batch_max));
    }
    lstore *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->s = NULL;
    snprintf(u->path, sizeof u->path, "%s", path);
    luaL_setmetatable(L, STORE_MT);
    char err[512];
    int rc = store_open(&u->s, path, &o, err, sizeof err);
    return rc == 0 ? 1 : push_fail(L, rc, err);
}

/* A string field (or NULL); the table keeps the string alive after the pop. */
static const char *field_str(lua_State *L, int t, const char *k) {
    int ty = lua_getfield(L, t, k);
    if (ty != LUA_TNIL && ty != LUA_TSTRING)
        luaL_error(L, "htune.store: field '%s' must be a string, got %s", k, lua_typename(L, ty));
    const char *s = lua_tostring(L, -1);
    lua_pop(L, 1);
    return s;
}

static double field_num(lua_State *L, int t, const char *k, double dflt) {
    int ty = lua_getfield(L, t, k);
    double v = dflt;
    if (ty == LUA_TNUMBER) v = lua_tonumber(L, -1);
    else if (ty != LUA_TNIL) luaL_error(L, "htune.store: field '%s' must be a number, got %s", k, lua_typename(L, ty));
    lua_pop(L, 1);
    return v;
}

/* st:add_run{uid=, run_key=, problem=, ..., seed=, pid=, started=, status=} -> id, existed */
static int l_add_run(lua_State *L) {
    lstore *u = check_store(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    store_run r = {
        field_str(L, 2, "uid"), field_str(L, 2, "run_key"), field_str(L, 2, "problem"),
        field_str(L, 2, "problem_key"), field_str(L, 2, "source_hash"), field_str(L, 2, "shape"),
        field_str(L, 2, "dtype"), field_str(L, 2, "device"), field_str(L, 2, "cc"), field_str(L, 2, "driver"),
        field_str(L, 2, "htune_version"), field_str(L, 2, "strategy"), field_str(L, 2, "host"),
        field_str(L, 2, "status"), (int64_t)field_num(L, 2, "seed", 0), (int64_t)field_num(L, 2, "pid", 0),
        field_num(L, 2, "started", store_now()), field_num(L, 2, "finished", -1),
    };
    if (!r.uid || !r.run_key) return luaL_error(L, "htune.store: add_run needs field '%s'", r.uid ? "run_key" : "uid");
    int64_t id = 0;
    int existed = 0;
    char err[512];
    int rc = store_run_add(u->s, &r, &id, &existed, err, sizeof err);
    if (rc != 0) return push_fail(L, rc, err);
    lua_pushinteger(L, id);
    lua_pushboolean(L, existed);
    return 2;
}

/* st:set_run(id, status [, pid, host, finished]) -> true | nil, msg, code */
static int l_set_run(lua_State *L) {
    lstore *u = check_store(L, 1);
    char err[512];
    int rc = store_run_set(u->s, luaL_checkinteger(L, 2), luaL_checkstring(L, 3), luaL_optinteger(L, 4, 0),
                           luaL_optstring(L, 5, NULL), luaL_optnumber(L, 6, -1), err, sizeof err);
    if (rc != 0) return push_fail(L, rc, err);
    lua_pushboolean(L, 1);
    return 1;
}

/* st:add_trial{run_id=, seq=, cfg=json, hash=, ok=, reason=, latency_us=, ..., facts=json, log=} */
static int l_add_trial(lua_State *L) {
    lstore *u = check_store(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "ok");
    int ok = lua_toboolean(L, -1);
    lua_pop(L, 1);
    store_trial t = {
        (int64_t)field_num(L, 2, "run_id", 0), (int64_t)field_num(L, 2, "seq", 0), (int64_t)field_num(L, 2, "reps", -1),
        field_str(L, 2, "cfg"), field_str(L, 2, "hash"), field_str(L, 2, "reason"), field_str(L, 2, "facts"),
        field_str(L, 2, "log"), ok, field_num(L, 2, "latency_us", NAN), field_num(L, 2, "median_us", NAN),
        field_num(L, 2, "min_us", NAN), field_num(L, 2, "mean_us", NAN), field_num(L, 2, "stddev_us", NAN),
        field_num(L, 2, "noise_pct", NAN), field_num(L, 2, "compile_ms", NAN), field_num(L, 2, "bench_ms", NAN),
        field_num(L, 2, "wall_ms", NAN), field_num(L, 2, "created", store_now()),
    };
    if (t.run_id <= 0) return luaL_error(L, "htune.store: add_trial field 'run_id' must be a run id, got %I", (lua_Integer)t.run_id);
    if (!t.cfg_json || !t.cfg_hash) return luaL_error(L, "htune.store: add_trial needs field '%s'", t.cfg_json ? "hash" : "cfg");
    char err[512];
    int rc = store_trial_add(u->s, &t, err, sizeof err);
    if (rc != 0) return push_fail(L, rc, err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_flush(lua_State *L) {
    lstore *u = check_store(L, 1);
    char err[512];
    int rc = store_flush(u->s, err, sizeof err);
    if (rc != 0) return push_fail(L, rc, err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_committed(lua_State *L) {
    lua_pushinteger(L, store_committed(check_store(L, 1)->s));
    return 1;
}

static int l_pending(lua_State *L) {
    lua_pushinteger(L, store_pending(check_store(L, 1)->s));
    return 1;
}

static void push_cell(lua_State *L, store_cursor *c, int i) {
    size_t n;
    switch (store_cursor_type(c, i)) {
    case STORE_INT: lua_pushinteger(L, store_cursor_int(c, i)); break;
    case STORE_REAL: lua_pushnumber(L, store_cursor_real(c, i)); break;
    case STORE_TEXT: {
        const char *t = store_cursor_text(c, i, &n);
        lua_pushlstring(L, t, n);
        break;
    }
    default: lua_pushnil(L);
    }
}

/* Drains a cursor into an array of {column = value} tables (NULL columns absent). */
static int push_rows(lua_State *L, store_cursor *c) {
    char err[512];
    int rc, n = 0;
    lua_newtable(L);
    while ((rc = store_cursor_next(c, err, sizeof err)) == 1) {
        lua_createtable(L, 0, store_cursor_ncols(c));
        for (int i = 0; i < store_cursor_ncols(c); i++) {
            push_cell(L, c, i);
            lua_setfield(L, -2, store_cursor_name(c, i));
        }
        lua_rawseti(L, -2, ++n);
    }
    store_cursor_free(c);
    if (rc < 0) return push_fail(L, rc, err);
    return 1;
}

static store_filter check_filter(lua_State *L, int t) {
    store_filter f = {0};
    if (lua_isnoneornil(L, t)) return f;
    luaL_checktype(L, t, LUA_TTABLE);
    f.id = (int64_t)field_num(L, t, "id", 0);
    f.run_key = field_str(L, t, "run_key");
    f.problem = field_str(L, t, "problem");
    f.uid = field_str(L, t, "uid");
    f.source_hash = field_str(L, t, "source_hash");
    f.shape = field_str(L, t, "shape");
    f.dtype = field_str(L, t, "dtype");
    f.device = field_str(L, t, "device");
    f.problem_key = field_str(L, t, "problem_key");
    f.limit = (int64_t)field_num(L, t, "limit", 0);
    return f;
}

/* st:runs([filter]) / st:best([filter]) / st:trials(run_id) -> array of rows | nil, msg, code */
static int l_runs(lua_State *L) {
    lstore *u = check_store(L, 1);
    store_filter f = check_filter(L, 2);
    store_cursor *c;
    char err[512];
    int rc = store_runs(u->s, &f, &c, err, sizeof err);
    return rc == 0 ? push_rows(L, c) : push_fail(L, rc, err);
}

static int l_best(lua_State *L) {
    lstore *u = check_store(L, 1);
    store_filter f = check_filter(L, 2);
    store_cursor *c;
    char err[512];
    int rc = store_best(u->s, &f, &c, err, sizeof err);
    return rc == 0 ? push_rows(L, c) : push_fail(L, rc, err);
}

static int l_trials(lua_State *L) {
    lstore *u = check_store(L, 1);
    store_cursor *c;
    char err[512];
    int rc = store_trials(u->s, luaL_checkinteger(L, 2), &c, err, sizeof err);
    return rc == 0 ? push_rows(L, c) : push_fail(L, rc, err);
}

static int l_release(lua_State *L) {
    lstore *u = luaL_checkudata(L, 1, STORE_MT);
    store_close(u->s);
    u->s = NULL;
    return 0;
}

static int l_path(lua_State *L) {
    lua_pushstring(L, ((lstore *)luaL_checkudata(L, 1, STORE_MT))->path);
    return 1;
}

static int l_tostring(lua_State *L) {
    lstore *u = luaL_checkudata(L, 1, STORE_MT);
    if (!u->s) lua_pushfstring(L, "htune.Store(%s, closed)", u->path);
    else lua_pushfstring(L, "htune.Store(%s, %I committed, %d pending)", u->path,
                         (lua_Integer)store_committed(u->s), store_pending(u->s));
    return 1;
}

/* pid_alive(pid) -> boolean: whether a process with that id exists on this host. */
static int l_pid_alive(lua_State *L) {
    lua_Integer pid = luaL_checkinteger(L, 1);
    lua_pushboolean(L, pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM));
    return 1;
}

static int l_hostname(lua_State *L) {
    char name[256] = "unknown";
    gethostname(name, sizeof name - 1);
    name[sizeof name - 1] = '\0';
    lua_pushstring(L, name);
    return 1;
}

static int l_now(lua_State *L) {
    lua_pushnumber(L, store_now());
    return 1;
}

int luaopen_htune_store(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"add_run", l_add_run}, {"set_run", l_set_run}, {"add_trial", l_add_trial}, {"flush", l_flush},
        {"committed", l_committed}, {"pending", l_pending}, {"runs", l_runs}, {"best", l_best},
        {"trials", l_trials}, {"close", l_release}, {"path", l_path}, {NULL, NULL},
    };
    static const luaL_Reg meta[] = {{"__gc", l_release}, {"__close", l_release}, {"__tostring", l_tostring}, {NULL, NULL}};
    static const luaL_Reg fns[] = {{"open", l_open}, {"pid_alive", l_pid_alive}, {"hostname", l_hostname},
                                   {"now", l_now}, {NULL, NULL}};
    luaL_newmetatable(L, STORE_MT);
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, fns);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "available");
    lua_pushinteger(L, STORE_SCHEMA_VERSION);
    lua_setfield(L, -2, "schema_version");
    return 1;
}

/* htune.nvrtc: Lua binding of the compile service. The service lives in a module-owned
 * userdata (htune.NvrtcService, upvalue 1 of every function; __gc joins the pool); handles are
 * htune.CompileJob userdata. Jobs are validated (raising, naming the field) before any C
 * allocation, then cross to worker threads as plain structs. */
#include "nvsvc.h"
#include "runtime.h"
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define SVC_MT "htune.NvrtcService"
#define JOB_MT "htune.CompileJob"

typedef struct { struct nvsvc *svc; } svc_box;
typedef struct { struct nvsvc_ticket *t; } job_box;

static struct nvsvc *svc_of(lua_State *L) {
    svc_box *b = luaL_checkudata(L, lua_upvalueindex(1), SVC_MT);
    if (!b->svc) luaL_error(L, "htune.nvrtc: the compile service was closed");
    return b->svc;
}

static int no_nvrtc(lua_State *L, struct nvsvc *s) {
    lua_pushnil(L);
    lua_pushstring(L, nvsvc_error(s));
    lua_pushliteral(L, "ENONVRTC");
    return 3;
}

/* ---- job validation (raises) and conversion (does not) ------------------------------------ */

static void check_string_list(lua_State *L, int job, const char *field) {
    int t = lua_getfield(L, job, field);
    if (t != LUA_TNIL && t != LUA_TTABLE) luaL_error(L, "job.%s: expected an array of strings, got %s", field, luaL_typename(L, -1));
    if (t == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_geti(L, -1, i) != LUA_TSTRING) luaL_error(L, "job.%s[%d]: expected a string, got %s", field, (int)i, luaL_typename(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

static void check_defines(lua_State *L, int job) {
    int t = lua_getfield(L, job, "defines");
    if (t != LUA_TNIL && t != LUA_TTABLE) luaL_error(L, "job.defines: expected a table NAME=value, got %s", luaL_typename(L, -1));
    if (t == LUA_TTABLE) for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "job.defines: keys must be macro names (strings), got %s", luaL_typename(L, -2));
        int vt = lua_type(L, -1);
        if (vt != LUA_TSTRING && vt != LUA_TNUMBER && vt != LUA_TBOOLEAN)
            luaL_error(L, "job.defines.%s: expected a string, number or boolean, got %s", lua_tostring(L, -2), luaL_typename(L, -1));
    }
    lua_pop(L, 1);
}

static void check_opt_string(lua_State *L, int job, const char *field) {
    int t = lua_getfield(L, job, field);
    if (t != LUA_TNIL && t != LUA_TSTRING) luaL_error(L, "job.%s: expected a string, got %s", field, luaL_typename(L, -1));
    lua_pop(L, 1);
}

static void check_job(lua_State *L, int job) {
    if (lua_type(L, job) != LUA_TTABLE) luaL_argerror(L, job, lua_pushfstring(L, "job: expected a table, got %s", luaL_typename(L, job)));
    if (lua_getfield(L, job, "source") != LUA_TSTRING) luaL_error(L, "job.source: expected a string, got %s", luaL_typename(L, -1));
    lua_pop(L, 1);
    check_opt_string(L, job, "name");
    check_opt_string(L, job, "arch");
    check_string_list(L, job, "options");
    check_string_list(L, job, "include_dirs");
    check_string_list(L, job, "name_exprs");
    check_defines(L, job);
}

static char *field_dup(lua_State *L, int job, const char *field) {
    lua_getfield(L, job, field);
    const char *s = lua_tostring(L, -1);
    char *d = s ? strdup(s) : NULL;
    lua_pop(L, 1);
    return d;
}

static char **list_dup(lua_State *L, int job, const char *field, int *n) {
    *n = 0;
    char **v = NULL;
    if (lua_getfield(L, job, field) == LUA_TTABLE) {
        int len = (int)lua_rawlen(L, -1);
        v = len ? calloc((size_t)len, sizeof *v) : NULL;
        for (int i = 0; v && i < len; i++, (*n)++) {
            lua_rawgeti(L, -1, i + 1);
            v[i] = strdup(lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return v;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* "NAME=value" (true: "NAME"; false: left out), sorted so equal jobs hash equal. */
static char **defines_dup(lua_State *L, int job, int *n) {
    *n = 0;
    int cap = 0;
    char **v = NULL;
    if (lua_getfield(L, job, "defines") != LUA_TTABLE) lua_newtable(L), lua_remove(L, -2);
    for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
        if (lua_isboolean(L, -1) && !lua_toboolean(L, -1)) continue;
        if (*n == cap) {
            char **bigger = realloc(v, (size_t)(cap = cap ? cap * 2 : 8) * sizeof *v);
            if (!bigger) continue;
            v = bigger;
        }
        const char *name = lua_tostring(L, -2);
        if (lua_isboolean(L, -1)) v[(*n)++] = strdup(name);
        else {
            lua_pushvalue(L, -1); /* lua_tolstring on a number converts in place: use a copy */
            v[(*n)++] = strdup(lua_pushfstring(L, "%s=%s", name, lua_tostring(L, -1)));
            lua_pop(L, 2);
        }
    }
    lua_pop(L, 1);
    if (*n) qsort(v, (size_t)*n, sizeof *v, cmp_str);
    return v;
}

/* Fills job from a validated table; returns 0, or raises "out of memory" after freeing. */
static void to_job(lua_State *L, int idx, struct nvrtc_job *job) {
    memset(job, 0, sizeof *job);
    size_t len = 0;
    lua_getfield(L, idx, "source");
    const char *src = lua_tolstring(L, -1, &len);
    job->source = malloc(len + 1);
    if (job->source) memcpy(job->source, src, len + 1);
    job->source_len = len;
    lua_pop(L, 1);
    job->name = field_dup(L, idx, "name");
    job->arch = field_dup(L, idx, "arch");
    job->options = list_dup(L, idx, "options", &job->noptions);
    job->include_dirs = list_dup(L, idx, "include_dirs", &job->nincludes);
    job->name_exprs = list_dup(L, idx, "name_exprs", &job->nname_exprs);
    job->defines = defines_dup(L, idx, &job->ndefines);
}

/* ---- results ------------------------------------------------------------------------------ */

static void set_int(lua_State *L, const char *k, int v) {
    if (v < 0) return;
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void push_facts(lua_State *L, const struct nvrtc_facts *f) {
    lua_createtable(L, 0, 7);
    set_int(L, "regs", f->regs);
    set_int(L, "spill_stores", f->spill_stores);
    set_int(L, "spill_loads", f->spill_loads);
    set_int(L, "smem_bytes", f->smem_bytes);
    set_int(L, "local_bytes", f->local_bytes);
    set_int(L, "cmem_bytes", f->cmem_bytes);
    lua_pushstring(L, f->mangled);
    lua_setfield(L, -2, "mangled");
}

/* lowered = {expr = mangled}; facts keyed by mangled name and by expression. */
static void push_names(lua_State *L, const struct nvrtc_job *job, const struct nvrtc_result *res) {
    lua_newtable(L);
    for (int i = 0; i < res->nlowered && i < job->nname_exprs; i++) {
        if (!res->lowered[i]) continue;
        lua_pushstring(L, res->lowered[i]);
        lua_setfield(L, -2, job->name_exprs[i]);
    }
    lua_setfield(L, -2, "lowered");
    lua_newtable(L);
    for (int k = 0; k < res->nfacts; k++) {
        push_facts(L, &res->facts[k]);
        for (int i = 0; i < res->nlowered && i < job->nname_exprs; i++) {
            if (!res->lowered[i] || strcmp(res->lowered[i], res->facts[k].mangled) != 0) continue;
            lua_pushvalue(L, -1);
            lua_setfield(L, -3, job->name_exprs[i]);
        }
        lua_setfield(L, -2, res->facts[k].mangled);
    }
    lua_setfield(L, -2, "facts");
}

static void push_result(lua_State *L, const struct nvrtc_job *job, const struct nvrtc_result *res) {
    lua_createtable(L, 0, 12);
    lua_pushboolean(L, res->ok);
    lua_setfield(L, -2, "ok");
    if (res->ok) {
        lua_pushlstring(L, res->cubin, res->cubin_len);
        lua_setfield(L, -2, "cubin");
    } else {
        lua_pushstring(L, res->error[0] ? res->error : "cancelled");
        lua_setfield(L, -2, "error");
    }
    lua_pushstring(L, res->log ? res->log : "");
    lua_setfield(L, -2, "log");
    push_names(L, job, res);
    lua_pushnumber(L, res->compile_ms);
    lua_setfield(L, -2, "compile_ms");
    lua_pushboolean(L, res->cached);
    lua_setfield(L, -2, "cached");
    lua_pushinteger(L, res->batch);
    lua_setfield(L, -2, "batch");
    lua_pushstring(L, nvrtc_job_arch(job));
    lua_setfield(L, -2, "arch");
}

/* ---- compile, submit, handles ------------------------------------------------------------- */

static int l_compile(lua_State *L) {
    struct nvsvc *s = svc_of(L);
    check_job(L, 1);
    if (nvsvc_error(s)) return no_nvrtc(L, s);
    struct nvrtc_job job;
    struct nvrtc_result res;
    to_job(L, 1, &job);
    nvsvc_compile(s, &job, &res);
    push_result(L, &job, &res);
    nvrtc_result_free(&res);
    nvrtc_job_free(&job);
    return 1;
}

static int l_submit(lua_State *L) {
    struct nvsvc *s = svc_of(L);
    check_job(L, 1);
    if (nvsvc_error(s)) return no_nvrtc(L, s);
    job_box *b = lua_newuserdatauv(L, sizeof *b, 1);
    b->t = NULL;
    luaL_setmetatable(L, JOB_MT);
    lua_pushvalue(L, lua_upvalueindex(1)); /* the handle keeps the service alive */
    lua_setiuservalue(L, -2, 1);
    struct nvrtc_job job;
    to_job(L, 1, &job);
    b->t = nvsvc_submit(s, &job);
    nvrtc_job_free(&job);
    if (!b->t) return luaL_error(L, "htune.nvrtc.submit: out of memory or cannot start threads");
    return 1;
}

static job_box *check_handle(lua_State *L, int i) {
    job_box *b = luaL_checkudata(L, i, JOB_MT);
    if (!b->t) luaL_error(L, "htune.CompileJob: used after close");
    return b;
}

static struct nvsvc *handle_svc(lua_State *L, int i) {
    lua_getiuservalue(L, i, 1);
    svc_box *sb = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!sb || !sb->svc) luaL_error(L, "htune.CompileJob: the compile service was closed");
    return sb->svc;
}

static int h_ready(lua_State *L) {
    job_box *b = check_handle(L, 1);
    lua_pushboolean(L, nvsvc_ready(handle_svc(L, 1), b->t));
    return 1;
}

static int h_wait(lua_State *L) {
    job_box *b = check_handle(L, 1);
    nvsvc_wait(handle_svc(L, 1), b->t);
    push_result(L, &b->t->job, &b->t->res);
    return 1;
}

/* handle:cancel() -> true when the compile was withdrawn before a worker started it. */
static int h_cancel(lua_State *L) {
    job_box *b = check_handle(L, 1);
    lua_pushboolean(L, nvsvc_cancel(handle_svc(L, 1), b->t));
    return 1;
}

static int h_gc(lua_State *L) {
    job_box *b = luaL_checkudata(L, 1, JOB_MT);
    nvsvc_release(b->t);
    b->t = NULL;
    return 0;
}

static int h_tostring(lua_State *L) {
    job_box *b = luaL_checkudata(L, 1, JOB_MT);
    if (!b->t) lua_pushliteral(L, "htune.CompileJob(closed)");
    else lua_pushfstring(L, "htune.CompileJob(%s, %d name_exprs, %s)", b->t->job.name ? b->t->job.name : "prog.cu",
                         b->t->job.nname_exprs, nvrtc_job_arch(&b->t->job));
    return 1;
}

static struct nvsvc_ticket **collect_handles(lua_State *L, int idx, int *n) {
    luaL_checktype(L, idx, LUA_TTABLE);
    *n = (int)luaL_len(L, idx);
    struct nvsvc_ticket **t = lua_newuserdatauv(L, (size_t)(*n ? *n : 1) * sizeof *t, 0);
    for (int i = 0; i < *n; i++) {
        lua_geti(L, idx, i + 1);
        job_box *b = luaL_testudata(L, -1, JOB_MT);
        if (!b || !b->t) luaL_error(L, "wait_any: handles[%d] is not an open htune.CompileJob", i + 1);
        t[i] = b->t;
        lua_pop(L, 1);
    }
    return t;
}

static int l_wait_any(lua_State *L) {
    struct nvsvc *s = svc_of(L);
    int n = 0, timeout_ms = (int)luaL_optinteger(L, 2, -1);
    lua_settop(L, 2);
    struct nvsvc_ticket **t = collect_handles(L, 1, &n);
    int idx = n ? nvsvc_wait_any(s, t, n, timeout_ms) : -1;
    if (idx < 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushinteger(L, idx + 1);
    push_result(L, &t[idx]->job, &t[idx]->res);
    return 2;
}

/* ---- settings and cache ------------------------------------------------------------------- */

static int l_version(lua_State *L) {
    struct nvsvc *s = svc_of(L);
    if (nvsvc_error(s)) return no_nvrtc(L, s);
    const struct nvrtc_api *api = nvsvc_api(s);
    lua_pushfstring(L, "%d.%d", api->major, api->minor);
    lua_pushinteger(L, api->major);
    lua_pushinteger(L, api->minor);
    return 3;
}

/* huge_text() -> { remapped = bytes, huge = bytes, note = string }: libnvrtc's read-only
 * mappings on huge pages (nvrtc_huge_text; done now if no compile has done it yet). */
static int l_huge_text(lua_State *L) {
    struct nvsvc *s = svc_of(L);
    if (nvsvc_error(s)) return no_nvrtc(L, s);
    nvsvc_huge_text(s);
    const struct nvrtc_api *api = nvsvc_api(s);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)api->text_remapped);
    lua_setfield(L, -2, "remapped");
    lua_pushinteger(L, (lua_Integer)api->text_huge);
    lua_setfield(L, -2, "huge");
    lua_pushstring(L, api->text_note);
    lua_setfield(L, -2, "note");
    return 1;
}

/* driver_cache() -> boolean: whether NVRTC's own cache is left on (see nvrtc_api.driver_cache). */
static int l_driver_cache(lua_State *L) {
    struct nvsvc *s = svc_of(L);
    if (nvsvc_error(s)) return no_nvrtc(L, s);
    lua_pushboolean(L, nvsvc_api(s)->driver_cache);
    return 1;
}

static int l_threads(lua_State *L) {
    struct nvsvc *s = svc_of(L);
    lua_pushinteger(L, nvsvc_threads(s));
    if (lua_isnoneornil(L, 1)) return 1;
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 1 && n <= 1024, 1, "threads: expected 1..1024");
    if (nvsvc_set_threads(s, (int)n) != 0) return luaL_error(L, "threads(%d): compile jobs are still pending", (int)n);
    return 1;
}

static int l_max_batch(lua_State *L) {
    struct nvsvc *s = svc_of(L);
    lua_pushinteger(L, nvsvc_max_batch(s));
    if (lua_isnoneornil(L, 1)) return 1;
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 1 && n <= 256, 1, "max_batch: expected 1..256");
    nvsvc_set_max_batch(s, (int)n);
    return 1;
}

static int l_cache(lua_State *L) {
    struct nvsvc *s = svc_of(L);
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_getfield(L, 1, "dir");
        const char *dir = luaL_opt(L, luaL_checkstring, -1, NULL);
        lua_getfield(L, 1, "max_bytes");
        long long max = luaL_opt(L, luaL_checkinteger, -1, -1);
        lua_getfield(L, 1, "enabled");
        int enabled = lua_isnil(L, -1) ? -1 : lua_toboolean(L, -1);
        char err[512];
        if (nvsvc_cache_config(s, dir, max, enabled, err, sizeof err) != 0) return luaL_error(L, "cache: %s", err);
        lua_pop(L, 3);
    }
    lua_createtable(L, 0, 3); /* settings only: reading them creates no directory */
    lua_pushboolean(L, nvsvc_cache_enabled(s));
    lua_setfield(L, -2, "enabled");
    lua_pushstring(L, nvsvc_cache_dir(s));
    lua_setfield(L, -2, "dir");
    lua_pushinteger(L, nvsvc_cache_max(s));
    lua_setfield(L, -2, "max_bytes");
    return 1;
}

static int l_cache_stats(lua_State *L) {
    char err[512];
    struct cache *c = nvsvc_cache(svc_of(L), err, sizeof err);
    struct cache_stats st;
    if (!c || cache_stats(c, &st) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, c ? "cannot read the cache directory" : err);
        lua_pushliteral(L, "ECACHE");
        return 3;
    }
    lua_createtable(L, 0, 8);
    lua_pushstring(L, cache_dir(c));
    lua_setfield(L, -2, "dir");
    long long v[] = {st.entries, st.bytes, cache_max_bytes(c), st.hits, st.misses, st.corrupt, st.evicted};
    const char *k[] = {"entries", "bytes", "max_bytes", "hits", "misses", "corrupt", "evicted"};
    for (int i = 0; i < 7; i++) {
        lua_pushinteger(L, v[i]);
        lua_setfield(L, -2, k[i]);
    }
    return 1;
}

static int l_cache_clear(lua_State *L) {
    char err[512];
    struct cache *c = nvsvc_cache(svc_of(L), err, sizeof err);
    if (!c) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        lua_pushliteral(L, "ECACHE");
        return 3;
    }
    lua_pushinteger(L, cache_clear(c));
    return 1;
}

static int svc_gc(lua_State *L) {
    svc_box *b = luaL_checkudata(L, 1, SVC_MT);
    nvsvc_free(b->svc);
    b->svc = NULL;
    return 0;
}

static const luaL_Reg handle_methods[] = {
    {"ready", h_ready}, {"wait", h_wait}, {"cancel", h_cancel}, {"close", h_gc}, {NULL, NULL},
};

static const luaL_Reg funcs[] = {
    {"compile", l_compile}, {"submit", l_submit}, {"wait_any", l_wait_any}, {"version", l_version}, {"huge_text", l_huge_text},
    {"driver_cache", l_driver_cache},
    {"threads", l_threads}, {"max_batch", l_max_batch}, {"cache", l_cache},
    {"cache_stats", l_cache_stats}, {"cache_clear", l_cache_clear}, {NULL, NULL},
};

static void make_metatables(lua_State *L) {
    luaL_newmetatable(L, JOB_MT);
    luaL_newlib(L, handle_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, h_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, h_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, h_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    luaL_newmetatable(L, SVC_MT);
    lua_pushcfunction(L, svc_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
}

int luaopen_htune_nvrtc(lua_State *L) {
    make_metatables(L);
    luaL_newlibtable(L, funcs);
    svc_box *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->svc = NULL;
    luaL_setmetatable(L, SVC_MT);
    if (!(b->svc = nvsvc_new(NULL))) return luaL_error(L, "htune.nvrtc: out of memory");
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "_service"); /* owned by the module table: __gc at lua_close */
    luaL_setfuncs(L, funcs, 1);
    lua_pushboolean(L, nvsvc_error(b->svc) == NULL);
    lua_setfield(L, -2, "available");
    lua_pushstring(L, nvsvc_error(b->svc) ? nvsvc_error(b->svc) : "");
    lua_setfield(L, -2, "unavailable_reason");
    return 1;
}

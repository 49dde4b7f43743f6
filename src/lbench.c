/* htune.bench: the GPU worker as userdata "htune.Worker" (spawn, problem setup, trials and
 * baselines submitted without blocking, poll with the watchdog; faults and hangs restart
 * the worker inside poll), and dtype / option parsing from Lua tables into wproto structs. */
#include "runtime.h"
#include "worker.h"
#include "nvml.h"
#include "util.h"
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WORKER_MT "htune.Worker"

typedef struct {
    struct worker *w;
    double timeout_ms;        /* watchdog of the request in flight */
    int kind;                 /* WP_TRIAL or WP_BASELINE in flight */
    int nbufs;                /* the last setup's buffers, to check trials' tensor-map args */
    struct wp_buffer bufs[WP_MAX_BUFS];
} lworker;

static lworker *check_worker(lua_State *L, int i) {
    lworker *lw = luaL_checkudata(L, i, WORKER_MT);
    if (!lw->w) luaL_error(L, "htune.Worker: used after close");
    return lw;
}

static int parse_dtype(lua_State *L, const char *field, const char *s) {
    static const char *names[] = { "fp32", "fp16", "bf16", "int32", "f32", "f16", "bf16", "i32", "float32", "float16", "bfloat16", "int32" };
    for (int i = 0; i < 12; i++) if (strcmp(s, names[i]) == 0) return i % 4;
    return luaL_error(L, "%s: unknown dtype '%s' (fp32, fp16, bf16, int32)", field, s);
}

static double opt_num(lua_State *L, int t, const char *k, double dflt) {
    lua_getfield(L, t, k);
    double v = lua_isnil(L, -1) ? dflt : lua_isboolean(L, -1) ? lua_toboolean(L, -1) : luaL_checknumber(L, -1);
    lua_pop(L, 1);
    return v;
}

static void get_dim3(lua_State *L, int t, const char *k, uint32_t out[3], uint32_t dflt) {
    out[0] = out[1] = out[2] = 1;
    out[0] = dflt;
    lua_getfield(L, t, k);
    if (lua_isinteger(L, -1)) out[0] = (uint32_t)lua_tointeger(L, -1);
    else if (lua_istable(L, -1))
        for (int i = 0; i < 3; i++) {
            lua_rawgeti(L, -1, i + 1);
            if (!lua_isnil(L, -1)) {
                lua_Integer v = luaL_checkinteger(L, -1);
                if (v < 1) luaL_error(L, "%s[%d]: %d is not a positive size", k, i + 1, (int)v);
                out[i] = (uint32_t)v;
            }
            lua_pop(L, 1);
        }
    else if (!lua_isnil(L, -1)) luaL_error(L, "%s: expected an integer or {x, y, z}", k);
    lua_pop(L, 1);
}

/* Field k of args[i] (table at t) as an integer 0..hi (absent: dflt, or raise when dflt < 0);
 * the values' meaning is checked by wp_check_tmap. */
static lua_Integer arg_int(lua_State *L, int t, int i, const char *k, lua_Integer hi, lua_Integer dflt) {
    lua_getfield(L, t, k);
    int isnum;
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    if (lua_isnil(L, -1) && dflt >= 0) v = dflt, isnum = 1;
    if (!isnum || v < 0 || v > hi)
        luaL_error(L, "args[%d].%s must be an integer 0..%I, got %s", i, k, hi, luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    return v;
}

/* {tmap=buffer (1-based), rows=, cols=, box_rows=, box_cols=, swizzle=0}, checked against the
 * buffers as the worker's decoder checks it. */
static void get_tmap(lua_State *L, int t, int i, struct wp_arg *a, const struct wp_buffer *bufs, int nbufs) {
    const lua_Integer u32 = 0xffffffff;
    char why[200];
    a->kind = WP_ARG_TMAP;
    a->i = arg_int(L, t, i, "tmap", WP_MAX_BUFS, -1) - 1;
    a->tm.rows = (uint64_t)arg_int(L, t, i, "rows", (lua_Integer)1 << 40, -1);
    a->tm.cols = (uint64_t)arg_int(L, t, i, "cols", (lua_Integer)1 << 40, -1);
    a->tm.box_rows = (uint32_t)arg_int(L, t, i, "box_rows", u32, -1);
    a->tm.box_cols = (uint32_t)arg_int(L, t, i, "box_cols", u32, -1);
    a->tm.swizzle = (uint32_t)arg_int(L, t, i, "swizzle", u32, 0);
    if (wp_check_tmap(a, bufs, nbufs, why, sizeof why)) luaL_error(L, "args[%d].%s", i, why);
}

/* One kernel argument: {buf=i} (1-based), {i32=}, {i64=}, {f32=}, {f64=}, {tmap=i, ...}. */
static void get_arg(lua_State *L, int t, int i, struct wp_arg *a, const struct wp_buffer *bufs, int nbufs) {
    static const char *keys[] = { "buf", "i32", "i64", "f32", "f64", "tmap" };
    if (!lua_istable(L, t)) luaL_error(L, "args[%d]: expected {buf=n}, {i32=v}/{i64=}/{f32=}/{f64=} or {tmap=n, ...}", i);
    for (int k = 0; k < 6; k++) {
        lua_getfield(L, t, keys[k]);
        if (!lua_isnil(L, -1)) {
            if (k == WP_ARG_TMAP) {
                lua_pop(L, 1);
                return get_tmap(L, t, i, a, bufs, nbufs);
            }
            a->kind = k;
            if (k == WP_ARG_F32 || k == WP_ARG_F64) a->f = luaL_checknumber(L, -1);
            else a->i = luaL_checkinteger(L, -1) - (k == WP_ARG_BUF ? 1 : 0);
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 1);
    }
    luaL_error(L, "args[%d]: expected one of buf, i32, i64, f32, f64, tmap", i);
}

/* {image=, name=, grid=, block=, smem=, args={...}} at index t; tensor-map args are checked
 * against bufs[0..nbufs-1]. Pointers stay valid while the table is on the stack (the strings
 * belong to it). */
static void get_kernel(lua_State *L, int t, struct wp_kernel *k, const struct wp_buffer *bufs, int nbufs) {
    memset(k, 0, sizeof *k);
    size_t n;
    lua_getfield(L, t, "image");
    k->image = (const uint8_t *)luaL_checklstring(L, -1, &n);
    if (n == 0) luaL_error(L, "image: empty module image");
    k->image_len = (uint32_t)n;
    lua_getfield(L, t, "name");
    k->name = luaL_checkstring(L, -1);
    lua_pop(L, 2);
    get_dim3(L, t, "grid", k->grid, 1);
    get_dim3(L, t, "block", k->block, 128);
    k->smem = (uint32_t)opt_num(L, t, "smem", 0);
    lua_getfield(L, t, "args");
    k->nargs = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
    if (k->nargs > WP_MAX_ARGS) luaL_error(L, "args: %d arguments, at most %d", k->nargs, WP_MAX_ARGS);
    for (int i = 0; i < k->nargs; i++) {
        lua_rawgeti(L, -1, i + 1);
        get_arg(L, lua_gettop(L), i + 1, &k->args[i], bufs, nbufs);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static void get_opts(lua_State *L, int t, struct bench_opts *o) {
    memset(o, 0, sizeof *o);
    lua_getfield(L, t, "opts");
    if (lua_istable(L, -1)) {
        int i = lua_gettop(L);
        o->target_rse = opt_num(L, i, "target_rse", 0);
        o->min_reps = (int)opt_num(L, i, "min_reps", 0);
        o->max_reps = (int)opt_num(L, i, "max_reps", 0);
        o->time_cap_ms = opt_num(L, i, "time_cap_ms", 0);
        o->warmup_ms = opt_num(L, i, "warmup_ms", 0);
        o->l2_flush = (int)opt_num(L, i, "l2_flush", 0);
        o->batch = (int)opt_num(L, i, "batch", 0);
        o->batch_below_us = opt_num(L, i, "batch_below_us", 0);
        o->best_us = opt_num(L, i, "best_us", 0);
        o->cutoff_margin = opt_num(L, i, "cutoff_margin", 0);
        o->trim_k = opt_num(L, i, "trim_k", 0);
        o->clock_off = !opt_num(L, i, "clock_check", 1);
        o->clock_min_frac = opt_num(L, i, "clock_min_frac", 0);
        o->clock_max_discard = opt_num(L, i, "clock_max_discard", 0);
        o->clock_every_ms = opt_num(L, i, "clock_every_ms", 0);
        o->gate_off = !opt_num(L, i, "gate", 1);
        if (o->clock_min_frac < 0 || o->clock_min_frac > 1) luaL_error(L, "opts.clock_min_frac: %f is not in (0, 1]", o->clock_min_frac);
        if (o->clock_max_discard < 0 || o->clock_max_discard > 1) luaL_error(L, "opts.clock_max_discard: %f is not in (0, 1]", o->clock_max_discard);
    }
    lua_pop(L, 1);
}

static void get_buffer(lua_State *L, int t, int i, struct wp_buffer *b) {
    char field[48];
    snprintf(field, sizeof field, "buffers[%d].dtype", i);
    lua_getfield(L, t, "dtype");
    b->dtype = parse_dtype(L, field, luaL_optstring(L, -1, "fp32"));
    lua_getfield(L, t, "init");
    const char *init = luaL_optstring(L, -1, "zero");
    lua_pop(L, 2);
    b->init = strcmp(init, "random") == 0 ? WP_INIT_RANDOM : strcmp(init, "const") == 0 ? WP_INIT_CONST
            : strcmp(init, "zero") == 0 ? WP_INIT_ZERO : -1;
    if (b->init < 0) luaL_error(L, "buffers[%d].init: '%s' is not random, const or zero", i, init);
    double count = opt_num(L, t, "count", -1);
    if (count < 1) luaL_error(L, "buffers[%d].count: %f is not a positive count", i, count);
    b->count = (uint64_t)count;
    b->seed = (uint64_t)opt_num(L, t, "seed", i);
    b->value = opt_num(L, t, "value", 0);
}

/* w:setup{device=0, buffers={...}, output=n, reference={kernel}, atol=, rtol=} -> true | nil, msg */
static int lw_setup(lua_State *L) {
    lworker *lw = check_worker(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    struct wp_setup *s = lua_newuserdatauv(L, sizeof *s, 0);
    memset(s, 0, sizeof *s);
    s->device = (int)opt_num(L, 2, "device", 0);
    s->atol = opt_num(L, 2, "atol", -1);
    s->rtol = opt_num(L, 2, "rtol", -1);
    s->output = (int)opt_num(L, 2, "output", 0) - 1;
    lua_getfield(L, 2, "buffers");
    luaL_argcheck(L, lua_istable(L, -1), 2, "buffers: expected an array of buffer specs");
    s->nbufs = (int)lua_rawlen(L, -1);
    if (s->nbufs < 1 || s->nbufs > WP_MAX_BUFS) luaL_error(L, "buffers: %d buffers, expected 1..%d", s->nbufs, WP_MAX_BUFS);
    if (s->output < 0 || s->output >= s->nbufs) luaL_error(L, "output: %d is not a buffer index 1..%d", s->output + 1, s->nbufs);
    for (int i = 0; i < s->nbufs; i++) {
        lua_rawgeti(L, -1, i + 1);
        luaL_checktype(L, -1, LUA_TTABLE);
        get_buffer(L, lua_gettop(L), i + 1, &s->bufs[i]);
        lua_pop(L, 1);
    }
    lua_getfield(L, 2, "reference");
    if ((s->has_ref = lua_istable(L, -1))) get_kernel(L, lua_gettop(L), &s->ref, s->bufs, s->nbufs);
    lw->nbufs = s->nbufs;
    memcpy(lw->bufs, s->bufs, sizeof lw->bufs);
    struct wbuf b = { 0 };
    wp_put_setup(&b, s);
    int type, st = -1;
    const uint8_t *payload;
    size_t len;
    if (worker_remember_setup(lw->w, &b) == 0) st = worker_call(lw->w, &b, opt_num(L, 2, "timeout_ms", 60000), &type, &payload, &len);
    wbuf_free(&b);
    if (st == WK_REPLY && type == WP_OK) return lua_pushboolean(L, 1), 1;
    char msg[600] = "the GPU worker died during setup";
    int code;
    struct rbuf r = { payload, len, 0, 0 };
    if (st == WK_REPLY && type == WP_ERROR) wp_get_error(&r, &code, msg, sizeof msg);
    else if (st == WK_TIMEOUT) snprintf(msg, sizeof msg, "the GPU worker timed out during setup");
    lua_pushnil(L);
    lua_pushstring(L, msg);
    lua_pushstring(L, "ESETUP");
    return 3;
}

/* w:submit{kind="trial", image=, name=, grid=, block=, smem=, args=, check=true, opts={...},
 *          timeout_ms=} or {kind="baseline", name="cublas", params={M,N,K}, opts=} -> true | nil, msg */
static int lw_submit(lua_State *L) {
    lworker *lw = check_worker(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (worker_busy(lw->w)) return luaL_error(L, "htune.Worker: a request is already in flight (poll first)");
    lua_getfield(L, 2, "kind");
    const char *kind = luaL_optstring(L, -1, "trial");
    struct wbuf b = { 0 };
    if (strcmp(kind, "baseline") == 0) {
        struct wp_baseline bl = { 0 };
        lua_getfield(L, 2, "name");
        bl.name = luaL_checkstring(L, -1);
        lua_getfield(L, 2, "params");
        bl.nparams = lua_istable(L, -1) ? (int)lua_rawlen(L, -1) : 0;
        if (bl.nparams > 8) luaL_error(L, "params: at most 8, got %d", bl.nparams);
        for (int i = 0; i < bl.nparams; i++) { lua_rawgeti(L, -1, i + 1); bl.params[i] = luaL_checkinteger(L, -1); lua_pop(L, 1); }
        get_opts(L, 2, &bl.opts);
        bl.check = (int)opt_num(L, 2, "check", 1);
        wp_put_baseline(&b, &bl);
        lw->kind = WP_BASELINE;
    } else {
        struct wp_trial *t = lua_newuserdatauv(L, sizeof *t, 0);
        get_kernel(L, 2, &t->k, lw->bufs, lw->nbufs);
        get_opts(L, 2, &t->opts);
        t->check = (int)opt_num(L, 2, "check", 1);
        t->raw_n = (int)opt_num(L, 2, "raw_launches", 0);
        wp_put_trial(&b, t);
        lw->kind = WP_TRIAL;
    }
    lw->timeout_ms = opt_num(L, 2, "timeout_ms", 10000);
    int rc = worker_send(lw->w, &b, lw->timeout_ms);
    wbuf_free(&b);
    if (rc) {
        lua_pushnil(L);
        lua_pushstring(L, "the GPU worker is not running (restart failed earlier)");
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static void set_num(lua_State *L, const char *k, double v) { lua_pushnumber(L, v); lua_setfield(L, -2, k); }
static void set_int(lua_State *L, const char *k, lua_Integer v) { lua_pushinteger(L, v); lua_setfield(L, -2, k); }

static void set_bool(lua_State *L, const char *k, int v) { lua_pushboolean(L, v); lua_setfield(L, -2, k); }

/* The SM clock check's fields of a stats table (on top of the stack). */
static void push_clock(lua_State *L, const struct bench_result *b) {
    char names[160];
    set_bool(L, "clock_checked", b->clock_checked);
    set_int(L, "clock_discards", b->clock_discards);
    set_bool(L, "clock_throttled", b->clock_throttled);
    set_num(L, "clock_min_mhz", b->clock_min_mhz); set_num(L, "clock_max_mhz", b->clock_max_mhz);
    set_num(L, "clock_ref_mhz", b->clock_ref_mhz); set_num(L, "clock_rated_mhz", b->clock_rated_mhz);
    set_int(L, "clock_reads", b->clock_reads); set_num(L, "clock_read_us", b->clock_read_us);
    set_int(L, "gated", b->gated); set_int(L, "gate_timeouts", b->gate_timeouts);
    lua_pushstring(L, nvml_reason_names(b->clock_reasons, names, sizeof names));
    lua_setfield(L, -2, "clock_reasons");
    if (b->clock_note[0]) { lua_pushstring(L, b->clock_note); lua_setfield(L, -2, "clock_note"); }
}

static void push_result(lua_State *L, const struct wp_result *r) {
    lua_createtable(L, 0, 16);
    lua_pushstring(L, wp_status_name(r->status));
    lua_setfield(L, -2, "status");
    lua_pushboolean(L, r->status == WP_S_OK);
    lua_setfield(L, -2, "ok");
    if (r->message[0]) { lua_pushstring(L, r->message); lua_setfield(L, -2, "message"); }
    const struct bench_result *b = &r->bench;
    if (r->status == WP_S_OK || r->status == WP_S_CUTOFF) {
        lua_createtable(L, 0, 24);
        set_num(L, "median_us", b->median_us); set_num(L, "min_us", b->min_us); set_num(L, "mean_us", b->mean_us);
        set_num(L, "stddev_us", b->stddev_us); set_num(L, "noise_pct", b->noise_pct); set_num(L, "first_us", b->first_us);
        set_int(L, "reps", b->reps); set_int(L, "discarded", b->discarded); set_int(L, "batch", b->batch);
        lua_pushboolean(L, b->timed_out); lua_setfield(L, -2, "timed_out");
        lua_pushboolean(L, b->cutoff); lua_setfield(L, -2, "cutoff");
        lua_pushboolean(L, b->converged); lua_setfield(L, -2, "converged");
        set_num(L, "wall_ms", b->wall_ms);
        push_clock(L, b);
        lua_setfield(L, -2, "stats");
    }
    if (r->checked) {
        lua_createtable(L, 0, 4);
        set_num(L, "max_abs_err", r->max_abs_err); set_num(L, "max_rel_err", r->max_rel_err);
        set_int(L, "mismatches", (lua_Integer)r->mismatches);
        set_int(L, "first_bad", (lua_Integer)r->first_bad);
        lua_setfield(L, -2, "check");
    }
    lua_createtable(L, 0, 4);
    set_int(L, "regs", r->regs); set_int(L, "local_bytes", r->local_bytes);
    set_int(L, "smem_bytes", r->static_smem); set_int(L, "max_threads", r->max_threads);
    lua_setfield(L, -2, "facts");
    if (r->raw_us > 0) set_num(L, "raw_us", r->raw_us);
    set_num(L, "load_ms", r->load_ms); set_num(L, "check_ms", r->check_ms); set_num(L, "worker_ms", r->total_ms);
}

/* A worker that faulted, hung or died: result {status=fault|timeout, restart_ms=}, and a
 * fresh worker with the setup replayed. */
static void push_lost(lua_State *L, lworker *lw, int status, const char *msg) {
    char err[600] = "";
    double t0 = util_now_ms();
    int rc = worker_restart(lw->w, err, sizeof err);
    lua_createtable(L, 0, 6);
    lua_pushstring(L, status == WK_TIMEOUT ? "timeout" : "fault");
    lua_setfield(L, -2, "status");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "ok");
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "message");
    set_num(L, "restart_ms", util_now_ms() - t0);
    if (rc) { lua_pushstring(L, err); lua_setfield(L, -2, "restart_error"); }
}

/* w:poll([wait_ms=0]) -> result table, or nil while the request is in flight. */
static int lw_poll(lua_State *L) {
    lworker *lw = check_worker(L, 1);
    double wait_ms = luaL_optnumber(L, 2, 0);
    if (!worker_busy(lw->w)) return lua_pushnil(L), 1;
    int type;
    const uint8_t *payload;
    size_t len;
    int st = worker_poll(lw->w, wait_ms, &type, &payload, &len);
    if (st == WK_PENDING) return lua_pushnil(L), 1;
    char msg[300];
    if (st == WK_TIMEOUT) {
        snprintf(msg, sizeof msg, "no reply within the %.0f ms watchdog: killed the worker", lw->timeout_ms);
        return push_lost(L, lw, st, msg), 1;
    }
    struct wp_result r;
    struct rbuf rb = { payload, len, 0, 0 };
    if (st != WK_REPLY || type != WP_RESULT || wp_get_result(&rb, &r, msg, sizeof msg)) {
        if (st == WK_REPLY) snprintf(msg, sizeof msg, "unexpected reply type %d from the worker", type);
        else snprintf(msg, sizeof msg, "the GPU worker died (crash or killed by the system)");
        return push_lost(L, lw, WK_DIED, msg), 1;
    }
    if (r.status == WP_S_FAULT || r.status == WP_S_TIMEOUT) {
        push_lost(L, lw, r.status == WP_S_TIMEOUT ? WK_TIMEOUT : WK_DIED, r.message);
        lua_pushnumber(L, r.load_ms);
        lua_setfield(L, -2, "load_ms");
        return 1;
    }
    push_result(L, &r);
    return 1;
}

static int lw_busy(lua_State *L) { lua_pushboolean(L, worker_busy(check_worker(L, 1)->w)); return 1; }
static int lw_busy_ms(lua_State *L) { lua_pushnumber(L, worker_busy_ms(check_worker(L, 1)->w)); return 1; }
static int lw_pid(lua_State *L) { lua_pushinteger(L, worker_pid(check_worker(L, 1)->w)); return 1; }
static int lw_restarts(lua_State *L) { lua_pushinteger(L, worker_restarts(check_worker(L, 1)->w)); return 1; }

static int lw_hello(lua_State *L) {
    const struct wp_hello *h = worker_hello(check_worker(L, 1)->w);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, h->api_kind);
    lua_setfield(L, -2, "api");
    set_int(L, "driver_version", h->driver_version);
    set_int(L, "devices", h->device_count);
    return 1;
}

static int lw_close(lua_State *L) {
    lworker *lw = luaL_checkudata(L, 1, WORKER_MT);
    if (lw->w) worker_close(lw->w);
    lw->w = NULL;
    return 0;
}

static int lw_tostring(lua_State *L) {
    lworker *lw = luaL_checkudata(L, 1, WORKER_MT);
    if (!lw->w) lua_pushstring(L, "htune.Worker (closed)");
    else lua_pushfstring(L, "htune.Worker (pid %d, %s driver, %d restarts%s)", worker_pid(lw->w),
                         worker_hello(lw->w)->api_kind, worker_restarts(lw->w), worker_busy(lw->w) ? ", busy" : "");
    return 1;
}

static int self_exe(char *out, size_t cap) {
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0) return -1;
    out[n] = 0;
    return 0;
}

/* bench.worker{fake=false, hello_timeout_ms=30000, fake_nvml=spec, libnvml=path} -> Worker | nil, msg, "ENODRIVER"|"EWORKER" */
static int l_worker(lua_State *L) {
    struct worker_opts o = { 0 };
    char exe[4096], err[600];
    if (lua_istable(L, 1)) {
        o.fake = (int)opt_num(L, 1, "fake", 0);
        o.hello_timeout_ms = opt_num(L, 1, "hello_timeout_ms", 0);
        lua_getfield(L, 1, "fake_nvml");
        o.fake_nvml = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);   /* stays on the stack */
        lua_getfield(L, 1, "libnvml");
        o.libnvml = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
    }
    const char *env = getenv("HTUNE_FAKE_CUDA");
    if (env && strcmp(env, "1") == 0) o.fake = 1;
    if (self_exe(exe, sizeof exe)) return luaL_error(L, "cannot read /proc/self/exe");
    o.exe = exe;
    lworker *lw = lua_newuserdatauv(L, sizeof *lw, 0);
    memset(lw, 0, sizeof *lw);
    luaL_setmetatable(L, WORKER_MT);
    int rc = worker_start(&lw->w, &o, err, sizeof err);
    if (rc == 0) return 1;
    lua_pushnil(L);
    lua_pushstring(L, err);
    lua_pushstring(L, rc == -2 ? "ENODRIVER" : "EWORKER");
    return 3;
}

int luaopen_htune_bench(lua_State *L) {
    static const luaL_Reg methods[] = {
        { "setup", lw_setup }, { "submit", lw_submit }, { "poll", lw_poll }, { "busy", lw_busy },
        { "busy_ms", lw_busy_ms }, { "pid", lw_pid }, { "restarts", lw_restarts }, { "hello", lw_hello },
        { "close", lw_close }, { "__gc", lw_close }, { "__close", lw_close }, { "__tostring", lw_tostring },
        { NULL, NULL },
    };
    luaL_newmetatable(L, WORKER_MT);
    luaL_setfuncs(L, methods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    static const luaL_Reg fns[] = { { "worker", l_worker }, { NULL, NULL } };
    luaL_newlib(L, fns);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "available");
    return 1;
}

/* htune.cuda: driver presence and device facts, asked of a short-lived GPU worker so the
 * parent process never creates a CUDA context. Results are cached in an upvalue. */
#include "runtime.h"
#include "worker.h"
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void set_num(lua_State *L, const char *k, double v) { lua_pushnumber(L, v); lua_setfield(L, -2, k); }
static void set_int(lua_State *L, const char *k, lua_Integer v) { lua_pushinteger(L, v); lua_setfield(L, -2, k); }

static void push_device(lua_State *L, const struct cuda_device_info *d) {
    lua_createtable(L, 0, 20);
    lua_pushstring(L, d->name); lua_setfield(L, -2, "name");
    lua_pushfstring(L, "%d.%d", d->cc_major, d->cc_minor); lua_setfield(L, -2, "cc");
    lua_pushfstring(L, "sm_%d%d", d->cc_major, d->cc_minor); lua_setfield(L, -2, "arch");
    set_int(L, "ordinal", d->ordinal); set_int(L, "cc_major", d->cc_major); set_int(L, "cc_minor", d->cc_minor);
    set_int(L, "sms", d->sms);
    set_num(L, "clock_mhz", d->clock_khz / 1000.0);
    set_num(L, "mem_clock_mhz", d->mem_clock_khz / 1000.0);
    set_int(L, "bus_width_bits", d->bus_width_bits);
    set_int(L, "mem_bytes", (lua_Integer)d->mem_bytes);
    /* double data rate: 2 transfers per memory clock */
    set_num(L, "peak_bandwidth_gbs", 2.0 * d->mem_clock_khz * 1e3 * (d->bus_width_bits / 8.0) / 1e9);
    set_int(L, "l2_bytes", d->l2_bytes);
    set_int(L, "smem_per_block", d->smem_per_block);
    set_int(L, "smem_per_block_optin", d->smem_per_block_optin);
    set_int(L, "smem_per_sm", d->smem_per_sm);
    set_int(L, "regs_per_sm", d->regs_per_sm);
    set_int(L, "max_threads_per_block", d->max_threads_per_block);
}

/* Spawns a worker, asks for the devices, pushes {driver_version=, api=, devices={...}} or
 * nil, msg, code. */
static int query(lua_State *L, int fake) {
    char exe[4096], err[600];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return luaL_error(L, "cannot read /proc/self/exe");
    exe[n] = 0;
    const char *env = getenv("HTUNE_FAKE_CUDA");
    struct worker_opts o = { exe, fake || (env && strcmp(env, "1") == 0), 0, NULL, NULL };
    struct worker *w;
    int rc = worker_start(&w, &o, err, sizeof err);
    if (rc) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        lua_pushstring(L, rc == -2 ? "ENODRIVER" : "EWORKER");
        return 3;
    }
    struct wbuf b = { 0 };
    wbuf_begin(&b, WP_DEVICES);
    wbuf_end(&b);
    int type, count = 0;
    const uint8_t *payload;
    size_t len;
    struct cuda_device_info d[16];
    int st = worker_call(w, &b, 30000, &type, &payload, &len);
    struct rbuf r = { payload, len, 0, 0 };
    if (st == WK_REPLY && type == WP_DEVICES && wp_get_devices(&r, d, 16, &count, err, sizeof err) == 0) {
        lua_createtable(L, 0, 3);
        set_int(L, "driver_version", worker_hello(w)->driver_version);
        lua_pushstring(L, worker_hello(w)->api_kind);
        lua_setfield(L, -2, "api");
        lua_createtable(L, count, 0);
        for (int i = 0; i < count; i++) { push_device(L, &d[i]); lua_rawseti(L, -2, i + 1); }
        lua_setfield(L, -2, "devices");
        rc = 1;
    } else {
        lua_pushnil(L);
        lua_pushstring(L, "the GPU worker did not answer the device query");
        lua_pushstring(L, "EWORKER");
        rc = 3;
    }
    wbuf_free(&b);
    worker_close(w);
    return rc;
}

/* Cached query in upvalue 1 (per fake flag). Leaves the info table or nil, msg, code. */
static int cached(lua_State *L) {
    int fake = lua_istable(L, 1) && (lua_getfield(L, 1, "fake"), lua_toboolean(L, -1));
    lua_settop(L, 0);
    lua_rawgeti(L, lua_upvalueindex(1), fake + 1);
    if (!lua_isnil(L, -1)) return 1;
    lua_pop(L, 1);
    int n = query(L, fake);
    if (n == 1) {
        lua_pushvalue(L, -1);
        lua_rawseti(L, lua_upvalueindex(1), fake + 1);
    }
    return n;
}

/* cuda.init([{fake=}]) -> true, info | nil, msg, code */
static int l_init(lua_State *L) {
    int n = cached(L);
    if (n != 1) return n;
    lua_pushboolean(L, 1);
    lua_insert(L, -2);
    return 2;
}

/* cuda.devices([{fake=}]) -> array of device tables | nil, msg, code */
static int l_devices(lua_State *L) {
    int n = cached(L);
    if (n != 1) return n;
    lua_getfield(L, -1, "devices");
    return 1;
}

int luaopen_htune_cuda(lua_State *L) {
    static const luaL_Reg fns[] = { { "init", l_init }, { "devices", l_devices }, { NULL, NULL } };
    luaL_newlibtable(L, fns);
    lua_newtable(L);   /* upvalue: cache */
    luaL_setfuncs(L, fns, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "available");
    return 1;
}

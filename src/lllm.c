/* htune.llm: Lua binding of the LLM client (src/llm.c). Builds request bodies in C in a fixed
 * key order (so the cache key is stable), parses replies with cjson.safe (upvalue 1 of every
 * function), and keeps the key only inside the C client: never in Lua values or messages.
 * Userdata: htune.LLMClient and htune.LLMRequest (uservalues: its client, its parsed result). */
#include "llm.h"
#include "runtime.h"
#include "util.h"
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_MT "htune.LLMClient"
#define REQ_MT "htune.LLMRequest"

typedef struct {
    llm_client *c;
    int anthropic;
    char model[128], url[512], key_env[64];
} client_box;

typedef struct { long id; } req_box;

static client_box *check_client(lua_State *L, int i) {
    client_box *b = luaL_checkudata(L, i, CLIENT_MT);
    if (!b->c) luaL_error(L, "htune.LLMClient is closed");
    return b;
}

/* ---- options -------------------------------------------------------------------------------- */

static const char *opt_str(lua_State *L, int t, const char *k, const char *def) {
    int ty = lua_getfield(L, t, k);
    if (ty != LUA_TNIL && ty != LUA_TSTRING) luaL_error(L, "llm.client: '%s' must be a string, got %s", k, luaL_typename(L, -1));
    const char *s = ty == LUA_TNIL ? def : lua_tostring(L, -1);
    lua_pop(L, 1); /* the string stays alive: it is referenced by the options table */
    return s;
}

static double opt_num(lua_State *L, int t, const char *k, double def, double lo, double hi) {
    int ty = lua_getfield(L, t, k);
    if (ty != LUA_TNIL && ty != LUA_TNUMBER) luaL_error(L, "llm.client: '%s' must be a number, got %s", k, luaL_typename(L, -1));
    double v = ty == LUA_TNIL ? def : lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (v < lo || v > hi) luaL_error(L, "llm.client: '%s' = %f is outside %g..%g", k, v, lo, hi);
    return v;
}

static void copy_str(char *dst, size_t n, const char *src, lua_State *L, const char *what) {
    if (strlen(src) >= n) luaL_error(L, "llm.client: '%s' is longer than %d bytes", what, (int)n - 1);
    strcpy(dst, src);
}

static void endpoint(client_box *b, lua_State *L, const char *base) {
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/') n--;
    const char *tail = b->anthropic ? "/messages" : "/chat/completions";
    size_t tl = strlen(tail);
    int has_tail = n >= tl && strncmp(base + n - tl, tail, tl) == 0;
    if (n + tl + 1 > sizeof b->url) luaL_error(L, "llm.client: 'base_url' is too long");
    memcpy(b->url, base, n);
    strcpy(b->url + n, has_tail ? "" : tail);
}

static int l_client(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *proto = opt_str(L, 1, "protocol", "openai");
    if (strcmp(proto, "openai") && strcmp(proto, "anthropic")) luaL_error(L, "llm.client: 'protocol' must be \"openai\" or \"anthropic\", got \"%s\"", proto);
    const char *base = opt_str(L, 1, "base_url", NULL), *model = opt_str(L, 1, "model", NULL);
    if (!base) luaL_error(L, "llm.client: 'base_url' is required (e.g. \"http://127.0.0.1:8000/v1\")");
    if (!model) luaL_error(L, "llm.client: 'model' is required");
    const char *key_env = opt_str(L, 1, "api_key_env", NULL), *cache_dir = opt_str(L, 1, "cache_dir", NULL);
    client_box *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    b->anthropic = strcmp(proto, "anthropic") == 0;
    copy_str(b->model, sizeof b->model, model, L, "model");
    copy_str(b->key_env, sizeof b->key_env, key_env ? key_env : "", L, "api_key_env");
    endpoint(b, L, base);
    const char *key = key_env ? getenv(key_env) : NULL;
    if (key_env && (!key || !*key)) {
        lua_pushnil(L);
        lua_pushfstring(L, "llm.client: environment variable %s (api_key_env) is not set", key_env);
        lua_pushliteral(L, "ENOKEY");
        return 3;
    }
    const char *anth_hdr[] = {"anthropic-version: 2023-06-01", NULL};
    struct llm_opts o = {
        .url = b->url, .auth_name = b->anthropic ? "x-api-key" : "Authorization",
        .auth_prefix = b->anthropic ? "" : "Bearer ", .secret = key, .headers = b->anthropic ? anth_hdr : NULL,
        .max_concurrency = (int)opt_num(L, 1, "max_concurrency", 4, 1, 1024),
        .connect_timeout_ms = (long)opt_num(L, 1, "connect_timeout_ms", 10000, 0, 3.6e6),
        .timeout_ms = (long)opt_num(L, 1, "timeout_ms", 120000, 0, 3.6e7),
        .retries = (int)opt_num(L, 1, "retries", 3, 0, 100),
        .backoff_ms = opt_num(L, 1, "backoff_ms", 500, 0, 3.6e6),
        .max_backoff_ms = opt_num(L, 1, "max_backoff_ms", 60000, 0, 3.6e6), .cache_dir = cache_dir,
    };
    char err[256];
    b->c = llm_open(&o, err, sizeof err);
    if (!b->c) {
        lua_pushnil(L);
        lua_pushfstring(L, "llm.client: %s", err);
        lua_pushliteral(L, "EINVAL");
        return 3;
    }
    luaL_setmetatable(L, CLIENT_MT);
    return 1;
}


/* ---- request bodies (fixed key order, so equal requests hash equal) ------------------------- */

typedef struct { char *p; size_t n, cap; int oom; } sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_escape(sbuf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char u[8];
        if (ch == '"' || ch == '\\') { u[0] = '\\', u[1] = (char)ch; sb_add(b, u, 2); }
        else if (ch == '\n') sb_str(b, "\\n");
        else if (ch == '\t') sb_str(b, "\\t");
        else if (ch == '\r') sb_str(b, "\\r");
        else if (ch < 0x20) { snprintf(u, sizeof u, "\\u%04x", ch); sb_str(b, u); }
        else sb_add(b, (const char *)&ch, 1);
    }
}

static void sb_json(sbuf *b, const char *s, size_t n) {
    sb_str(b, "\"");
    sb_escape(b, s, n);
    sb_str(b, "\"");
}

/* Raises unless messages is an array of {role=string, content=string}; returns its length. */
static lua_Integer check_messages(lua_State *L, int msgs) {
    lua_Integer n = luaL_len(L, msgs);
    if (n < 1) luaL_error(L, "request: 'messages' must be a non-empty array of {role=, content=}");
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, msgs, i) != LUA_TTABLE) luaL_error(L, "request: messages[%d] must be a table {role=, content=}", (int)i);
        if (lua_getfield(L, -1, "role") != LUA_TSTRING) luaL_error(L, "request: messages[%d].role must be a string, got %s", (int)i, luaL_typename(L, -1));
        if (lua_getfield(L, -2, "content") != LUA_TSTRING) luaL_error(L, "request: messages[%d].content must be a string, got %s", (int)i, luaL_typename(L, -1));
        lua_pop(L, 3);
    }
    return n;
}

static const char *msg_get(lua_State *L, int msgs, lua_Integer i, const char *k, size_t *len) {
    lua_geti(L, msgs, i);
    lua_getfield(L, -1, k);
    const char *s = lua_tolstring(L, -1, len);
    lua_pop(L, 2); /* still referenced by the message table */
    return s;
}

static void body_messages(lua_State *L, sbuf *b, int msgs, lua_Integer n, int anthropic) {
    size_t rl, cl;
    if (anthropic) { /* system messages go to the top-level "system" string */
        int any = 0;
        for (lua_Integer i = 1; i <= n; i++) {
            const char *role = msg_get(L, msgs, i, "role", &rl), *c = msg_get(L, msgs, i, "content", &cl);
            if (strcmp(role, "system")) continue;
            sb_str(b, any ? "\\n\\n" : ",\"system\":\"");
            sb_escape(b, c, cl);
            any = 1;
        }
        if (any) sb_str(b, "\"");
    }
    sb_str(b, ",\"messages\":[");
    int first = 1;
    for (lua_Integer i = 1; i <= n; i++) {
        const char *role = msg_get(L, msgs, i, "role", &rl), *c = msg_get(L, msgs, i, "content", &cl);
        if (anthropic && strcmp(role, "system") == 0) continue;
        sb_str(b, first ? "{\"role\":" : ",{\"role\":");
        sb_json(b, role, rl);
        sb_str(b, ",\"content\":");
        sb_json(b, c, cl);
        sb_str(b, "}");
        first = 0;
    }
    sb_str(b, "]");
}

/* The JSON body of request table req (validated first: nothing raises once building starts). */
static char *build_body(lua_State *L, client_box *cb, int req, size_t *len) {
    if (lua_getfield(L, req, "messages") != LUA_TTABLE) luaL_error(L, "request: 'messages' must be an array of {role=, content=}");
    int msgs = lua_gettop(L);
    lua_Integer n = check_messages(L, msgs);
    lua_getfield(L, req, "max_tokens");
    lua_Integer max_tokens = luaL_optinteger(L, -1, 2048);
    lua_getfield(L, req, "temperature");
    double temp = luaL_optnumber(L, -1, 0.7);
    if (max_tokens < 1 || temp < 0 || temp > 2) luaL_error(L, "request: max_tokens must be >= 1 and temperature in 0..2, got max_tokens %I and temperature %f", max_tokens, temp);
    sbuf b = {0};
    char tail[96];
    sb_str(&b, "{\"model\":");
    sb_json(&b, cb->model, strlen(cb->model));
    body_messages(L, &b, msgs, n, cb->anthropic);
    snprintf(tail, sizeof tail, ",\"max_tokens\":%lld,\"temperature\":%.4g}", (long long)max_tokens, temp);
    sb_str(&b, tail);
    lua_settop(L, msgs - 1);
    if (b.oom) { free(b.p); luaL_error(L, "request: out of memory"); }
    *len = b.n;
    return b.p;
}

/* ---- requests ------------------------------------------------------------------------------- */

static req_box *check_req(lua_State *L, int i) { return luaL_checkudata(L, i, REQ_MT); }

/* The request's client box (uservalue 1); NULL once the client is closed. */
static client_box *req_client(lua_State *L, int i) {
    lua_getiuservalue(L, i, 1);
    client_box *b = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return b && b->c ? b : NULL;
}

static int l_request(lua_State *L) {
    client_box *cb = check_client(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "cache");
    int use_cache = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_pop(L, 1);
    size_t len;
    char *body = build_body(L, cb, 2, &len);
    long id = llm_submit(cb->c, body, len, use_cache);
    free(body);
    if (id < 0) return luaL_error(L, "request: out of memory");
    req_box *r = lua_newuserdatauv(L, sizeof *r, 2);
    r->id = id;
    luaL_setmetatable(L, REQ_MT);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

static void set_num(lua_State *L, const char *k, double v) { lua_pushnumber(L, v); lua_setfield(L, -2, k); }
static void set_int(lua_State *L, const char *k, lua_Integer v) { lua_pushinteger(L, v); lua_setfield(L, -2, k); }

/* t[k1][i][k2]... lookups on a decoded reply, leaving nil on any mismatch. */
static int dig(lua_State *L, int t, const char *path) {
    lua_pushvalue(L, t);
    char key[32];
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, p);
        p += n + (p[n] == '.');
        if (!lua_istable(L, -1)) { lua_pop(L, 1); lua_pushnil(L); return LUA_TNIL; }
        if (key[0] >= '0' && key[0] <= '9') lua_geti(L, -1, atoi(key));
        else lua_getfield(L, -1, key);
        lua_remove(L, -2);
    }
    return lua_type(L, -1);
}

static void set_usage(lua_State *L, int res, int reply, int anthropic) {
    lua_newtable(L);
    const char *names[2][2] = {{"usage.prompt_tokens", "usage.completion_tokens"}, {"usage.input_tokens", "usage.output_tokens"}};
    for (int k = 0; k < 2; k++) {
        lua_Integer v = dig(L, reply, names[anthropic][k]) == LUA_TNUMBER ? (lua_Integer)lua_tonumber(L, -1) : 0;
        lua_pop(L, 1);
        set_int(L, k ? "completion_tokens" : "prompt_tokens", v);
    }
    lua_setfield(L, res, "usage");
}

/* Reply text: OpenAI choices[1].message.content; Anthropic the text blocks of content joined. */
static int push_text(lua_State *L, int reply, int anthropic) {
    if (!anthropic) {
        if (dig(L, reply, "choices.1.message.content") == LUA_TSTRING) return 1;
        lua_pop(L, 1);
        return 0;
    }
    if (dig(L, reply, "content") != LUA_TTABLE) { lua_pop(L, 1); return 0; }
    luaL_Buffer B;
    int c = lua_gettop(L), any = 0;
    luaL_buffinit(L, &B);
    for (lua_Integer i = 1; lua_geti(L, c, i) == LUA_TTABLE; i++) {
        if (lua_getfield(L, -1, "text") == LUA_TSTRING) { lua_remove(L, -2); luaL_addvalue(&B); any = 1; }
        else lua_pop(L, 2);
    }
    lua_pop(L, 1);
    luaL_pushresult(&B);
    lua_remove(L, c);
    return any;
}

static void fail(lua_State *L, int res, const char *code, const char *msg) {
    lua_pushboolean(L, 0);
    lua_setfield(L, res, "ok");
    lua_pushstring(L, code);
    lua_setfield(L, res, "code");
    lua_pushstring(L, msg);
    lua_setfield(L, res, "error");
}

/* Decodes a 2xx body into the result table at res; 1 when it held a reply text. */
static int parse_reply(lua_State *L, int res, client_box *cb, const struct llm_result *r) {
    lua_getfield(L, lua_upvalueindex(1), "decode");
    lua_pushlstring(L, r->body ? r->body : "", r->body_len);
    lua_call(L, 1, 2);
    int reply = lua_gettop(L) - 1;
    if (!lua_istable(L, reply)) {
        const char *why = lua_isstring(L, -1) ? lua_tostring(L, -1) : "not an object";
        fail(L, res, "EPARSE", lua_pushfstring(L, "reply is not a JSON object (%s)", why));
        lua_settop(L, res);
        return 0;
    }
    set_usage(L, res, reply, cb->anthropic);
    int ok = push_text(L, reply, cb->anthropic);
    if (ok) lua_setfield(L, res, "text");
    else fail(L, res, "EPARSE", cb->anthropic ? "reply has no content[].text" : "reply has no choices[1].message.content");
    lua_settop(L, res);
    return ok;
}

/* Builds the result table of a finished request (stack top) and stores it as uservalue 2. */
static void make_result(lua_State *L, int h, client_box *cb, req_box *r, const struct llm_result *res) {
    lua_newtable(L);
    set_num(L, "latency_ms", res->latency_ms);
    set_int(L, "status", res->status);
    set_int(L, "attempts", res->attempts);
    lua_pushboolean(L, res->cached);
    lua_setfield(L, -2, "cached");
    int t = lua_gettop(L);
    if (!res->ok) fail(L, t, res->code ? res->code : "EHTTP", res->error);
    else if (parse_reply(L, t, cb, res)) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "ok");
        llm_cache_put(cb->c, r->id);
    }
    llm_release(cb->c, r->id);
    r->id = 0;
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, h, 2);
}

/* Pushes the result when finished (1), else nothing (0). */
static int result_of(lua_State *L, int h) {
    req_box *r = check_req(L, h);
    if (lua_getiuservalue(L, h, 2) == LUA_TTABLE) return 1;
    lua_pop(L, 1);
    client_box *cb = req_client(L, h);
    if (!cb) luaL_error(L, "htune.LLMRequest: its client is closed");
    const struct llm_result *res = llm_get(cb->c, r->id);
    if (!res || !res->done) return 0;
    make_result(L, h, cb, r, res);
    return 1;
}

static int r_ready(lua_State *L) {
    client_box *cb = req_client(L, 1);
    if (cb && lua_getiuservalue(L, 1, 2) != LUA_TTABLE) llm_poll(cb->c, 0);
    lua_pushboolean(L, result_of(L, 1));
    return 1;
}

static int r_result(lua_State *L) {
    if (!result_of(L, 1)) lua_pushnil(L);
    return 1;
}

static int r_wait(lua_State *L) {
    lua_Integer timeout = luaL_optinteger(L, 2, -1);
    double t0 = util_now_ms();
    while (!result_of(L, 1)) {
        double left = timeout < 0 ? 1000 : (double)timeout - (util_now_ms() - t0);
        if (left <= 0) { lua_pushnil(L); lua_pushliteral(L, "timeout"); return 2; }
        llm_poll(req_client(L, 1)->c, left > 1000 ? 1000 : (int)left + 1);
    }
    return 1;
}

static int r_cancel(lua_State *L) {
    req_box *r = check_req(L, 1);
    client_box *cb = req_client(L, 1);
    if (cb && r->id) llm_cancel(cb->c, r->id);
    return 0;
}

static int r_gc(lua_State *L) {
    req_box *r = check_req(L, 1);
    client_box *cb = req_client(L, 1);
    if (cb && r->id) llm_release(cb->c, r->id);
    r->id = 0;
    return 0;
}

static int r_tostring(lua_State *L) {
    req_box *r = check_req(L, 1);
    lua_pushfstring(L, "htune.LLMRequest(%s)", r->id ? "pending" : "finished");
    return 1;
}

/* ---- wait_any and client methods ------------------------------------------------------------ */

/* wait_any(handles, timeout_ms) -> index, result | nil, "timeout". Polls every distinct client
 * at least once, so timeout 0 is a non-blocking check that still reports a transfer finished since
 * the last poll; with one client it sleeps in curl's poll, with several it alternates in 5 ms slices. */
static int l_wait_any(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer timeout = luaL_optinteger(L, 2, -1), n = luaL_len(L, 1);
    double t0 = util_now_ms();
    int polled = 0;
    lua_settop(L, 2);
    for (;;) {
        llm_client *clients[16];
        int nc = 0;
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, 1, i);
            if (!luaL_testudata(L, -1, REQ_MT)) return luaL_error(L, "wait_any: handles[%d] is not an htune.LLMRequest", (int)i);
            if (result_of(L, 3)) { lua_pushinteger(L, i); lua_insert(L, -2); return 2; }
            client_box *cb = req_client(L, 3);
            int seen = 0;
            for (int k = 0; k < nc; k++) seen |= clients[k] == cb->c;
            if (!seen && nc < 16) clients[nc++] = cb->c;
            lua_settop(L, 2);
        }
        double left = timeout < 0 ? 1000 : (double)timeout - (util_now_ms() - t0);
        if ((left <= 0 && polled) || nc == 0) { lua_pushnil(L); lua_pushliteral(L, "timeout"); return 2; }
        int slice = left <= 0 ? 0 : nc == 1 ? (left > 1000 ? 1000 : (int)left + 1) : (left > 5 ? 5 : (int)left + 1);
        for (int k = 0; k < nc; k++) llm_poll(clients[k], k == nc - 1 ? slice : 0);
        polled = 1;
    }
}

static int c_poll(lua_State *L) {
    client_box *b = check_client(L, 1);
    lua_pushinteger(L, llm_poll(b->c, (int)luaL_optinteger(L, 2, 0)));
    return 1;
}

static int c_next_due_ms(lua_State *L) {
    lua_pushinteger(L, llm_next_due_ms(check_client(L, 1)->c));
    return 1;
}

static int c_stats(lua_State *L) {
    struct llm_stats s;
    llm_get_stats(check_client(L, 1)->c, &s);
    lua_newtable(L);
    set_int(L, "submitted", s.submitted);
    set_int(L, "transfers", s.transfers);
    set_int(L, "retries", s.retries);
    set_int(L, "cache_hits", s.cache_hits);
    set_int(L, "running", s.running);
    set_int(L, "queued", s.queued);
    set_int(L, "max_running", s.max_running);
    return 1;
}

static int c_close(lua_State *L) {
    client_box *b = luaL_checkudata(L, 1, CLIENT_MT);
    llm_close(b->c);
    b->c = NULL;
    return 0;
}

static int c_tostring(lua_State *L) {
    client_box *b = luaL_checkudata(L, 1, CLIENT_MT);
    lua_pushfstring(L, "htune.LLMClient(%s %s at %s, key from %s%s)", b->anthropic ? "anthropic" : "openai", b->model,
                    b->url, b->key_env[0] ? "$" : "", b->key_env[0] ? b->key_env : "nowhere", b->c ? "" : ", closed");
    return 1;
}

static int c_info(lua_State *L) {
    client_box *b = luaL_checkudata(L, 1, CLIENT_MT);
    lua_newtable(L);
    lua_pushstring(L, b->model);
    lua_setfield(L, -2, "model");
    lua_pushstring(L, b->url);
    lua_setfield(L, -2, "url");
    lua_pushstring(L, b->anthropic ? "anthropic" : "openai");
    lua_setfield(L, -2, "protocol");
    return 1;
}

static const luaL_Reg client_methods[] = {
    {"request", l_request}, {"poll", c_poll}, {"next_due_ms", c_next_due_ms}, {"stats", c_stats},
    {"info", c_info}, {"close", c_close}, {NULL, NULL},
};
static const luaL_Reg req_methods[] = {
    {"ready", r_ready}, {"wait", r_wait}, {"result", r_result}, {"cancel", r_cancel}, {NULL, NULL},
};
static const luaL_Reg funcs[] = {{"client", l_client}, {"wait_any", l_wait_any}, {NULL, NULL}};

/* A metatable whose methods, __gc/__close and __tostring share upvalue 1 (cjson.safe). */
static void make_mt(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc, lua_CFunction str) {
    luaL_newmetatable(L, name);
    lua_newtable(L);
    lua_pushvalue(L, -3);
    luaL_setfuncs(L, methods, 1);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, gc, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__gc");
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, str);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}

int luaopen_htune_llm(lua_State *L) {
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cjson.safe");
    lua_call(L, 1, 1);
    make_mt(L, CLIENT_MT, client_methods, c_close, c_tostring);
    make_mt(L, REQ_MT, req_methods, r_gc, r_tostring);
    lua_newtable(L);
    lua_pushvalue(L, -2);
    luaL_setfuncs(L, funcs, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "available");
    return 1;
}

/* mock_llm: an OpenAI-compatible (and Anthropic /v1/messages) chat server for tests and
 * benchmarks. Loopback only, one poll() loop, configurable latency, concurrency accounting
 * (GET /stats), fault injection, and a "scripted" model that answers with configs drawn from
 * the machine-readable space block htune's prompts carry, using nothing else: its legal values
 * and its best lines (the prompt's fastest configs, fastest first). With none shown it draws
 * uniform configs; else mostly variations of the fastest (see add_config). It never sees a
 * measurement the prompt does not show. Exits by itself (lifetime, idle).
 *   mock_llm [--latency-ms 50] [--lifetime-s 60] [--idle-exit-s 10] [--fault-rate 0]
 *            [--seed 1] [--port-file PATH] [--stats-file PATH]
 * prints "PORT <n>" on stdout when listening; the port file holds "<port> <pid>".
 * Faults per request: the prompt may say MOCK_FAULTS=429,500,drop,... and attempt k of that
 * same body gets the k-th fault ("ok" past the list). Kinds: ok 429 500 drop truncate badjson
 * prose outside empty. --fault-rate P draws one of them at random for other requests. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 512
#define MAX_REQ (8 << 20)
#define MAX_PARAMS 64
#define MAX_VALUES 256
#define MAX_BEST 16

typedef struct { char *p; size_t n, cap; } buf;

enum { C_READ, C_WAIT, C_WRITE };
typedef struct {
    int fd, state, counted, close_after;
    buf in, out;
    size_t sent, drop_at;
    double due_ms;
} conn;

typedef struct {
    char name[64];
    int list_n, perm_n, nvalues;
    char *values[MAX_VALUES];
} param;

typedef struct {
    int nparams, count, nbest;
    param params[MAX_PARAMS];
    char *best[MAX_BEST][MAX_PARAMS];
    char *text; /* owns the strings above */
} space_block;

typedef struct {
    double latency_ms, fault_rate, t_start, t_last;
    const char *stats_file;
    long requests, active, max_active, chat_requests;
    uint64_t rng;
    uint64_t seen_hash[4096];
    int seen_count[4096];
} server;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t rnd(server *s) {
    s->rng ^= s->rng << 13, s->rng ^= s->rng >> 7, s->rng ^= s->rng << 17;
    return s->rng;
}
static int rnd_int(server *s, int n) { return n > 0 ? (int)(rnd(s) % (uint64_t)n) : 0; }

static void add(buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { perror("mock_llm: realloc"); exit(1); }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void adds(buf *b, const char *s) { add(b, s, strlen(s)); }
static void addf(buf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    add(b, tmp, n < (int)sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
static void add_json_str(buf *b, const char *s) {
    adds(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') { char e[2] = {'\\', *s}; add(b, e, 2); }
        else if (*s == '\n') adds(b, "\\n");
        else if ((unsigned char)*s < 0x20) addf(b, "\\u%04x", (unsigned char)*s);
        else add(b, s, 1);
    }
    adds(b, "\"");
}

/* Crude JSON string unescape of a whole body, in place (\n \t \" \\ \/ and ASCII \u). */
static void unescape(char *s) {
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p != '\\' || !p[1]) { *o++ = *p; continue; }
        p++;
        if (*p == 'n') *o++ = '\n';
        else if (*p == 't') *o++ = '\t';
        else if (*p == 'r') *o++ = '\r';
        else if (*p == 'u' && p[1] && p[2] && p[3] && p[4]) { *o++ = (char)strtol((char[]){p[1], p[2], p[3], p[4], 0}, NULL, 16); p += 4; }
        else *o++ = *p;
    }
    *o = 0;
}

/* ---- the space block ------------------------------------------------------------------------- */

static int parse_param(space_block *sb, char *line) {
    param *p = &sb->params[sb->nparams];
    char *save, *tok = strtok_r(line, " ", &save);
    if (!tok || sb->nparams >= MAX_PARAMS) return -1;
    snprintf(p->name, sizeof p->name, "%s", tok);
    p->list_n = p->perm_n = p->nvalues = 0;
    while ((tok = strtok_r(NULL, " ", &save)) && p->nvalues < MAX_VALUES) {
        if (strncmp(tok, "list=", 5) == 0) p->list_n = atoi(tok + 5);
        else if (strncmp(tok, "perm=", 5) == 0) p->perm_n = atoi(tok + 5);
        else p->values[p->nvalues++] = tok;
    }
    sb->nparams++;
    return 0;
}

static void parse_best(space_block *sb, char *line) {
    if (sb->nbest >= MAX_BEST) return;
    char *save, *tok = strtok_r(line, " ", &save);
    for (int i = 0; i < sb->nparams; i++, tok = strtok_r(NULL, " ", &save)) {
        if (!tok) return;
        sb->best[sb->nbest][i] = tok;
    }
    sb->nbest++;
}

/* Finds "htune-space count=N" ... "end htune-space" in the unescaped body. 0 when found. */
static int parse_space(char *body, space_block *sb) {
    memset(sb, 0, sizeof *sb);
    char *start = strstr(body, "htune-space count=");
    if (!start) return -1;
    char *end = strstr(start, "end htune-space");
    if (!end) return -1;
    sb->text = strndup(start, (size_t)(end - start));
    sb->count = atoi(sb->text + strlen("htune-space count="));
    if (sb->count < 1) sb->count = 1;
    if (sb->count > 64) sb->count = 64;
    char *save, *line = strtok_r(sb->text, "\n", &save);
    while ((line = strtok_r(NULL, "\n", &save))) {
        if (strncmp(line, "param ", 6) == 0) parse_param(sb, line + 6);
        else if (strncmp(line, "best ", 5) == 0) parse_best(sb, line + 5);
    }
    return sb->nparams > 0 ? 0 : -1;
}

static void add_value(server *s, buf *b, const param *p) {
    if (p->perm_n > 0) {
        int v[64], n = p->perm_n > 64 ? 64 : p->perm_n;
        for (int i = 0; i < n; i++) v[i] = i;
        for (int i = n - 1; i > 0; i--) { int j = rnd_int(s, i + 1), t = v[i]; v[i] = v[j], v[j] = t; }
        adds(b, "[");
        for (int i = 0; i < n; i++) addf(b, i ? ",%d" : "%d", v[i]);
        adds(b, "]");
    } else if (p->list_n > 0) {
        adds(b, "[");
        for (int i = 0; i < p->list_n; i++) { if (i) adds(b, ","); adds(b, p->values[rnd_int(s, p->nvalues)]); }
        adds(b, "]");
    } else {
        adds(b, p->nvalues ? p->values[rnd_int(s, p->nvalues)] : "null");
    }
}

/* A parameter whose legal values are numbers in increasing order (tile sizes, warps, stages):
 * a model "doubles the tile" or "adds a stage", i.e. steps to an adjacent value. */
static int ordered(const param *p) {
    if (p->list_n > 0 || p->perm_n > 0 || p->nvalues < 3) return 0;
    for (int i = 0; i < p->nvalues; i++) {
        char *end;
        double v = strtod(p->values[i], &end);
        if (end == p->values[i] || *end) return 0;
        if (i > 0 && v <= strtod(p->values[i - 1], NULL)) return 0;
    }
    return 1;
}

/* A changed value of field i of a shown config: one step up or down for ordered numbers,
 * else any legal value (a permutation or list is re-drawn). */
static void add_changed(server *s, buf *b, const param *p, const char *cur) {
    if (ordered(p)) {
        int at = -1;
        for (int k = 0; k < p->nvalues; k++) if (strcmp(p->values[k], cur) == 0) at = k;
        if (at >= 0) {
            int to = at == 0 ? 1 : at == p->nvalues - 1 ? at - 1 : at + (rnd_int(s, 2) ? 1 : -1);
            adds(b, p->values[to]);
            return;
        }
    }
    add_value(s, b, p);
}

/* One config. With no measured configs shown (the first request) the mock has nothing to go
 * on and draws uniform legal values: it reads no kernel source and knows no hardware. With
 * the prompt's fastest configs shown (its best lines, fastest first), three times in four it
 * proposes a variation of one of them, as a model reading the feedback would: the fastest with
 * weight 1/2, the next 1/4, ...; one or two fields changed (adjacent values for ordered
 * numbers). Else a uniform config (exploration). It sees no latency beyond the ranking shown.
 * "outside" sets the first field illegal. */
static void add_config(server *s, buf *b, const space_block *sb, int outside) {
    int from = -1;
    if (sb->nbest > 0 && rnd_int(s, 4) != 0) {
        from = 0;
        while (from + 1 < sb->nbest && rnd_int(s, 2)) from++;
    }
    int f1 = rnd_int(s, sb->nparams), f2 = rnd_int(s, 2) ? rnd_int(s, sb->nparams) : f1;
    adds(b, "{");
    for (int i = 0; i < sb->nparams; i++) {
        addf(b, i ? ", \"%s\": " : "\"%s\": ", sb->params[i].name);
        if (outside && i == 0) adds(b, "123457");
        else if (from < 0) add_value(s, b, &sb->params[i]);
        else if (i == f1 || i == f2) add_changed(s, b, &sb->params[i], sb->best[from][i]);
        else adds(b, sb->best[from][i]);
    }
    adds(b, "}");
}

/* The assistant's text for a chat request. */
static void reply_text(server *s, buf *t, char *body, const char *fault) {
    space_block sb;
    if (parse_space(body, &sb)) {
        adds(t, "I could not find an htune-space block in your prompt, so here is nothing: []");
        free(sb.text);
        return;
    }
    int prose = strcmp(fault, "prose") == 0, outside = strcmp(fault, "outside") == 0;
    adds(t, prose ? "Sure! Based on the hardware I would try these configs [note: tuned guesses] -> "
                  : "Here are the configurations to try next:\n\n```json\n[\n");
    if (prose) adds(t, "[");
    buf done = {0}; /* the reply's configs so far, one a line: a model lists distinct ones */
    for (int i = 0; i < sb.count; i++) {
        buf one = {0};
        for (int tries = 0; tries < 8; tries++) {
            one.n = 0;
            add_config(s, &one, &sb, outside);
            adds(&one, "\n");
            if (!done.p || !strstr(done.p, one.p)) break;
        }
        adds(&done, one.p);
        one.p[one.n - 1] = 0;
        adds(t, i ? (prose ? ", " : ",\n  ") : (prose ? "" : "  "));
        adds(t, one.p);
        free(one.p);
    }
    free(done.p);
    adds(t, prose ? "] and that should be fast on this GPU." : "\n]\n```\nThese balance tile reuse against occupancy.");
    free(sb.text);
}

/* ---- HTTP -------------------------------------------------------------------------------------- */

static uint64_t fnv(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h;
}

static const char *kinds[] = {"429", "500", "drop", "truncate", "badjson", "prose", "outside", "empty"};

/* The fault for this request: MOCK_FAULTS=... by attempt number, else the random rate. */
static void pick_fault(server *s, const char *body, size_t n, char *out, size_t outn) {
    snprintf(out, outn, "ok");
    const char *m = strstr(body, "MOCK_FAULTS=");
    if (m) {
        uint64_t h = fnv(body, n);
        int slot = (int)(h % 4096);
        if (s->seen_hash[slot] != h) s->seen_hash[slot] = h, s->seen_count[slot] = 0;
        int k = s->seen_count[slot]++;
        char list[256];
        size_t len = strspn(m + 12, "abcdefghijklmnopqrstuvwxyz0123456789,");
        snprintf(list, sizeof list, "%.*s", (int)(len < sizeof list ? len : sizeof list - 1), m + 12);
        char *save, *tok = strtok_r(list, ",", &save);
        for (int i = 0; i < k && tok; i++) tok = strtok_r(NULL, ",", &save);
        if (tok) snprintf(out, outn, "%s", tok);
        return;
    }
    if (s->fault_rate > 0 && (double)(rnd(s) % 1000000) / 1e6 < s->fault_rate) snprintf(out, outn, "%s", kinds[rnd_int(s, 8)]);
}

static void respond(conn *c, int status, const char *extra, const char *body, size_t declared) {
    const char *reason = status == 200 ? "OK" : status == 429 ? "Too Many Requests" : status == 404 ? "Not Found" : "Internal Server Error";
    size_t n = strlen(body);
    addf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
         status, reason, declared ? declared : n, extra ? extra : "");
    adds(&c->out, body);
    c->close_after = 1;
}

static void chat_response(server *s, conn *c, char *body, size_t n, int anthropic) {
    char fault[32];
    pick_fault(s, body, n, fault, sizeof fault);
    buf text = {0}, out = {0};
    if (strcmp(fault, "429") == 0) { respond(c, 429, "Retry-After: 1\r\n", "{\"error\":{\"message\":\"rate limited\"}}", 0); return; }
    if (strcmp(fault, "500") == 0) { respond(c, 500, NULL, "{\"error\":{\"message\":\"internal\"}}", 0); return; }
    if (strcmp(fault, "badjson") == 0) { respond(c, 200, NULL, "{\"choices\": [ {\"message\": {\"content\": \"[{\"block", 0); return; }
    char *plain = strdup(body);
    unescape(plain);
    reply_text(s, &text, plain, fault);
    free(plain);
    if (strcmp(fault, "empty") == 0) text.n = 0, text.p[0] = 0;
    if (anthropic) adds(&out, "{\"id\":\"msg_mock\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":");
    else adds(&out, "{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion\",\"model\":\"mock\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
    add_json_str(&out, text.p ? text.p : "");
    if (anthropic) addf(&out, "}],\"usage\":{\"input_tokens\":%zu,\"output_tokens\":%zu}}", n / 4, text.n / 4);
    else addf(&out, "},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":%zu,\"completion_tokens\":%zu,\"total_tokens\":%zu}}",
              n / 4, text.n / 4, n / 4 + text.n / 4);
    int truncate = strcmp(fault, "truncate") == 0;
    respond(c, 200, NULL, out.p, truncate ? out.n + 100 : 0);
    if (truncate) c->drop_at = c->out.n - out.n / 2;
    if (strcmp(fault, "drop") == 0) c->drop_at = 1;
    free(text.p);
    free(out.p);
}

static void stats_json(server *s, char *js, size_t n) {
    snprintf(js, n, "{\"requests\":%ld,\"chat_requests\":%ld,\"active\":%ld,\"max_concurrent\":%ld}",
             s->requests, s->chat_requests, s->active, s->max_active);
}

/* --stats-file: the same JSON as GET /stats, rewritten (atomically) after every request. */
static void write_stats(server *s) {
    if (!s->stats_file) return;
    char js[256], tmp[4096];
    stats_json(s, js, sizeof js);
    snprintf(tmp, sizeof tmp, "%s.tmp", s->stats_file);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    fputs(js, f);
    fclose(f);
    rename(tmp, s->stats_file);
}

/* A complete request is in c->in: build the response and when it is due. */
static void route(server *s, conn *c, char *body, size_t n) {
    s->requests++;
    c->due_ms = now_ms();
    if (strncmp(c->in.p, "GET /stats", 10) == 0) {
        char js[256];
        stats_json(s, js, sizeof js);
        respond(c, 200, NULL, js, 0);
        return;
    }
    int openai = strncmp(c->in.p, "POST /v1/chat/completions", 25) == 0, anth = strncmp(c->in.p, "POST /v1/messages", 17) == 0;
    if (!openai && !anth) { respond(c, 404, NULL, "{\"error\":{\"message\":\"no such endpoint\"}}", 0); return; }
    s->chat_requests++;
    c->counted = 1;
    if (++s->active > s->max_active) s->max_active = s->active;
    c->due_ms += s->latency_ms;
    chat_response(s, c, body, n, anth);
    write_stats(s);
}

/* Reads what is available; routes once headers and Content-Length bytes are in. -1: close. */
static int on_read(server *s, conn *c) {
    char tmp[65536];
    ssize_t k = read(c->fd, tmp, sizeof tmp);
    if (k <= 0) return k < 0 && errno == EAGAIN ? 0 : -1;
    add(&c->in, tmp, (size_t)k);
    if (c->in.n > MAX_REQ) return -1;
    char *hdr_end = strstr(c->in.p, "\r\n\r\n");
    if (!hdr_end) return 0;
    size_t clen = 0;
    for (char *p = c->in.p; p && p < hdr_end; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL)
        if (strncasecmp(p, "content-length:", 15) == 0) clen = strtoul(p + 15, NULL, 10);
    char *body = hdr_end + 4;
    if ((size_t)(c->in.p + c->in.n - body) < clen) return 0;
    body[clen] = 0;
    route(s, c, body, clen);
    c->state = C_WAIT;
    return 0;
}

static void close_conn(server *s, conn *c) {
    if (c->counted) s->active--, write_stats(s);
    close(c->fd);
    free(c->in.p);
    free(c->out.p);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

/* Writes due bytes; a "drop" or "truncate" fault closes early. -1 when finished. */
static int on_write(conn *c) {
    size_t limit = c->drop_at ? c->drop_at - 1 : c->out.n;
    if (c->sent < limit) {
        ssize_t k = write(c->fd, c->out.p + c->sent, limit - c->sent);
        if (k < 0) return errno == EAGAIN ? 0 : -1;
        c->sent += (size_t)k;
    }
    return c->sent >= limit ? -1 : 0;
}

static int listen_loopback(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 128) || getsockname(fd, (struct sockaddr *)&a, &al)) {
        perror("mock_llm: listen on 127.0.0.1");
        exit(1);
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    *port = ntohs(a.sin_port);
    return fd;
}

static void accept_all(server *s, int lfd, conn *cs) {
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) return;
        s->t_last = now_ms();
        fcntl(fd, F_SETFL, O_NONBLOCK);
        int i = 0;
        while (i < MAX_CONN && cs[i].fd >= 0) i++;
        if (i == MAX_CONN) { close(fd); continue; }
        memset(&cs[i], 0, sizeof cs[i]);
        cs[i].fd = fd;
    }
}

static void serve(server *s, int lfd, double lifetime_ms, double idle_ms) {
    static conn cs[MAX_CONN];
    struct pollfd pf[MAX_CONN + 1];
    int idx[MAX_CONN + 1];
    for (int i = 0; i < MAX_CONN; i++) cs[i].fd = -1;
    for (;;) {
        double t = now_ms();
        int open = 0;
        for (int i = 0; i < MAX_CONN; i++) open += cs[i].fd >= 0;
        if (t - s->t_start > lifetime_ms || (open == 0 && t - s->t_last > idle_ms)) return;
        int n = 0, wait = 100;
        pf[n].fd = lfd, pf[n].events = POLLIN, idx[n++] = -1;
        for (int i = 0; i < MAX_CONN; i++) {
            conn *c = &cs[i];
            if (c->fd < 0) continue;
            if (c->state == C_WAIT && c->due_ms <= t) c->state = C_WRITE;
            if (c->state == C_WAIT) { int d = (int)(c->due_ms - t) + 1; if (d < wait) wait = d; continue; }
            pf[n].fd = c->fd, pf[n].events = c->state == C_READ ? POLLIN : POLLOUT, idx[n++] = i;
        }
        poll(pf, (nfds_t)n, wait);
        if (pf[0].revents & POLLIN) accept_all(s, lfd, cs);
        for (int k = 1; k < n; k++) {
            conn *c = &cs[idx[k]];
            if (!pf[k].revents) continue;
            s->t_last = now_ms();
            int rc = c->state == C_READ ? on_read(s, c) : on_write(c);
            if (rc < 0) close_conn(s, c);
        }
    }
}

int main(int argc, char **argv) {
    static server s;
    double lifetime_s = 60, idle_s = 10;
    const char *port_file = NULL;
    s.latency_ms = 50, s.rng = 88172645463325252ULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--latency-ms")) s.latency_ms = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--lifetime-s")) lifetime_s = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--idle-exit-s")) idle_s = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--fault-rate")) s.fault_rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed")) s.rng ^= strtoull(argv[i + 1], NULL, 10) * 0x9E3779B97F4A7C15ULL;
        else if (!strcmp(argv[i], "--port-file")) port_file = argv[i + 1];
        else if (!strcmp(argv[i], "--stats-file")) s.stats_file = argv[i + 1];
        else { fprintf(stderr, "mock_llm: unknown option %s\n", argv[i]); return 2; }
    }
    if (lifetime_s > 3600) lifetime_s = 3600;
    signal(SIGPIPE, SIG_IGN);
    int port, lfd = listen_loopback(&port);
    printf("PORT %d\n", port);
    fflush(stdout);
    if (port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (f) { fprintf(f, "%d %d\n", port, (int)getpid()); fclose(f); rename(tmp, port_file); }
    }
    s.t_start = s.t_last = now_ms();
    serve(&s, lfd, lifetime_s * 1000, idle_s * 1000);
    close(lfd);
    return 0;
}

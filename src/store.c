/* The results store over SQLite: schema and its checks, run rows, batched trial inserts with a
 * flusher thread bounding how long a trial waits for its commit, and read cursors.
 * One mutex guards the connection; the flusher only ever commits. No Lua here. */
#include "store.h"
#include "util.h"
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct store {
    sqlite3 *db;
    sqlite3_stmt *ins_trial;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_t flusher;
    int have_flusher, stop, in_txn, pending;
    double oldest_ms;
    int64_t committed;
    char bg_err[256];
    store_options opt;
    char path[1024];
};

struct store_cursor {
    store *s;
    sqlite3_stmt *st;
};

static const char *SCHEMA =
    "CREATE TABLE runs(id INTEGER PRIMARY KEY, uid TEXT UNIQUE NOT NULL, run_key TEXT NOT NULL,"
    " problem TEXT, problem_key TEXT, source_hash TEXT, shape TEXT, dtype TEXT, device TEXT, cc TEXT,"
    " driver TEXT, htune_version TEXT, strategy TEXT, seed INTEGER, host TEXT, pid INTEGER,"
    " started REAL, finished REAL, status TEXT NOT NULL);"
    "CREATE INDEX runs_key ON runs(run_key);"
    "CREATE INDEX runs_best ON runs(problem, shape, dtype, device, source_hash);"
    "CREATE TABLE trials(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),"
    " seq INTEGER, cfg TEXT NOT NULL, hash TEXT NOT NULL, ok INTEGER NOT NULL, reason TEXT,"
    " latency_us REAL, median_us REAL, min_us REAL, mean_us REAL, stddev_us REAL, reps INTEGER,"
    " noise_pct REAL, compile_ms REAL, bench_ms REAL, wall_ms REAL, facts TEXT, log TEXT,"
    " created REAL, UNIQUE(run_id, hash));"
    "CREATE INDEX trials_fast ON trials(ok, latency_us);";

static const char *INS_TRIAL =
    "INSERT INTO trials(run_id,seq,cfg,hash,ok,reason,latency_us,median_us,min_us,mean_us,"
    "stddev_us,reps,noise_pct,compile_ms,bench_ms,wall_ms,facts,log,created)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)"
    " ON CONFLICT(run_id,hash) DO UPDATE SET cfg=excluded.cfg, ok=excluded.ok,"
    " reason=excluded.reason, latency_us=excluded.latency_us, median_us=excluded.median_us,"
    " min_us=excluded.min_us, mean_us=excluded.mean_us, stddev_us=excluded.stddev_us,"
    " reps=excluded.reps, noise_pct=excluded.noise_pct, compile_ms=excluded.compile_ms,"
    " bench_ms=excluded.bench_ms, wall_ms=excluded.wall_ms, facts=excluded.facts,"
    " log=excluded.log, created=excluded.created";

const char *store_code_name(int code) {
    switch (code) {
    case STORE_OK: return "OK";
    case STORE_ECORRUPT: return "ECORRUPT";
    case STORE_EFOREIGN: return "EFOREIGN";
    case STORE_EVERSION: return "EVERSION";
    case STORE_EBUSY: return "EBUSY";
    case STORE_EARG: return "EARG";
    default: return "EIO";
    }
}

double store_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Maps an SQLite result to a store code and writes "what: path: sqlite message" into err. */
static int fail(store *s, int rc, const char *what, char *err, size_t errlen) {
    snprintf(err, errlen, "store %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
    if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) return STORE_ECORRUPT;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return STORE_EBUSY;
    return STORE_EIO;
}

static int exec(store *s, const char *sql, const char *what, char *err, size_t errlen) {
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : fail(s, rc, what, err, errlen);
}

/* Runs a one-integer query (a pragma or a count) into *v. */
static int query_int(store *s, const char *sql, int64_t *v, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *v = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : fail(s, rc, "reading its header", err, errlen);
}

/* Creates the schema in an empty file; a second process racing here finds it made. */
static int create_schema(store *s, char *err, size_t errlen) {
    int64_t tables = 0;
    if (exec(s, "BEGIN IMMEDIATE", "locking to create the schema", err, errlen)) return STORE_EIO;
    int rc = query_int(s, "SELECT count(*) FROM sqlite_master", &tables, err, errlen);
    if (rc == 0 && tables == 0) {
        char pragmas[128];
        snprintf(pragmas, sizeof pragmas, "PRAGMA application_id=%d; PRAGMA user_version=%d;",
                 STORE_APP_ID, STORE_SCHEMA_VERSION);
        rc = exec(s, SCHEMA, "creating the schema", err, errlen);
        if (rc == 0) rc = exec(s, pragmas, "creating the schema", err, errlen);
    }
    if (rc != 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return exec(s, "COMMIT", "creating the schema", err, errlen);
}

/* Refuses what is not an htune database of this schema version, before writing anything. */
static int check_header(store *s, char *err, size_t errlen) {
    int64_t app = 0, version = 0, tables = 0;
    /* one read transaction, so a schema another process is creating is seen whole or not at all */
    sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    int rc = query_int(s, "PRAGMA application_id", &app, err, errlen);
    if (rc == STORE_ECORRUPT) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        snprintf(err, errlen, "store %s: not an SQLite database (corrupt or another kind of file); "
                 "left untouched, move it away or pass another --db", s->path);
        return rc;
    }
    if (rc == 0) rc = query_int(s, "PRAGMA user_version", &version, err, errlen);
    if (rc == 0) rc = query_int(s, "SELECT count(*) FROM sqlite_master", &tables, err, errlen);
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != 0) return rc;
    if (app == 0 && tables == 0) return create_schema(s, err, errlen);
    if (app != STORE_APP_ID) {
        snprintf(err, errlen, "store %s: an SQLite database of another program (application_id %lld, "
                 "%lld tables), not htune's; left untouched", s->path, (long long)app, (long long)tables);
        return STORE_EFOREIGN;
    }
    if (version != STORE_SCHEMA_VERSION) {
        snprintf(err, errlen, "store %s: schema version %lld, this htune reads version %d (%s); left untouched",
                 s->path, (long long)version, STORE_SCHEMA_VERSION,
                 version > STORE_SCHEMA_VERSION ? "written by a newer htune" : "too old to migrate");
        return STORE_EVERSION;
    }
    return 0;
}

/* Commits the open batch; caller holds mu. */
static int commit_locked(store *s, char *err, size_t errlen) {
    if (!s->in_txn) return 0;
    int rc = exec(s, "COMMIT", "committing trials", err, errlen);
    if (rc != 0) return rc;
    s->in_txn = 0;
    s->committed += s->pending;
    s->pending = 0;
    return 0;
}

static void deadline_in(struct timespec *ts, double ms) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    long ns = ts->tv_nsec + (long)(ms * 1e6);
    ts->tv_sec += ns / 1000000000L;
    ts->tv_nsec = ns % 1000000000L;
}

/* Commits a batch once its oldest trial has waited batch_ms, so an idle caller loses nothing. */
static void *flusher_main(void *arg) {
    store *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        double wait_ms = s->opt.batch_ms;
        if (s->in_txn) {
            double age = util_now_ms() - s->oldest_ms;
            if (age >= s->opt.batch_ms) {
                if (commit_locked(s, s->bg_err, sizeof s->bg_err) != 0) s->in_txn = 0;
                continue;
            }
            wait_ms = s->opt.batch_ms - age;
        }
        struct timespec ts;
        deadline_in(&ts, wait_ms > 0.05 ? wait_ms : 0.05);
        pthread_cond_timedwait(&s->wake, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void init_sync(store *s) {
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
}

static int start_flusher(store *s, char *err, size_t errlen) {
    if (s->opt.batch_ms <= 0) return 0;
    if (pthread_create(&s->flusher, NULL, flusher_main, s) != 0) {
        snprintf(err, errlen, "store %s: cannot start the flusher thread: %s", s->path, strerror(errno));
        return STORE_EIO;
    }
    s->have_flusher = 1;
    return 0;
}

static int open_db(store *s, char *err, size_t errlen) {
    int rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) return fail(s, rc, "cannot open", err, errlen);
    sqlite3_busy_timeout(s->db, s->opt.busy_ms);
    if ((rc = check_header(s, err, errlen)) != 0) return rc;
    if ((rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
                   "setting WAL mode", err, errlen)) != 0) return rc;
    rc = sqlite3_prepare_v3(s->db, INS_TRIAL, -1, SQLITE_PREPARE_PERSISTENT, &s->ins_trial, NULL);
    if (rc != SQLITE_OK) return fail(s, rc, "preparing the trial insert", err, errlen);
    return start_flusher(s, err, errlen);
}

int store_open(store **out, const char *path, const store_options *opt, char *err, size_t errlen) {
    *out = NULL;
    if (!path || !*path || strlen(path) >= sizeof((store *)0)->path) {
        snprintf(err, errlen, "store: path '%s' is empty or too long", path ? path : "(null)");
        return STORE_EARG;
    }
    store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "store %s: out of memory", path);
        return STORE_EIO;
    }
    snprintf(s->path, sizeof s->path, "%s", path);
    s->opt = opt ? *opt : (store_options){5, 256, 10000};
    if (s->opt.batch_max < 1) s->opt.batch_max = 1;
    init_sync(s);
    int rc = open_db(s, err, errlen);
    if (rc != 0) {
        store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void store_close(store *s) {
    if (!s) return;
    char err[256];
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    if (s->db) commit_locked(s, err, sizeof err);
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    if (s->have_flusher) pthread_join(s->flusher, NULL);
    sqlite3_finalize(s->ins_trial);
    sqlite3_close_v2(s->db);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake);
    free(s);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
    if (v) sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(st, i);
}

static void bind_real(sqlite3_stmt *st, int i, double v) {
    if (isnan(v)) sqlite3_bind_null(st, i);
    else sqlite3_bind_double(st, i, v);
}

static int step_done(store *s, sqlite3_stmt *st, const char *what, char *err, size_t errlen) {
    int rc = sqlite3_step(st);
    int code = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : fail(s, rc, what, err, errlen);
    sqlite3_reset(st);
    return code;
}

/* Looks a run up by uid; 1 found (*id set), 0 not, negative on error. Caller holds mu. */
static int run_by_uid(store *s, const char *uid, int64_t *id, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT id FROM runs WHERE uid=?1", -1, &st, NULL);
    if (rc != SQLITE_OK) return fail(s, rc, "looking a run up", err, errlen);
    bind_text(st, 1, uid);
    rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW;
    if (found) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return (found || rc == SQLITE_DONE) ? found : fail(s, rc, "looking a run up", err, errlen);
}

static int insert_run(store *s, const store_run *r, int64_t *id, char *err, size_t errlen) {
    static const char *sql =
        "INSERT INTO runs(uid,run_key,problem,problem_key,source_hash,shape,dtype,device,cc,driver,"
        "htune_version,strategy,host,status,seed,pid,started,finished)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return fail(s, rc, "adding a run", err, errlen);
    const char *text[] = {r->uid, r->run_key, r->problem, r->problem_key, r->source_hash, r->shape, r->dtype,
                          r->device, r->cc, r->driver, r->htune_version, r->strategy, r->host,
                          r->status ? r->status : "running"};
    for (int i = 0; i < 14; i++) bind_text(st, i + 1, text[i]);
    sqlite3_bind_int64(st, 15, r->seed);
    sqlite3_bind_int64(st, 16, r->pid);
    sqlite3_bind_double(st, 17, r->started);
    bind_real(st, 18, r->finished < 0 ? NAN : r->finished);
    rc = step_done(s, st, "adding a run", err, errlen);
    sqlite3_finalize(st);
    if (rc == 0) *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int store_run_add(store *s, const store_run *r, int64_t *id, int *existed, char *err, size_t errlen) {
    if (!r->uid || !r->run_key) {
        snprintf(err, errlen, "store: run field '%s' is missing", r->uid ? "run_key" : "uid");
        return STORE_EARG;
    }
    pthread_mutex_lock(&s->mu);
    int rc = commit_locked(s, err, errlen);
    if (rc == 0) rc = run_by_uid(s, r->uid, id, err, errlen);
    if (existed) *existed = rc == 1;
    if (rc == 0) rc = insert_run(s, r, id, err, errlen);
    pthread_mutex_unlock(&s->mu);
    return rc < 0 ? rc : 0;
}

int store_run_set(store *s, int64_t id, const char *status, int64_t pid, const char *host,
                  double finished, char *err, size_t errlen) {
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->mu);
    int rc = commit_locked(s, err, errlen);
    if (rc == 0 && sqlite3_prepare_v2(s->db, "UPDATE runs SET status=?2, pid=?3, host=?4, finished=?5 WHERE id=?1",
                                      -1, &st, NULL) != SQLITE_OK)
        rc = fail(s, sqlite3_errcode(s->db), "updating a run", err, errlen);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, id);
        bind_text(st, 2, status);
        sqlite3_bind_int64(st, 3, pid);
        bind_text(st, 4, host);
        bind_real(st, 5, finished < 0 ? NAN : finished);
        rc = step_done(s, st, "updating a run", err, errlen);
    }
    if (rc == 0 && sqlite3_changes(s->db) != 1) {
        snprintf(err, errlen, "store %s: no run with id %lld", s->path, (long long)id);
        rc = STORE_EARG;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void bind_trial(sqlite3_stmt *st, const store_trial *t) {
    sqlite3_bind_int64(st, 1, t->run_id);
    sqlite3_bind_int64(st, 2, t->seq);
    bind_text(st, 3, t->cfg_json);
    bind_text(st, 4, t->cfg_hash);
    sqlite3_bind_int(st, 5, t->ok != 0);
    bind_text(st, 6, t->reason);
    const double reals[] = {t->latency_us, t->median_us, t->min_us, t->mean_us, t->stddev_us};
    for (int i = 0; i < 5; i++) bind_real(st, 7 + i, reals[i]);
    if (t->reps >= 0) sqlite3_bind_int64(st, 12, t->reps);
    else sqlite3_bind_null(st, 12);
    bind_real(st, 13, t->noise_pct);
    bind_real(st, 14, t->compile_ms);
    bind_real(st, 15, t->bench_ms);
    bind_real(st, 16, t->wall_ms);
    bind_text(st, 17, t->facts_json);
    bind_text(st, 18, t->log);
    sqlite3_bind_double(st, 19, t->created);
}

/* Opens the batch transaction (IMMEDIATE: waits busy_ms for another writer). Caller holds mu. */
static int begin_batch(store *s, char *err, size_t errlen) {
    if (s->bg_err[0]) {
        snprintf(err, errlen, "%s", s->bg_err);
        s->bg_err[0] = '\0';
        return STORE_EIO;
    }
    if (s->in_txn) return 0;
    int rc = exec(s, "BEGIN IMMEDIATE", "starting a batch of trials", err, errlen);
    if (rc != 0) return rc;
    s->in_txn = 1;
    s->oldest_ms = util_now_ms();
    pthread_cond_signal(&s->wake);
    return 0;
}

int store_trial_add(store *s, const store_trial *t, char *err, size_t errlen) {
    if (!t->cfg_json || !t->cfg_hash) {
        snprintf(err, errlen, "store: trial field '%s' is missing", t->cfg_json ? "hash" : "cfg");
        return STORE_EARG;
    }
    pthread_mutex_lock(&s->mu);
    int rc = begin_batch(s, err, errlen);
    if (rc == 0) {
        bind_trial(s->ins_trial, t);
        rc = step_done(s, s->ins_trial, "adding a trial", err, errlen);
        sqlite3_clear_bindings(s->ins_trial);
    }
    if (rc == 0) {
        s->pending++;
        if (s->opt.batch_ms <= 0 || s->pending >= s->opt.batch_max ||
            util_now_ms() - s->oldest_ms >= s->opt.batch_ms)
            rc = commit_locked(s, err, errlen);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int store_flush(store *s, char *err, size_t errlen) {
    pthread_mutex_lock(&s->mu);
    int rc = commit_locked(s, err, errlen);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int64_t store_committed(store *s) {
    pthread_mutex_lock(&s->mu);
    int64_t n = s->committed;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int store_pending(store *s) {
    pthread_mutex_lock(&s->mu);
    int n = s->pending;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Flushes, prepares sql and hands back a cursor; binds are done by the caller through it. */
static int cursor_new(store *s, const char *sql, store_cursor **out, char *err, size_t errlen) {
    *out = NULL;
    store_cursor *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "store: out of memory");
        return STORE_EIO;
    }
    c->s = s;
    pthread_mutex_lock(&s->mu);
    int rc = commit_locked(s, err, errlen);
    if (rc == 0 && sqlite3_prepare_v2(s->db, sql, -1, &c->st, NULL) != SQLITE_OK)
        rc = fail(s, sqlite3_errcode(s->db), "preparing a query", err, errlen);
    pthread_mutex_unlock(&s->mu);
    if (rc != 0) {
        store_cursor_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

#define RUN_COLS "id, uid, run_key, problem, problem_key, source_hash, shape, dtype, device, cc, driver," \
    " htune_version, strategy, seed, host, pid, started, finished, status"

static void bind_filter(sqlite3_stmt *st, const store_filter *f) {
    sqlite3_bind_int64(st, 1, f->id);
    const char *text[] = {f->run_key, f->problem, f->uid, f->source_hash, f->shape, f->dtype, f->device};
    for (int i = 0; i < 7; i++) bind_text(st, i + 2, text[i]);
    sqlite3_bind_int64(st, 9, f->limit > 0 ? f->limit : -1);
    bind_text(st, 10, f->problem_key);
}

int store_runs(store *s, const store_filter *f, store_cursor **out, char *err, size_t errlen) {
    static const char *sql = "SELECT " RUN_COLS " FROM runs WHERE (?1<=0 OR id=?1) AND (?2 IS NULL OR run_key=?2)"
        " AND (?3 IS NULL OR problem=?3) AND (?4 IS NULL OR uid=?4) AND (?5 IS NULL OR source_hash=?5)"
        " AND (?6 IS NULL OR shape=?6) AND (?7 IS NULL OR dtype=?7) AND (?8 IS NULL OR device=?8)"
        " AND (?10 IS NULL OR problem_key=?10) ORDER BY id DESC LIMIT ?9";
    int rc = cursor_new(s, sql, out, err, errlen);
    if (rc == 0) bind_filter((*out)->st, f);
    return rc;
}

#define TRIAL_COLS(p) p "id, " p "run_id, " p "seq, " p "cfg, " p "hash, " p "ok, " p "reason, " p "latency_us, " \
    p "median_us, " p "min_us, " p "mean_us, " p "stddev_us, " p "reps, " p "noise_pct, " p "compile_ms, "     \
    p "bench_ms, " p "wall_ms, " p "facts, " p "log, " p "created"

int store_trials(store *s, int64_t run_id, store_cursor **out, char *err, size_t errlen) {
    static const char *sql = "SELECT " TRIAL_COLS("") " FROM trials WHERE run_id=?1 ORDER BY seq, id";
    int rc = cursor_new(s, sql, out, err, errlen);
    if (rc == 0) sqlite3_bind_int64((*out)->st, 1, run_id);
    return rc;
}

int store_best(store *s, const store_filter *f, store_cursor **out, char *err, size_t errlen) {
    static const char *sql = "SELECT " TRIAL_COLS("t.") ", r.uid, r.run_key, r.problem, r.problem_key,"
        " r.source_hash, r.shape, r.dtype, r.device, r.cc, r.driver, r.strategy, r.started"
        " FROM trials t JOIN runs r ON r.id=t.run_id WHERE t.ok=1 AND t.latency_us IS NOT NULL"
        " AND (?1<=0 OR r.id=?1) AND (?2 IS NULL OR r.run_key=?2) AND (?3 IS NULL OR r.problem=?3)"
        " AND (?4 IS NULL OR r.uid=?4) AND (?5 IS NULL OR r.source_hash=?5) AND (?6 IS NULL OR r.shape=?6)"
        " AND (?7 IS NULL OR r.dtype=?7) AND (?8 IS NULL OR r.device=?8) AND (?10 IS NULL OR r.problem_key=?10)"
        " ORDER BY t.latency_us, t.id LIMIT ?9";
    int rc = cursor_new(s, sql, out, err, errlen);
    if (rc == 0) bind_filter((*out)->st, f);
    return rc;
}

int store_cursor_next(store_cursor *c, char *err, size_t errlen) {
    pthread_mutex_lock(&c->s->mu);
    int rc = sqlite3_step(c->st);
    int out = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : fail(c->s, rc, "reading rows", err, errlen);
    pthread_mutex_unlock(&c->s->mu);
    return out;
}

int store_cursor_ncols(store_cursor *c) { return sqlite3_column_count(c->st); }
const char *store_cursor_name(store_cursor *c, int col) { return sqlite3_column_name(c->st, col); }
int64_t store_cursor_int(store_cursor *c, int col) { return sqlite3_column_int64(c->st, col); }
double store_cursor_real(store_cursor *c, int col) { return sqlite3_column_double(c->st, col); }

int store_cursor_type(store_cursor *c, int col) {
    switch (sqlite3_column_type(c->st, col)) {
    case SQLITE_INTEGER: return STORE_INT;
    case SQLITE_FLOAT: return STORE_REAL;
    case SQLITE_NULL: return STORE_NULL;
    default: return STORE_TEXT;
    }
}

const char *store_cursor_text(store_cursor *c, int col, size_t *len) {
    const char *t = (const char *)sqlite3_column_text(c->st, col);
    if (len) *len = (size_t)sqlite3_column_bytes(c->st, col);
    return t;
}

void store_cursor_free(store_cursor *c) {
    if (!c) return;
    if (c->st) {
        pthread_mutex_lock(&c->s->mu);
        sqlite3_finalize(c->st);
        pthread_mutex_unlock(&c->s->mu);
    }
    free(c);
}

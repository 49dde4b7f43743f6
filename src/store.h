/* The results store: runs and trials in one SQLite database (WAL, schema version in
 * PRAGMA user_version, application_id marks it as htune's). Trials are inserted into an open
 * write transaction that commits after batch_ms (a flusher thread keeps that promise while the
 * caller is idle), after batch_max rows, or on flush/close. No Lua here. */
#ifndef HTUNE_STORE_H
#define HTUNE_STORE_H
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 1
#define STORE_APP_ID 0x6874756e /* "htun" */

typedef struct store store;
typedef struct store_cursor store_cursor;

/* Error codes (negative); store_code_name gives the stable string ("ECORRUPT", ...). */
enum { STORE_OK = 0, STORE_EIO = -1, STORE_ECORRUPT = -2, STORE_EFOREIGN = -3, STORE_EVERSION = -4,
       STORE_EBUSY = -5, STORE_EARG = -6 };
const char *store_code_name(int code);

typedef struct store_options {
    double batch_ms; /* commit pending trials at most this late; 0 = commit each trial */
    int batch_max;   /* commit once this many trials are pending */
    int busy_ms;     /* wait this long for another process's write lock */
} store_options;

/* Opens (creating when absent or empty) the database at path. A file that is not SQLite, or is
 * another program's, or a newer schema, is refused with a message naming path and cause, and is
 * never written. Returns 0 and *out (caller store_close()s it) or a negative code with err. */
int store_open(store **out, const char *path, const store_options *opt, char *err, size_t errlen);

/* Commits what is pending, stops the flusher, closes. NULL is fine. */
void store_close(store *s);

/* A run's facts; NULL strings are stored as NULL. Times are unix seconds. */
typedef struct store_run {
    const char *uid, *run_key, *problem, *problem_key, *source_hash, *shape, *dtype;
    const char *device, *cc, *driver, *htune_version, *strategy, *host, *status;
    int64_t seed, pid;
    double started, finished; /* finished < 0: NULL */
} store_run;

/* A trial's facts. Doubles that are NaN and reps < 0 are stored as NULL. */
typedef struct store_trial {
    int64_t run_id, seq, reps;
    const char *cfg_json, *cfg_hash, *reason, *facts_json, *log;
    int ok;
    double latency_us, median_us, min_us, mean_us, stddev_us, noise_pct;
    double compile_ms, bench_ms, wall_ms, created;
} store_trial;

/* Inserts a run (committed at once); *id receives its row id. A run whose uid exists is not
 * inserted again: *id is the existing one and *existed is set (import merges into it). */
int store_run_add(store *s, const store_run *r, int64_t *id, int *existed, char *err, size_t errlen);

/* Marks a run status ("running", "done", "stopped", ...) with pid/host/finished. */
int store_run_set(store *s, int64_t id, const char *status, int64_t pid, const char *host,
                  double finished, char *err, size_t errlen);

/* Adds (or replaces: one row per run and config hash) a trial inside the batch transaction. */
int store_trial_add(store *s, const store_trial *t, char *err, size_t errlen);

/* Commits pending trials now. */
int store_flush(store *s, char *err, size_t errlen);

/* Trials durably committed by this connection / trials waiting for the next commit. */
int64_t store_committed(store *s);
int store_pending(store *s);

/* Queries. Each flushes first and returns a cursor over rows (caller store_cursor_free()s).
 * runs: filter by id (>0), run_key, problem, uid (NULL = any), newest first, at most limit.
 * trials: one run's trials by seq. best: ok trials with a latency, fastest first, filtered
 * by problem, source_hash, shape, dtype, device (NULL = any), joined with their run's facts. */
typedef struct store_filter {
    int64_t id;
    const char *run_key, *problem, *uid, *source_hash, *shape, *dtype, *device, *problem_key;
    int64_t limit;
} store_filter;
int store_runs(store *s, const store_filter *f, store_cursor **out, char *err, size_t errlen);
int store_trials(store *s, int64_t run_id, store_cursor **out, char *err, size_t errlen);
int store_best(store *s, const store_filter *f, store_cursor **out, char *err, size_t errlen);

enum { STORE_NULL, STORE_INT, STORE_REAL, STORE_TEXT };
/* Steps: 1 = a row, 0 = done, negative = error (err filled). */
int store_cursor_next(store_cursor *c, char *err, size_t errlen);
int store_cursor_ncols(store_cursor *c);
const char *store_cursor_name(store_cursor *c, int col);
int store_cursor_type(store_cursor *c, int col);
int64_t store_cursor_int(store_cursor *c, int col);
double store_cursor_real(store_cursor *c, int col);
const char *store_cursor_text(store_cursor *c, int col, size_t *len);
void store_cursor_free(store_cursor *c);

/* Wall clock in unix seconds (with fraction). */
double store_now(void);
#endif

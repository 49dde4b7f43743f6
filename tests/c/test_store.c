/* store core: schema creation, batched commits (count, timer, flush), one row per config per
 * run, cursors, and refusal of corrupt, foreign and newer-schema files without touching them. */
#include "store.h"
#include "test.h"
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/htune-test-store-XXXXXX";
static char path[256];

static store *open_at(const char *p, double batch_ms, int batch_max) {
    store_options o = {batch_ms, batch_max, 2000};
    store *s = NULL;
    char err[512];
    int rc = store_open(&s, p, &o, err, sizeof err);
    if (rc != 0) fprintf(stderr, "open: %s\n", err);
    return s;
}

static int64_t add_run(store *s, const char *uid) {
    store_run r = {.uid = uid, .run_key = "k", .problem = "p", .shape = "8x8", .dtype = "fp16",
                   .device = "cpu", .status = "running", .seed = 1, .started = store_now(), .finished = -1};
    int64_t id = 0;
    int existed = -1;
    char err[512];
    CHECK_EQ_INT(store_run_add(s, &r, &id, &existed, err, sizeof err), 0);
    return id;
}

static int add_trial(store *s, int64_t run, int i, double lat) {
    char cfg[64], hash[32], err[512];
    snprintf(cfg, sizeof cfg, "{\"a\":%d}", i);
    snprintf(hash, sizeof hash, "h%d", i);
    store_trial t = {run, i, 3, cfg, hash, NULL, NULL, NULL, 1, lat, lat, lat, lat, 0, NAN, 1, 2, 3, store_now()};
    return store_trial_add(s, &t, err, sizeof err);
}

static int count_rows(store *s, int64_t run) {
    store_cursor *c;
    char err[512];
    if (store_trials(s, run, &c, err, sizeof err) != 0) return -1;
    int n = 0;
    while (store_cursor_next(c, err, sizeof err) == 1) n++;
    store_cursor_free(c);
    return n;
}

static void test_batches_by_count_and_flush(void) {
    snprintf(path, sizeof path, "%s/a.db", dir);
    store *s = open_at(path, 1e6, 4);
    CHECK(s != NULL);
    if (!s) return;
    int64_t run = add_run(s, "u1");
    for (int i = 1; i <= 5; i++) CHECK_EQ_INT(add_trial(s, run, i, 100 - i), 0);
    CHECK_EQ_INT(store_committed(s), 4);
    CHECK_EQ_INT(store_pending(s), 1);
    char err[512];
    CHECK_EQ_INT(store_flush(s, err, sizeof err), 0);
    CHECK_EQ_INT(store_committed(s), 5);
    CHECK_EQ_INT(add_trial(s, run, 5, 1.5), 0); /* same config: replaces, no second row */
    CHECK_EQ_INT(count_rows(s, run), 5);
    store_close(s);
}

static void test_timer_commits_while_idle(void) {
    snprintf(path, sizeof path, "%s/b.db", dir);
    store *s = open_at(path, 5, 1000);
    store *other = open_at(path, 0, 1);
    CHECK(s && other);
    if (!s || !other) return;
    int64_t run = add_run(s, "u2");
    CHECK_EQ_INT(add_trial(s, run, 1, 10), 0);
    CHECK_EQ_INT(store_committed(s), 0);
    struct timespec ts = {0, 40 * 1000000L};
    nanosleep(&ts, NULL);
    CHECK_EQ_INT(store_committed(s), 1);
    CHECK_EQ_INT(count_rows(other, run), 1); /* visible to another connection */
    store_close(other);
    store_close(s);
}

static void test_best_and_runs(void) {
    store *s = open_at(path, 0, 1);
    CHECK(s != NULL);
    if (!s) return;
    store_filter f = {.problem = "p", .shape = "8x8", .limit = 1};
    store_cursor *c;
    char err[512];
    CHECK_EQ_INT(store_best(s, &f, &c, err, sizeof err), 0);
    CHECK_EQ_INT(store_cursor_next(c, err, sizeof err), 1);
    CHECK_STR(store_cursor_name(c, 4), "hash");
    CHECK_STR(store_cursor_text(c, 4, NULL), "h1");
    CHECK_EQ_INT(store_cursor_next(c, err, sizeof err), 0);
    store_cursor_free(c);
    f.shape = "9x9";
    CHECK_EQ_INT(store_best(s, &f, &c, err, sizeof err), 0);
    CHECK_EQ_INT(store_cursor_next(c, err, sizeof err), 0);
    store_cursor_free(c);
    int64_t id;
    int existed = 0;
    store_run r = {.uid = "u2", .run_key = "k2", .started = 1, .finished = -1};
    CHECK_EQ_INT(store_run_add(s, &r, &id, &existed, err, sizeof err), 0);
    CHECK_EQ_INT(existed, 1);
    CHECK_EQ_INT(store_run_set(s, 999, "done", 1, "h", 2, err, sizeof err), STORE_EARG);
    store_close(s);
}

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void expect_refused(const char *p, int want, const char *words) {
    long before = file_size(p);
    store *s = NULL;
    char err[512] = "";
    CHECK_EQ_INT(store_open(&s, p, NULL, err, sizeof err), want);
    CHECK(s == NULL);
    CHECK(strstr(err, words) != NULL);
    CHECK(strstr(err, p) != NULL);
    CHECK_EQ_INT(file_size(p), before);
}

static void test_refuses_corrupt_foreign_newer(void) {
    char p[256];
    snprintf(p, sizeof p, "%s/garbage.db", dir);
    FILE *f = fopen(p, "wb");
    for (int i = 0; i < 4096; i++) fputc((i * 7919) & 255, f);
    fclose(f);
    expect_refused(p, STORE_ECORRUPT, "not an SQLite database");
    snprintf(p, sizeof p, "%s/newer.db", dir);
    store *s = open_at(p, 0, 1);
    CHECK(s != NULL);
    store_close(s);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sqlite3 %s 'PRAGMA user_version=7' 2>/dev/null", p);
    if (system(cmd) == 0) expect_refused(p, STORE_EVERSION, "newer htune");
    snprintf(p, sizeof p, "%s/foreign.db", dir);
    snprintf(cmd, sizeof cmd, "sqlite3 %s 'CREATE TABLE x(a)' 2>/dev/null", p);
    if (system(cmd) == 0) expect_refused(p, STORE_EFOREIGN, "another program");
}

int main(void) {
    if (!mkdtemp(dir)) return 1;
    RUN(test_batches_by_count_and_flush);
    RUN(test_timer_commits_while_idle);
    RUN(test_best_and_runs);
    RUN(test_refuses_corrupt_foreign_newer);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    return test_report();
}

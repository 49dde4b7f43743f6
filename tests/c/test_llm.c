/* Tests of the LLM client core (src/llm.c) against tests/mock_llm (spawned on 127.0.0.1, found
 * beside the htune build: <build>/mock_llm): scrubbing, network errors and retries, the
 * concurrency limit, Retry-After, the cache, cancel and timeouts. The key never leaks. */
#include "llm.h"
#include "test.h"
#include "util.h"
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define SECRET "sk-test-SECRET-0123456789"

static pid_t mock_pid;
static char mock_url[128], tmp_dir[256];

static int start_mock(void) {
    char dir[512], bin[1024], port_file[600];
    if (util_exe_dir(dir, sizeof dir)) return -1;
    snprintf(bin, sizeof bin, "%s/../mock_llm", dir);
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/htune_test_llm_%d", (int)getpid());
    util_mkdirs(tmp_dir);
    snprintf(port_file, sizeof port_file, "%s/port", tmp_dir);
    char *argv[] = {bin, "--latency-ms", "100", "--lifetime-s", "30", "--idle-exit-s", "5", "--port-file", port_file, NULL};
    if (posix_spawn(&mock_pid, bin, NULL, NULL, argv, environ)) return -1;
    for (int i = 0; i < 300; i++) {
        char err[64];
        size_t len;
        char *s = util_read_file(port_file, &len, err, sizeof err);
        if (s) {
            snprintf(mock_url, sizeof mock_url, "http://127.0.0.1:%d/v1/chat/completions", atoi(s));
            free(s);
            return 0;
        }
        usleep(10000);
    }
    return -1;
}

static llm_client *open_client(const char *url, int conc, int retries, long timeout_ms, const char *cache) {
    char err[256];
    struct llm_opts o = {.url = url, .auth_name = "Authorization", .auth_prefix = "Bearer ", .secret = SECRET,
                         .max_concurrency = conc, .connect_timeout_ms = 2000, .timeout_ms = timeout_ms,
                         .retries = retries, .backoff_ms = 20, .cache_dir = cache};
    return llm_open(&o, err, sizeof err);
}

static const struct llm_result *run_one(llm_client *c, const char *body) {
    long id = llm_submit(c, body, strlen(body), 1);
    for (int i = 0; i < 200 && !llm_get(c, id)->done; i++) llm_poll(c, 100);
    return llm_get(c, id);
}

static void test_scrub(void) {
    char out[128];
    llm_scrub(SECRET, "key=" SECRET " again " SECRET, out, sizeof out);
    CHECK_STR(out, "key=*** again ***");
    llm_scrub(NULL, "plain", out, sizeof out);
    CHECK_STR(out, "plain");
}

static void test_bad_url(void) {
    char err[128] = "";
    struct llm_opts o = {.url = "ftp://x", .max_concurrency = 1};
    CHECK(llm_open(&o, err, sizeof err) == NULL);
    CHECK(strstr(err, "http") != NULL);
}

static void test_refused_retries(void) {
    llm_client *c = open_client("http://127.0.0.1:1/v1/chat/completions", 1, 2, 2000, NULL);
    const struct llm_result *r = run_one(c, "{\"model\":\"m\"}");
    CHECK(r->done && !r->ok);
    CHECK_STR(r->code, "ENET");
    CHECK_EQ_INT(r->attempts, 3);
    CHECK(strstr(r->error, SECRET) == NULL);
    llm_close(c);
}

static void test_concurrency_limit(void) {
    llm_client *c = open_client(mock_url, 2, 0, 5000, NULL);
    long ids[6];
    char body[64];
    for (int i = 0; i < 6; i++) {
        snprintf(body, sizeof body, "{\"conc\":%d}", i);
        ids[i] = llm_submit(c, body, strlen(body), 0);
    }
    int done = 0;
    for (int k = 0; k < 100 && done < 6; k++) done += llm_poll(c, 100);
    struct llm_stats st;
    llm_get_stats(c, &st);
    CHECK_EQ_INT(done, 6);
    CHECK_EQ_INT(st.max_running, 2);
    for (int i = 0; i < 6; i++) CHECK(llm_get(c, ids[i])->ok && llm_get(c, ids[i])->status == 200);
    CHECK(llm_get(c, ids[5])->latency_ms >= 250); /* third wave of a 100 ms server */
    llm_close(c);
}

static void test_retry_after(void) {
    llm_client *c = open_client(mock_url, 1, 2, 5000, NULL);
    const struct llm_result *r = run_one(c, "{\"t\":\"retry MOCK_FAULTS=429,500\"}");
    CHECK(r->ok);
    CHECK_EQ_INT(r->attempts, 3);
    CHECK(r->latency_ms >= 1000); /* the mock's Retry-After: 1 */
    llm_close(c);
}

static void test_http_error_no_retry_left(void) {
    llm_client *c = open_client(mock_url, 1, 0, 5000, NULL);
    const struct llm_result *r = run_one(c, "{\"t\":\"fail MOCK_FAULTS=500\"}");
    CHECK(!r->ok);
    CHECK_STR(r->code, "EHTTP");
    CHECK(strstr(r->error, "HTTP 500") != NULL);
    CHECK_EQ_INT(r->attempts, 1);
    llm_close(c);
}

static void test_cache(void) {
    char dir[400];
    snprintf(dir, sizeof dir, "%s/cache", tmp_dir);
    llm_client *c = open_client(mock_url, 1, 0, 5000, dir);
    const char *body = "{\"t\":\"cache me\"}";
    const struct llm_result *r = run_one(c, body);
    CHECK(r->ok && !r->cached);
    long first = c ? llm_submit(c, body, strlen(body), 1) : 0; /* not cached yet: put not called */
    CHECK(!llm_get(c, first)->cached);
    llm_release(c, first);
    long id = llm_submit(c, "{\"t\":\"cache me too\"}", 20, 1);
    while (!llm_get(c, id)->done) llm_poll(c, 100);
    CHECK_EQ_INT(llm_cache_put(c, id), 0);
    long again = llm_submit(c, "{\"t\":\"cache me too\"}", 20, 1);
    const struct llm_result *h = llm_get(c, again);
    CHECK(h->done && h->ok && h->cached);
    CHECK_EQ_INT(h->attempts, 0);
    CHECK(h->body_len == llm_get(c, id)->body_len && memcmp(h->body, llm_get(c, id)->body, h->body_len) == 0);
    llm_close(c);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "grep -rq '%s' %s", SECRET, dir);
    CHECK(system(cmd) != 0); /* the key is in no cache file */
}

static void test_cancel_and_timeout(void) {
    llm_client *c = open_client(mock_url, 2, 1, 40, NULL);
    long a = llm_submit(c, "{\"t\":\"cancel\"}", 14, 0);
    llm_poll(c, 0);
    llm_cancel(c, a);
    CHECK_STR(llm_get(c, a)->code, "ECANCELED");
    const struct llm_result *r = run_one(c, "{\"t\":\"slow\"}");
    CHECK_STR(r->code, "ETIMEDOUT");
    CHECK_EQ_INT(r->attempts, 2);
    llm_close(c);
}

int main(void) {
    RUN(test_scrub);
    RUN(test_bad_url);
    RUN(test_refused_retries);
    if (start_mock() != 0) {
        fprintf(stderr, "test_llm: could not start mock_llm beside the build\n");
        test_failed++;
        return test_report();
    }
    RUN(test_concurrency_limit);
    RUN(test_retry_after);
    RUN(test_http_error_no_retry_left);
    RUN(test_cache);
    RUN(test_cancel_and_timeout);
    kill(mock_pid, SIGTERM);
    waitpid(mock_pid, NULL, 0);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_dir);
    if (system(cmd) != 0) fprintf(stderr, "test_llm: could not remove %s\n", tmp_dir);
    return test_report();
}

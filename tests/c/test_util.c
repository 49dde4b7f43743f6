/* Tests of src/util.c: hashing, atomic writes, directories. */
#include "test.h"
#include "util.h"
#include <stdlib.h>
#include <unistd.h>

static void test_fnv(void) {
    char hex[17];
    util_hex64(util_fnv1a(UTIL_FNV_INIT, "a", 1), hex);
    CHECK_STR(hex, "af63dc4c8601ec8c");
    util_hex64(util_fnv1a(UTIL_FNV_INIT, "", 0), hex);
    CHECK_STR(hex, "cbf29ce484222325");
}

static void test_atomic_roundtrip(void) {
    char dir[] = "/tmp/htune-util-XXXXXX", path[256], err[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    CHECK_EQ_INT(util_mkdirs(path), 0);
    snprintf(path, sizeof path, "%s/a/b/c/file", dir);
    CHECK_EQ_INT(util_write_atomic(path, "hello", 5, err, sizeof err), 0);
    size_t n = 0;
    char *got = util_read_file(path, &n, err, sizeof err);
    CHECK(got != NULL);
    CHECK_EQ_INT(n, 5);
    CHECK_STR(got, "hello");
    free(got);
    CHECK(util_read_file("/nonexistent/x", &n, err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent/x") != NULL);
}

static void test_ncpus(void) { CHECK(util_ncpus() >= 1); }

int main(void) {
    RUN(test_fnv);
    RUN(test_atomic_roundtrip);
    RUN(test_ncpus);
    return test_report();
}

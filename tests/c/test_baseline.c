/* Tests for src/baseline.c without a GPU: a missing or wrong library yields NULL and an
 * "n/a: ..." reason naming what was tried; status codes have names. */
#include "test.h"
#include "baseline.h"
#include <stdlib.h>

static void test_missing_library_is_na(void) {
    char err[256] = "";
    setenv("HTUNE_CUBLAS", "/nonexistent/libcublas.so.13", 1);
    struct baseline *b = baseline_open(err, sizeof err);
    CHECK(b == NULL);
    CHECK(strncmp(err, "n/a: cuBLAS not found", 21) == 0);
    CHECK(strstr(err, "/nonexistent/libcublas.so.13") != NULL);
    unsetenv("HTUNE_CUBLAS");
}

static void test_library_without_cublas_symbols_is_na(void) {
    char err[256] = "";
    setenv("HTUNE_CUBLAS", "libm.so.6", 1);
    struct baseline *b = baseline_open(err, sizeof err);
    CHECK(b == NULL);
    CHECK(strstr(err, "n/a: cuBLAS library lacks") == err);
    unsetenv("HTUNE_CUBLAS");
}

static void test_status_names(void) {
    CHECK_STR(baseline_status_name(0), "CUBLAS_STATUS_SUCCESS");
    CHECK_STR(baseline_status_name(13), "CUBLAS_STATUS_EXECUTION_FAILED");
    CHECK_STR(baseline_status_name(999), "CUBLAS_STATUS_UNKNOWN");
    baseline_close(NULL);
}

int main(void) {
    RUN(test_missing_library_is_na);
    RUN(test_library_without_cublas_symbols_is_na);
    RUN(test_status_names);
    return test_report();
}

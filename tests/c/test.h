/* A tiny C test helper: TEST functions of CHECKs, RUN them, report "N passed, N failed".
 *   static void test_x(void) { CHECK(1 + 1 == 2); CHECK_EQ_INT(f(), 3); }
 *   int main(void) { RUN(test_x); return test_report(); }                          */
#ifndef HTUNE_TEST_H
#define HTUNE_TEST_H
#include <stdio.h>
#include <string.h>

static int test_passed, test_failed, test_checks_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            test_checks_failed++;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                   \
    do {                                                                                     \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                      \
        if (check_a_ != check_b_) {                                                          \
            test_checks_failed++;                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", __FILE__,      \
                    __LINE__, #a, #b, check_a_, check_b_);                                   \
        }                                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                                        \
    do {                                                                                       \
        const char *check_a_ = (a), *check_b_ = (b);                                           \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                       \
            test_checks_failed++;                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n", __FILE__,    \
                    __LINE__, #a, #b, check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)"); \
        }                                                                                      \
    } while (0)

#define RUN(fn)                                                        \
    do {                                                               \
        int before_ = test_checks_failed;                              \
        fn();                                                          \
        if (test_checks_failed == before_) test_passed++;              \
        else { test_failed++; fprintf(stderr, "FAIL %s\n", #fn); }     \
    } while (0)

static inline int test_report(void) {
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return test_failed != 0;
}
#endif

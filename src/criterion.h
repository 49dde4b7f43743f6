/* When to stop timing a kernel: the relative standard error of the median reaches a
 * target, or a repetition / time cap is hit, or (early cutoff) the samples show the
 * kernel cannot come within a margin of the best so far. A pure object fed with samples,
 * tested on synthetic series (tests/c/test_criterion.c), like nvbench's stdrel criterion. */
#ifndef HTUNE_CRITERION_H
#define HTUNE_CRITERION_H
#include "stats.h"

enum criterion_verdict {
    CRIT_CONTINUE = 0,
    CRIT_CONVERGED,   /* rse of the median <= target after min_reps */
    CRIT_MAX_REPS,    /* sample buffer full */
    CRIT_TIME_CAP,    /* measured time >= time cap: the result is kept, timed_out = 1 */
    CRIT_CUTOFF,      /* cannot beat best_us * (1 + cutoff_margin) */
};

struct criterion_opts {
    double target_rse;     /* default 0.01 */
    int min_reps;          /* default 10 */
    int max_reps;          /* capacity of the sample buffers */
    double time_cap_us;    /* summed sample time; default 200000 */
    double best_us;        /* 0: no cutoff */
    double cutoff_margin;  /* default 0.10 */
    int cutoff_min_reps;   /* default 3 */
};

struct criterion {
    struct criterion_opts o;
    double *samples, *scratch;   /* caller's buffers of o.max_reps doubles */
    int n, last_check;
    double total_us;
    struct stats_summary last;   /* valid after a check */
};

/* Fills defaults for zero fields of opts and binds the caller's buffers (max_reps each). */
void criterion_init(struct criterion *c, const struct criterion_opts *opts, double *samples, double *scratch);

/* Adds one sample (us) and says whether to go on. Checks convergence on a geometric
 * schedule (every max(4, n/8) samples) so the cost stays O(n log n) in total. */
enum criterion_verdict criterion_add(struct criterion *c, double sample_us);

/* Name of a verdict: "continue", "converged", "max_reps", "time_cap", "cutoff". */
const char *criterion_verdict_name(enum criterion_verdict v);
#endif

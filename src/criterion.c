/* The stopping criterion (see criterion.h). */
#include "criterion.h"
#include <math.h>
#include <string.h>

void criterion_init(struct criterion *c, const struct criterion_opts *opts, double *samples, double *scratch) {
    memset(c, 0, sizeof *c);
    c->o = *opts;
    if (c->o.target_rse <= 0) c->o.target_rse = 0.01;
    if (c->o.min_reps <= 0) c->o.min_reps = 10;
    if (c->o.max_reps <= 0) c->o.max_reps = 1;
    if (c->o.min_reps > c->o.max_reps) c->o.min_reps = c->o.max_reps;
    if (c->o.time_cap_us <= 0) c->o.time_cap_us = 200000;
    if (c->o.cutoff_margin <= 0) c->o.cutoff_margin = 0.10;
    if (c->o.cutoff_min_reps <= 0) c->o.cutoff_min_reps = 3;
    c->samples = samples;
    c->scratch = scratch;
}

/* A loser when even its fastest sample, or its median less three standard errors, is
 * slower than best * (1 + margin). */
static int is_cut(const struct criterion *c, double min_us) {
    double limit = c->o.best_us * (1.0 + c->o.cutoff_margin);
    if (min_us > limit) return 1;
    const struct stats_summary *s = &c->last;
    return s->n >= c->o.cutoff_min_reps && s->median_us * (1.0 - 3.0 * s->rse_median) > limit;
}

enum criterion_verdict criterion_add(struct criterion *c, double sample_us) {
    if (c->n < c->o.max_reps) c->samples[c->n++] = sample_us;
    c->total_us += sample_us;
    int step = c->last_check / 8 > 4 ? c->last_check / 8 : 4;
    int full = c->n >= c->o.max_reps, capped = c->total_us >= c->o.time_cap_us;
    /* while the series is short, a cutoff is checked on every sample: most configs lose */
    int cut_due = c->o.best_us > 0 && c->n >= c->o.cutoff_min_reps;
    if (full || capped || (cut_due && c->n < 16) || c->n - c->last_check >= step) {
        stats_summarize(c->samples, c->n, c->scratch, &c->last);
        c->last_check = c->n;
        if (cut_due && is_cut(c, c->last.min_us)) return CRIT_CUTOFF;
        if (c->n >= c->o.min_reps && c->last.rse_median <= c->o.target_rse) return CRIT_CONVERGED;
    }
    if (full) return CRIT_MAX_REPS;
    if (capped) return CRIT_TIME_CAP;
    return CRIT_CONTINUE;
}

const char *criterion_verdict_name(enum criterion_verdict v) {
    static const char *names[] = { "continue", "converged", "max_reps", "time_cap", "cutoff" };
    return (unsigned)v < 5 ? names[v] : "?";
}

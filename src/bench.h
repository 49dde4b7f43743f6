/* The hot benchmark loop: check-free timing of one launch callback with CUDA events, in
 * named phases as nvbench does it: warm-up -> (optional L2 flush, record, K launches,
 * record) x rounds until the stopping criterion -> outlier trim -> summary. No Lua, and no
 * allocation inside bench_run: events, sample buffers and the flush buffer come from
 * bench_new. Anything launchable is timed the same way, which is how vendor baselines
 * (src/baseline.c) are compared with generated kernels. */
#ifndef HTUNE_BENCH_H
#define HTUNE_BENCH_H
#include "cudaapi.h"
#include "criterion.h"
#include <stdint.h>

struct nvml;

/* One launch of the thing measured, enqueued on stream s; returns a CUresult (0 = ok).
 * It must not synchronize. */
typedef int (*bench_launch_fn)(void *ctx, CUstream s);

struct bench_opts {
    double target_rse;      /* stop when the rse of the median <= this; default 0.01 */
    int min_reps;           /* default 10 */
    int max_reps;           /* default and ceiling: the capacity given to bench_new */
    double time_cap_ms;     /* measured GPU time cap; default 200 */
    double warmup_ms;       /* default 1 (at least one launch after the first) */
    int l2_flush;           /* memset a buffer larger than L2 before each sample */
    int batch;              /* launches per sample; 0 = auto (K for kernels under batch_below_us) */
    double batch_below_us;  /* default 100: shorter kernels are timed K at a time, K*est >= 2x this */
    double best_us;         /* current best for early cutoff; 0 = none */
    double cutoff_margin;   /* default 0.10 */
    double trim_k;          /* drop samples above median + k*MAD; default 5, < 0 disables */
    int clock_off;          /* 1: no SM clock readings (Lua clock_check=false) */
    double clock_min_frac;  /* a round read below this x the highest SM clock seen is throttled; default 0.90 */
    double clock_max_discard; /* share of samples that may be discarded (past 2 rounds); default 0.5 */
    double clock_every_ms;  /* least time between timed clock reads; default 50, < 0: every round */
    int gate_off;           /* 1: no gate (Lua gate=false): the GPU starts a round as it is enqueued */
};

struct bench_result {
    double median_us, min_us, mean_us, stddev_us, noise_pct;
    double first_us;        /* the first timed launch (cold) */
    int reps;               /* samples kept */
    int discarded;          /* slow outliers trimmed */
    int batch;              /* launches per sample */
    int timed_out;          /* stopped by the time cap or max_reps before converging */
    int cutoff;             /* stopped early: cannot come within the margin of best_us */
    int converged;
    double wall_ms;         /* wall time of bench_run */
    /* SM clock check (bench_set_clock): read while the warm-up and each round run on the GPU. */
    int clock_checked;      /* readings were taken */
    int clock_discards;     /* samples discarded: their round read a throttled clock */
    int clock_throttled;    /* too many throttled rounds to discard: some kept samples are throttled */
    int clock_reads;        /* NVML readings taken */
    double clock_min_mhz, clock_max_mhz;   /* SM clock read around the timed rounds */
    double clock_ref_mhz;   /* highest SM clock seen since warm-up: threshold = clock_min_frac x this */
    double clock_rated_mhz; /* NVML's maximum SM clock of the device; 0 unknown */
    double clock_read_us;   /* host time spent in the readings (the check's cost) */
    uint64_t clock_reasons; /* OR of the non-benign clock event reasons seen (NVML_REASON_*) */
    char clock_note[240];   /* why there was no check, or what was discarded or kept; "" when steady */
    int gated;              /* rounds (and warm-up steps) run behind the gate: all enqueued first */
    int gate_timeouts;      /* of them, rounds whose gate opened on its timeout, not on the host */
};

struct bench;

/* Creates the instrument on stream s (the caller's context is current): 2*32 events,
 * sample buffers for `capacity` samples, and, when flush_bytes > 0, the flush buffer.
 * Returns NULL with err filled. */
struct bench *bench_new(const struct cuda_api *api, CUstream s, int capacity, size_t flush_bytes,
                        char *err, size_t errlen);
void bench_free(struct bench *b);

/* Binds the SM clock source used by bench_run (not owned: the caller closes it after
 * bench_free). n == NULL disables the check; why_not (copied) is reported in clock_note. */
void bench_set_clock(struct bench *b, struct nvml *n, const char *why_not);

/* Times launch(ctx, stream) per opts into *out. Returns 0, or the first CUresult error
 * (a faulting kernel surfaces here). Allocates nothing. */
int bench_run(struct bench *b, bench_launch_fn launch, void *ctx, const struct bench_opts *opts,
              struct bench_result *out);

/* Raw reference: two events around n back-to-back launches; *per_launch_us = elapsed / n.
 * Used by scripts/bench-eval to measure the loop's own overhead. */
int bench_raw(struct bench *b, bench_launch_fn launch, void *ctx, int n, double *per_launch_us);
#endif

// GPU helper kernels of the worker: seeded random / constant fill and the output comparison.
// Compiled to PTX by scripts/gen-devkernels into src/devkernels_ptx.h (checked in, so the
// build needs no nvcc); formulas live in devcommon.h, shared with the CPU fake.
#include "devcommon.h"

extern "C" __global__ void htune_fill(void *p, unsigned long long n, int dtype, int mode,
                                      unsigned long long seed, float value) {
    for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; i < n;
         i += (unsigned long long)gridDim.x * blockDim.x)
        dev_store(p, i, dtype, dev_fill_value(i, dtype, mode, seed, value));
}

extern "C" __global__ void htune_compare(const void *out, const void *ref, unsigned long long n,
                                         int dtype, float atol, float rtol, dev_compare *res) {
    float max_abs = 0.0f, max_rel = 0.0f;
    unsigned long long bad_count = 0, first = ~0ULL;
    for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; i < n;
         i += (unsigned long long)gridDim.x * blockDim.x) {
        int bad;
        float rel, err = dev_elem_error(dev_load(out, i, dtype), dev_load(ref, i, dtype), atol, rtol, &bad, &rel);
        max_abs = fmaxf(max_abs, err);
        max_rel = fmaxf(max_rel, rel);
        if (bad) { bad_count++; if (i < first) first = i; }
    }
    if (max_abs > 0.0f) atomicMax(&res->max_abs_bits, dev_float_bits(max_abs));
    if (max_rel > 0.0f) atomicMax(&res->max_rel_bits, dev_float_bits(max_rel));
    if (bad_count) { atomicAdd(&res->mismatches, bad_count); atomicMin(&res->first_bad, first); }
}

/* Formulas shared by the GPU helper kernels (devkernels.cu, compiled to PTX) and the CPU
 * fake driver (cudafake.c): counter-based random fill, dtype loads/stores, and the
 * element comparison, so the fake fills and compares exactly as the GPU does. */
#ifndef HTUNE_DEVCOMMON_H
#define HTUNE_DEVCOMMON_H
#ifdef __CUDACC__
#define DEV_FN __host__ __device__ static inline
typedef unsigned long long dev_u64;
typedef unsigned int dev_u32;
#else
#include <math.h>
#include <stdint.h>
#include <string.h>
#define DEV_FN static inline
typedef uint64_t dev_u64;
typedef uint32_t dev_u32;
#endif

enum { DEV_F32 = 0, DEV_F16 = 1, DEV_BF16 = 2, DEV_I32 = 3 };
enum { DEV_FILL_RANDOM = 0, DEV_FILL_CONST = 1 };

/* What the compare kernel writes (one per comparison, zeroed then filled atomically). */
struct dev_compare {
    dev_u32 max_abs_bits;   /* float bits of max |out - ref| (non-negative: orders as uint) */
    dev_u32 max_rel_bits;   /* float bits of max |out - ref| / |ref| */
    dev_u64 mismatches;
    dev_u64 first_bad;      /* smallest bad index; ~0 when none */
};

DEV_FN int dev_dtype_size(int dtype) { return dtype == DEV_F16 || dtype == DEV_BF16 ? 2 : 4; }

DEV_FN dev_u64 dev_splitmix(dev_u64 x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

DEV_FN float dev_bits_float(dev_u32 b) { float f; memcpy(&f, &b, 4); return f; }
DEV_FN dev_u32 dev_float_bits(float f) { dev_u32 b; memcpy(&b, &f, 4); return b; }

DEV_FN float dev_half_to_float(unsigned short h) {
    dev_u32 sign = (dev_u32)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return dev_bits_float(sign | 0x7f800000u | (man << 13));
    if (exp == 0) { float f = (float)man * (1.0f / 16777216.0f); return sign ? -f : f; }
    return dev_bits_float(sign | ((exp + 112) << 23) | (man << 13));
}

DEV_FN unsigned short dev_float_to_half(float f) {
    dev_u32 b = dev_float_bits(f), sign = (b >> 16) & 0x8000;
    dev_u32 abs = b & 0x7fffffffu;
    if (abs >= 0x7f800000u) return (unsigned short)(sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 : 0));
    if (abs >= 0x477ff000u) return (unsigned short)(sign | 0x7c00);       /* overflow to inf */
    if (abs < 0x38800000u) {                                               /* subnormal half */
        float a = dev_bits_float(abs) * 16777216.0f;
        dev_u32 m = (dev_u32)(a + 0.5f);
        if ((float)m - a == 0.5f && (m & 1)) m--;                          /* ties to even */
        return (unsigned short)(sign | m);
    }
    dev_u32 r = abs - 0x38000000u, lsb = (r >> 13) & 1;
    r += 0xfff + lsb;
    return (unsigned short)(sign | (r >> 13));
}

DEV_FN float dev_load(const void *p, dev_u64 i, int dtype) {
    switch (dtype) {
    case DEV_F16: return dev_half_to_float(((const unsigned short *)p)[i]);
    case DEV_BF16: return dev_bits_float((dev_u32)((const unsigned short *)p)[i] << 16);
    case DEV_I32: return (float)((const int *)p)[i];
    default: return ((const float *)p)[i];
    }
}

DEV_FN void dev_store(void *p, dev_u64 i, int dtype, float v) {
    switch (dtype) {
    case DEV_F16: ((unsigned short *)p)[i] = dev_float_to_half(v); break;
    case DEV_BF16: { dev_u32 b = dev_float_bits(v); b += 0x7fff + ((b >> 16) & 1);
                     ((unsigned short *)p)[i] = (unsigned short)(b >> 16); break; }
    case DEV_I32: ((int *)p)[i] = (int)v; break;
    default: ((float *)p)[i] = v;
    }
}

/* Element i of a fill: uniform in [-1, 1) for floats, integers in [-128, 128) for int32. */
DEV_FN float dev_fill_value(dev_u64 i, int dtype, int mode, dev_u64 seed, float value) {
    if (mode == DEV_FILL_CONST) return value;
    dev_u64 x = dev_splitmix(seed * 0x100000001b3ULL ^ dev_splitmix(i));
    if (dtype == DEV_I32) return (float)((int)(x >> 56) - 128);
    return (float)(x >> 40) * (1.0f / 8388608.0f) - 1.0f;
}

/* Error of one element; *bad set when |o - r| > atol + rtol*|r| or exactly one is NaN. */
DEV_FN float dev_elem_error(float o, float r, float atol, float rtol, int *bad, float *rel) {
    int on = o != o, rn = r != r;
    if (on || rn) { *bad = on != rn; *rel = *bad ? INFINITY : 0.0f; return *bad ? INFINITY : 0.0f; }
    float err = fabsf(o - r);
    if (err != err) err = INFINITY;
    *bad = !(err <= atol + rtol * fabsf(r));
    float ar = fabsf(r);
    *rel = ar > 0.0f ? err / ar : (err > 0.0f ? INFINITY : 0.0f);
    return err;
}
#endif

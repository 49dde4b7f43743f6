// softmax: Y[r, :] = softmax(X[r, :]) over the last dimension, fp16 in/out, fp32 math.
// One tunable template (rows per block, threads per row, vector width, register-resident /
// online / two-pass algorithm, load/store cache hints) and a one-thread-per-row reference.
// No headers: spec.lua's source_files puts kernels/common/fp16.cuh (h16, h2f, f2h) before
// this file in one source text.

// Reference: one thread per row, three plain loops in fp32.
#ifndef HTUNE_NO_REFERENCE   // defined for a config's program (spec.lua): NVRTC skips this kernel there
extern "C" __global__ void softmax_reference(const h16* X, h16* Y, int rows, int cols) {
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const h16* x = X + (long)r * cols;
  float m = -3.0e38f, s = 0.f;
  for (int c = 0; c < cols; ++c) m = fmaxf(m, h2f(x[c]));
  for (int c = 0; c < cols; ++c) s += expf(h2f(x[c]) - m);
  for (int c = 0; c < cols; ++c) Y[(long)r * cols + c] = f2h(expf(h2f(x[c]) - m) / s);
}
#endif

// HINT: 0 plain, 1 ld.global.nc (read-only path), 2 .cs streaming (evict first) loads and
// stores, 3 L1::no_allocate loads.
template <int VEC, int HINT>
__device__ __forceinline__ void load_vec(const h16* p, float (&v)[VEC]) {
  unsigned u[4] = {0, 0, 0, 0};
  if constexpr (VEC == 8) {
    if constexpr (HINT == 0) asm volatile("ld.global.v4.u32 {%0,%1,%2,%3}, [%4];" : "=r"(u[0]), "=r"(u[1]), "=r"(u[2]), "=r"(u[3]) : "l"(p));
    if constexpr (HINT == 1) asm volatile("ld.global.nc.v4.u32 {%0,%1,%2,%3}, [%4];" : "=r"(u[0]), "=r"(u[1]), "=r"(u[2]), "=r"(u[3]) : "l"(p));
    if constexpr (HINT == 2) asm volatile("ld.global.cs.v4.u32 {%0,%1,%2,%3}, [%4];" : "=r"(u[0]), "=r"(u[1]), "=r"(u[2]), "=r"(u[3]) : "l"(p));
    if constexpr (HINT == 3) asm volatile("ld.global.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];" : "=r"(u[0]), "=r"(u[1]), "=r"(u[2]), "=r"(u[3]) : "l"(p));
  } else if constexpr (VEC == 4) {
    if constexpr (HINT == 0) asm volatile("ld.global.v2.u32 {%0,%1}, [%2];" : "=r"(u[0]), "=r"(u[1]) : "l"(p));
    if constexpr (HINT == 1) asm volatile("ld.global.nc.v2.u32 {%0,%1}, [%2];" : "=r"(u[0]), "=r"(u[1]) : "l"(p));
    if constexpr (HINT == 2) asm volatile("ld.global.cs.v2.u32 {%0,%1}, [%2];" : "=r"(u[0]), "=r"(u[1]) : "l"(p));
    if constexpr (HINT == 3) asm volatile("ld.global.L1::no_allocate.v2.u32 {%0,%1}, [%2];" : "=r"(u[0]), "=r"(u[1]) : "l"(p));
  } else if constexpr (VEC == 2) {
    u[0] = *reinterpret_cast<const unsigned*>(p);
  } else {
    u[0] = *p;
  }
  if constexpr (VEC == 1) {
    v[0] = h2f((h16)u[0]);
  } else {
#pragma unroll
    for (int e = 0; e < VEC; ++e) v[e] = h2f((h16)(u[e / 2] >> ((e % 2) * 16)));
  }
}

template <int VEC, int HINT>
__device__ __forceinline__ void store_vec(h16* p, const float (&v)[VEC]) {
  if constexpr (VEC == 1) {
    *p = f2h(v[0]);
  } else {
    unsigned u[4];
#pragma unroll
    for (int e = 0; e < VEC / 2; ++e) u[e] = (unsigned)f2h(v[2 * e]) | ((unsigned)f2h(v[2 * e + 1]) << 16);
    if constexpr (VEC == 8 && HINT == 2) asm volatile("st.global.cs.v4.u32 [%0], {%1,%2,%3,%4};" :: "l"(p), "r"(u[0]), "r"(u[1]), "r"(u[2]), "r"(u[3]) : "memory");
    else if constexpr (VEC == 8) asm volatile("st.global.v4.u32 [%0], {%1,%2,%3,%4};" :: "l"(p), "r"(u[0]), "r"(u[1]), "r"(u[2]), "r"(u[3]) : "memory");
    else if constexpr (VEC == 4) asm volatile("st.global.v2.u32 [%0], {%1,%2};" :: "l"(p), "r"(u[0]), "r"(u[1]) : "memory");
    else *reinterpret_cast<unsigned*>(p) = u[0];
  }
}

// Row-wide reductions over the TPR threads of a row: shuffles inside a warp, then (TPR > 32)
// one shared-memory slot per warp. Every thread of the block must call them. OP 0: max, 1: sum.
template <int OP>
__device__ __forceinline__ float combine(float a, float b) { return OP == 0 ? fmaxf(a, b) : a + b; }
template <int TPR, int RPB, int OP>
__device__ __forceinline__ float row_reduce(float x, float* red) {
#pragma unroll
  for (int o = (TPR < 32 ? TPR : 32) / 2; o > 0; o /= 2) x = combine<OP>(x, __shfl_xor_sync(0xffffffffu, x, o));
  if constexpr (TPR > 32) {
    constexpr int W = TPR / 32;
    int row = threadIdx.x / TPR, w = (threadIdx.x % TPR) / 32;
    if (threadIdx.x % 32 == 0) red[row * W + w] = x;
    __syncthreads();
    x = red[row * W];
#pragma unroll
    for (int i = 1; i < W; ++i) x = combine<OP>(x, red[row * W + i]);
    __syncthreads();
  }
  return x;
}
template <int TPR, int RPB>
__device__ __forceinline__ float row_max(float x, float* red) { return row_reduce<TPR, RPB, 0>(x, red); }
template <int TPR, int RPB>
__device__ __forceinline__ float row_sum(float x, float* red) { return row_reduce<TPR, RPB, 1>(x, red); }

// Merge two (max, sum-of-exp) pairs of the online algorithm.
__device__ __forceinline__ void online_merge(float& m, float& s, float m2, float s2) {
  float mm = fmaxf(m, m2);
  s = s * __expf(m - mm) + s2 * __expf(m2 - mm);
  m = mm;
}

// RPB rows per block of TPR threads each; a thread handles chunks of VEC consecutive columns,
// chunk i of a row at column (i * TPR + lane) * VEC. MODE 0: the row stays in registers
// (ITEMS chunks per thread, one read of X); 1: online max/sum in one read, a second read to
// write; 2: two-pass (a max pass, then a sum pass, then a write pass: three reads).
template <int TPR, int RPB, int VEC, int ITEMS, int MODE, int HINT>
__global__ void __launch_bounds__(TPR * RPB)
softmax_kernel(const h16* __restrict__ X, h16* __restrict__ Y, int rows, int cols) {
  __shared__ float red[TPR > 32 ? RPB * (TPR / 32) * 2 : 1];
  const int lane = threadIdx.x % TPR;
  const int row = blockIdx.x * RPB + threadIdx.x / TPR;
  const bool live = row < rows;
  const h16* x = X + (long)(live ? row : 0) * cols;
  h16* y = Y + (long)(live ? row : 0) * cols;
  const float NEG = -3.0e38f;

  if constexpr (MODE == 0) {
    float v[ITEMS][VEC];
    float m = NEG;
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) {
      int c = (i * TPR + lane) * VEC;
      if (live && c < cols) load_vec<VEC, HINT>(x + c, v[i]);
      else
#pragma unroll
        for (int e = 0; e < VEC; ++e) v[i][e] = NEG;
#pragma unroll
      for (int e = 0; e < VEC; ++e) m = fmaxf(m, v[i][e]);
    }
    m = row_max<TPR, RPB>(m, red);
    float s = 0.f;
#pragma unroll
    for (int i = 0; i < ITEMS; ++i)
#pragma unroll
      for (int e = 0; e < VEC; ++e) { v[i][e] = __expf(v[i][e] - m); s += v[i][e]; }
    s = row_sum<TPR, RPB>(s, red + (TPR > 32 ? RPB * (TPR / 32) : 0));
    float inv = 1.f / s;
#pragma unroll
    for (int i = 0; i < ITEMS; ++i) {
      int c = (i * TPR + lane) * VEC;
#pragma unroll
      for (int e = 0; e < VEC; ++e) v[i][e] *= inv;
      if (live && c < cols) store_vec<VEC, HINT>(y + c, v[i]);
    }
  } else {
    float m = NEG, s = 0.f;
    if constexpr (MODE == 1) {
      for (int c = lane * VEC; live && c < cols; c += TPR * VEC) {
        float v[VEC];
        load_vec<VEC, HINT>(x + c, v);
        float cm = v[0];
#pragma unroll
        for (int e = 1; e < VEC; ++e) cm = fmaxf(cm, v[e]);
        float cs = 0.f;
#pragma unroll
        for (int e = 0; e < VEC; ++e) cs += __expf(v[e] - cm);
        online_merge(m, s, cm, cs);
      }
      float gm = row_max<TPR, RPB>(m, red);
      s = row_sum<TPR, RPB>(s * __expf(m - gm), red + (TPR > 32 ? RPB * (TPR / 32) : 0));
      m = gm;
    } else {
      for (int c = lane * VEC; live && c < cols; c += TPR * VEC) {
        float v[VEC];
        load_vec<VEC, HINT>(x + c, v);
#pragma unroll
        for (int e = 0; e < VEC; ++e) m = fmaxf(m, v[e]);
      }
      m = row_max<TPR, RPB>(m, red);
      for (int c = lane * VEC; live && c < cols; c += TPR * VEC) {
        float v[VEC];
        load_vec<VEC, HINT>(x + c, v);
#pragma unroll
        for (int e = 0; e < VEC; ++e) s += __expf(v[e] - m);
      }
      s = row_sum<TPR, RPB>(s, red + (TPR > 32 ? RPB * (TPR / 32) : 0));
    }
    float inv = 1.f / s;
    for (int c = lane * VEC; live && c < cols; c += TPR * VEC) {
      float v[VEC];
      load_vec<VEC, HINT>(x + c, v);
#pragma unroll
      for (int e = 0; e < VEC; ++e) v[e] = __expf(v[e] - m) * inv;
      store_vec<VEC, HINT>(y + c, v);
    }
  }
}

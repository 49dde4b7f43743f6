// fp16 helpers the kernel templates share: h16 (fp16 bits), h2f / f2h (conversions through cvt
// in PTX), smem_u32 (a generic pointer as a 32-bit shared-memory address) and store8_h16 (the
// staged epilogues' 16-byte row chunk). For NVRTC a spec
// lists it first in `source_files` and htune.problem joins it before the kernel's own file (one
// text: its hash, the compile cache key and prompts cover it); the nvcc harnesses (kbench,
// wgbench) put it by path before each kernel file, once per namespace (hence no include guard).

typedef unsigned short h16;   // fp16 bits; conversions go through cvt in PTX

__device__ __forceinline__ float h2f(h16 h) {
  float f;
  asm("{ .reg .f16 t; mov.b16 t, %1; cvt.f32.f16 %0, t; }" : "=f"(f) : "h"(h));
  return f;
}
__device__ __forceinline__ h16 f2h(float f) {
  h16 h;
  asm("{ .reg .f16 t; cvt.rn.f16.f32 t, %1; mov.b16 %0, t; }" : "=h"(h) : "f"(f));
  return h;
}
// Two floats as one word of two fp16 (lo in the low half), one cvt (sm_80+).
__device__ __forceinline__ unsigned f2h2(float lo, float hi) {
  unsigned u;
  asm("cvt.rn.f16x2.f32 %0, %2, %1;" : "=r"(u) : "f"(lo), "f"(hi));
  return u;
}
__device__ __forceinline__ unsigned smem_u32(const void* p) {
  return (unsigned)__cvta_generic_to_shared(p);
}

// Eight halves packed in v to g: one 16-byte store when whole (g 16-byte aligned, all eight in
// the row), else the first `left` of them one by one (a row's tail, or an unaligned row).
__device__ __forceinline__ void store8_h16(h16* g, const unsigned (&v)[4], bool whole, int left) {
  if (whole) {
    asm volatile("st.global.v4.b32 [%0], {%1, %2, %3, %4};" :: "l"(g), "r"(v[0]), "r"(v[1]), "r"(v[2]), "r"(v[3])
                 : "memory");
  } else {
#pragma unroll
    for (int e = 0; e < 8; ++e)
      if (e < left) g[e] = (h16)(v[e / 2] >> ((e % 2) * 16));
  }
}

// matmul: C = A·B, fp16 in, fp32 accumulate, fp16 out, row-major, any M, N, K.
// One tunable template (tensor cores through mma.sync m16n8k16 + ldmatrix, a cp.async
// multi-stage shared-memory pipeline, flat / 2-D / persistent tile schedules with L2 grouping).
// No headers: spec.lua's source_files puts
// kernels/common/fp16.cuh (h16, h2f, f2h, smem_u32) and matmul_reference.cuh (the
// reference kernel) and tile_coords.cuh (grouped tile order) before this file in one source text.

// MATMUL_EVEN=1 (set by spec.lua when M, N, K are multiples of the tile; htune's buffers are
// 256-byte aligned): no edge or misalignment code at all. The edge path is half of NVVM's and
// ptxas's work, so this cuts compile time ~3x on aligned shapes and frees registers.
#ifndef MATMUL_EVEN
#define MATMUL_EVEN 0
#endif

// MATMUL_FUSED_PROLOGUE=1 fills the pipeline's first STAGES-1 stages inside the main K loop
// instead of in an unrolled loop of its own, so load() is inlined once instead of STAGES times:
// NVRTC takes 139 instead of 212 ms a config (24 sampled 1024^3 configs x 2, sm_90a, 2-core dev
// machine) and ptxas picks other register counts (36 of 40 sampled configs differ, most lower).
// Off until its kernel speed is measured against the unrolled form on a GPU (the recorded
// tables and the results in docs/ are of the unrolled form).
#ifndef MATMUL_FUSED_PROLOGUE
#define MATMUL_FUSED_PROLOGUE 0
#endif

// MATMUL_EPI_SMEM=1 stages C in the (then idle) pipeline shared memory, pitch BN + 8 halves, and
// stores it as 16-byte row chunks, instead of 4-byte stores from the mma fragment layout; where
// the tile does not fit the pipeline's memory the direct form stays. spec.lua sets it (with
// MATMUL_XSTAGE) for products of 2^32 (4096x1024x1024) and more: on the H200 it took 2-5% off
// 4096^3 tiles (kernels/h200-logs call 36); at 1024^3 it moved the recorded table's best by 0.965x but its
// 10 fastest by a median 1.042x (call 37), and NVRTC takes 15% longer a config.
#ifndef MATMUL_EPI_SMEM
#define MATMUL_EPI_SMEM 0
#endif

// MATMUL_XSTAGE=1 (block_k a multiple of 32, two or more stages): the multistage main loop of
// CUTLASS's sm80 GEMMs. The wait and barrier for the next stage come before the current
// stage's last mma, the next stage's first fragments load under that mma, and the stage just
// read is refilled at once, so all STAGES stages are in use. On the H200 at 4096^3 it took
// 15-34% off five of six large tiles (kernels/h200-logs calls 36-37; the sixth, 128x128x64 with
// 4 warps, spills 172 bytes and ran 1.47x slower alone, 0.93x with MATMUL_EPI_SMEM). It keeps
// the next fragments live across the loop (more registers: 97 -> 116 for a 32x32 warp tile) and
// NVRTC takes 27% longer a config, so spec.lua sets it for products of 2^32 and more only (with
// MATMUL_EPI_SMEM it took 4-34% off four tiles at the seed's 4096x1024x1024, call 38).
#ifndef MATMUL_XSTAGE
#define MATMUL_XSTAGE 0
#endif

// MATMUL_ADDR=1 (dividing shapes, MATMUL_EVEN): every copy and ldmatrix address is a
// per-thread base set up once per tile plus a stage offset and a compile-time offset, and a
// stage holds its A and B tiles side by side. Without it ptxas (CUDA 13.0) recomputes the
// refill's addresses each k-tile: of the 4096^3 best's 206-instruction loop (128x256x32, 8
// warps, 4 stages, XSTAGE) about 117 were integer, against 64 HMMA; with it the loop has 135
// instructions. spec.lua sets it on dividing shapes: on the H200 a 30-s 4096^3 tune found
// 308.32 against 324.45 us without it, and NVRTC takes 1.02-1.23x less time a config
// (kernels/h200-logs calls 47-49). Tables recorded before it measured MATMUL_ADDR=0.
#ifndef MATMUL_ADDR
#define MATMUL_ADDR 0
#endif

// MATMUL_PROLOGUE_ROLLED=1 keeps the prologue's loop over its stages rolled on dividing shapes
// (MATMUL_EVEN), so load() is inlined twice (prologue, main loop) instead of STAGES times; the
// main loop is unchanged. It defaults to MATMUL_ADDR without MATMUL_XSTAGE: under the
// multistage loop at 4096^3 the 8-stage best ran 341.39 us rolled against 303.65 unrolled
// (control 1.004; 0.99-1.00 on two other tiles; call 51). Without MATMUL_ADDR it cost kernel time:
// the 10 fastest configs of the H200 1024^3 table ran a median 4.7% slower (call 37). With it,
// the same table's 10 fastest ran a median 0.963x the time and its best 12.91 -> 12.36 us (noise
// 1.000, p10-p90 0.997-1.005), and NVRTC compiled 85.7 / 86.9 / 90.7 against 76.0 / 79.5 / 80.2
// configs/s cold on 16 threads, alternated (kernels/h200-logs call 50). With edge code the
// rolled loop spilled (152 bytes, 32x256x16 one warp 7 stages at 257x129x77), so odd shapes
// keep it unrolled even when it is set.
#ifndef MATMUL_PROLOGUE_ROLLED
#define MATMUL_PROLOGUE_ROLLED (MATMUL_ADDR && !MATMUL_XSTAGE)
#endif
#if MATMUL_PROLOGUE_ROLLED && MATMUL_EVEN
#define PROLOGUE_UNROLL _Pragma("unroll 1")
#else
#define PROLOGUE_UNROLL _Pragma("unroll")
#endif

// EVICT: 0 no hint, 1 L2 evict_first, 2 L2 evict_last (the seed's load_eviction_policies).
template <int EVICT>
__device__ __forceinline__ void cp_async(unsigned dst, const void* src, unsigned long long pol) {
  if constexpr (EVICT == 0) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" :: "r"(dst), "l"(src));
  } else {
    asm volatile("cp.async.cg.shared.global.L2::cache_hint [%0], [%1], 16, %2;"
                 :: "r"(dst), "l"(src), "l"(pol));
  }
}
template <int BYTES>
__device__ __forceinline__ void cp_async_ca(unsigned dst, const void* src) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], %2;" :: "r"(dst), "l"(src), "n"(BYTES));
}
// The descriptor's fraction (1.0) comes from %tid.x through opaque PTX, so ptxas keeps the
// policy in per-thread registers: with the value in a uniform register pair, the even-tile path of
// the last recorded fault (1024^3, one warp, B hinted) still had the faulting LDGSTS form that
// B_LANE_XOR below removes elsewhere.
template <int EVICT>
__device__ __forceinline__ unsigned long long make_policy() {
  unsigned long long p = 0;
  if constexpr (EVICT != 0) {
    float frac;   // (tid >> 31) + 1.0 = 1.0 for every thread
    asm volatile("{ .reg .u32 t; mov.u32 t, %%tid.x; shr.u32 t, t, 31; cvt.rn.f32.u32 %0, t; add.f32 %0, %0, 0f3F800000; }"
                 : "=f"(frac));
    if constexpr (EVICT == 1) asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, %1;" : "=l"(p) : "f"(frac));
    if constexpr (EVICT == 2) asm volatile("createpolicy.fractional.L2::evict_last.b64 %0, %1;" : "=l"(p) : "f"(frac));
  }
  return p;
}

// The tile's shared base for hinted copies, made per-thread through opaque PTX (+ (tid >> 31),
// always 0): from a warp-uniform base, ptxas still chose the LDGSTS form with a uniform-register
// shared base for one copy of 32x16x16 one-warp configs with both operands hinted (3 faults in
// the H200 matmul samples of 2026-12-02, e.g. matmul_kernel<32,16,16,1,1,4,1,4,1,8,2,1>).
// per_thread<1>(b) is that opaque + 0. MATMUL_ADDR adds it after the stage offset (uniform
// across the block) at every refill: with it before, ptxas put the stage offset in a uniform
// register of the copies' address ([R+UR+imm]) and the 6-stage, both-hinted configs of call 47
// faulted with CUDA_ERROR_ILLEGAL_INSTRUCTION.
template <int HINTED>
__device__ __forceinline__ unsigned per_thread(unsigned b) {
  if constexpr (HINTED) {
    asm volatile("{ .reg .u32 t; mov.u32 t, %%tid.x; shr.u32 t, t, 31; add.u32 %0, %0, t; }" : "+r"(b));
  }
  return b;
}
template <int HINTED>
__device__ __forceinline__ unsigned copy_base(const void* s) {
#ifndef MATMUL_NO_COPY_BASE
  return per_thread<HINTED>(smem_u32(s));
#else
  return 0;  // unused: copy_addr takes the old path
#endif
}

// Element (r, k) of the tile at s as a shared address: from copy_base's sb, or, with
// MATMUL_NO_COPY_BASE, as before the fix (tests/lua/kernels_spec.lua shows the faulting form).
template <int LD>
__device__ __forceinline__ unsigned copy_addr(const h16* s, unsigned sb, int r, int k) {
#ifndef MATMUL_NO_COPY_BASE
  return sb + 2u * (unsigned)(r * LD + k);
#else
  return smem_u32(s + r * LD + k);
#endif
}

// Copies a ROWS x COLS fp16 tile at (r0, c0) of a rows x cols row-major matrix into shared
// memory with row stride LD. Whole in-bounds aligned chunks of VEC halves go by cp.async;
// chunks on a tail or misaligned go element by element, zero-filled past the edge.
// LANE_XOR permutes which thread takes which chunk (within each warp, so a warp still copies
// the same contiguous bytes): see B_LANE_XOR in matmul_kernel.
template <int ROWS, int COLS, int LD, int VEC, int NT, int EVICT, int LANE_XOR = 0>
__device__ __forceinline__ void load_tile(h16* s, const h16* g, int rows, int cols, int r0, int c0,
                                          bool aligned, unsigned long long pol) {
  constexpr int CPR = COLS / VEC;                 // chunks per row
  constexpr int CHUNKS = ROWS * CPR;
  const int tid = (int)threadIdx.x ^ LANE_XOR;
  const unsigned sb = copy_base<VEC == 8 && EVICT != 0>(s);
  if (MATMUL_EVEN || (aligned && r0 + ROWS <= rows && c0 + COLS <= cols)) {   // whole tile inside: no predicates
#pragma unroll
    for (int i = 0; i < (CHUNKS + NT - 1) / NT; ++i) {
      int c = i * NT + tid;
      if (CHUNKS % NT != 0 && c >= CHUNKS) break;
      int r = c / CPR, k = (c % CPR) * VEC;
      unsigned d = copy_addr<LD>(s, sb, r, k);
      const h16* src = g + (long)(r0 + r) * cols + (c0 + k);
      if constexpr (VEC == 8) cp_async<EVICT>(d, src, pol);
      else cp_async_ca<VEC * 2>(d, src);
    }
    return;
  }
#pragma unroll
  for (int i = 0; i < (CHUNKS + NT - 1) / NT; ++i) {
    int c = i * NT + tid;
    if (CHUNKS % NT != 0 && c >= CHUNKS) break;
    int r = c / CPR, k = (c % CPR) * VEC;
    int gr = r0 + r, gc = c0 + k;
    h16* d = s + r * LD + k;
    const h16* src = g + (long)gr * cols + gc;
    if (aligned && gr < rows && gc + VEC <= cols) {
      if constexpr (VEC == 8) cp_async<EVICT>(copy_addr<LD>(s, sb, r, k), src, pol);
      else cp_async_ca<VEC * 2>(smem_u32(d), src);
    } else {
#pragma unroll
      for (int e = 0; e < VEC; ++e) d[e] = (gr < rows && gc + e < cols) ? src[e] : (h16)0;
    }
  }
}

// MATMUL_ADDR's copies. Chunk i of a thread is i * NT + tid, as in load_tile; with NT and the
// chunks per row CPR both powers of two its row and column split into the thread's part
// (copy_origin) and a compile-time part, so chunk i sits at d + imm in shared memory and at
// g + DR * cols + DK in global memory, where d and g address the thread's first chunk.
template <int COLS, int VEC, int LANE_XOR = 0>
__device__ __forceinline__ void copy_origin(int& r, int& k) {
  constexpr int CPR = COLS / VEC;
  const int tid = (int)threadIdx.x ^ LANE_XOR;
  r = tid / CPR;
  k = (tid % CPR) * VEC;
}
template <int ROWS, int COLS, int LD, int VEC, int NT, int EVICT, int LANE_XOR = 0>
__device__ __forceinline__ void copy_even(unsigned d, const h16* g, int cols, unsigned long long pol) {
  constexpr int CPR = COLS / VEC;
  constexpr int CHUNKS = ROWS * CPR;
  static_assert((NT % CPR == 0 || CPR % NT == 0), "MATMUL_ADDR wants NT and COLS / VEC powers of two");
#pragma unroll
  for (int i = 0; i < (CHUNKS + NT - 1) / NT; ++i) {
    if (CHUNKS % NT != 0 && i * NT + ((int)threadIdx.x ^ LANE_XOR) >= CHUNKS) break;
    const int dr = (i * NT) / CPR, dk = ((i * NT) % CPR) * VEC;
    const h16* src = g + (long)dr * cols + dk;
    const unsigned dst = d + 2u * (unsigned)(dr * LD + dk);
    if constexpr (VEC == 8) cp_async<EVICT>(dst, src, pol);
    else cp_async_ca<VEC * 2>(dst, src);
  }
}

__device__ __forceinline__ void ldsm_x4(unsigned (&r)[4], unsigned addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}
__device__ __forceinline__ void ldsm_x4_t(unsigned (&r)[4], unsigned addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}
__device__ __forceinline__ void mma16816(float (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The block's tiles: t, t + t_step, ... below t_end (and below tiles). PID: 0 flat 1-D grid,
// 1 2-D grid (xyz), 2 persistent blocked (a contiguous run each), 3 persistent interleaved.
// CL > 1 (a 1-D grid in clusters of CL along x): the cluster's tiles, in units of CL tiles.
template <int PID, int CL = 1>
__device__ __forceinline__ void tile_range(int tiles, int& t, int& t_end, int& t_step) {
  static_assert(CL == 1 || PID != 1, "clusters take a 1-D grid");
  const unsigned b = blockIdx.x / CL, nb = gridDim.x / CL;   // unsigned, as blockIdx.x is
  if constexpr (PID == 0) { t = b; t_end = t + 1; t_step = 1; }
  else if constexpr (PID == 1) { t = blockIdx.y * gridDim.x + blockIdx.x; t_end = t + 1; t_step = 1; }
  else if constexpr (PID == 2) {
    int per = (tiles + nb - 1) / nb;
    t = b * per; t_end = min(tiles, t + per); t_step = 1;
  } else { t = b; t_end = tiles; t_step = nb; }
}
// f(u, k0, k1) for k-tiles [k0, k1) of tile u: the block's whole tiles t, t + t_step, ... below
// t_end and dp, then (SK) the pieces of iterations [lo, hi) of the tiles from dp on, KT a tile.
template <bool SK, class F>
__device__ __forceinline__ void for_units(int& t, int t_end, int t_step, int dp, int lo, int hi, int KT, F& f) {
  for (; t < t_end; t += t_step) {
    if (t >= dp) break;
    f(t, 0, KT);
  }
  if constexpr (SK)
    for (int g = lo; g < hi;) {
      const int k0 = g % KT, k1 = min(KT, k0 + hi - g);
      f(dp + g / KT, k0, k1);
      g += k1 - k0;
    }
}
template <int MI, int NI>
__device__ __forceinline__ void zero_tile(float (&acc)[MI][NI][4]) {
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < NI; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.f;
}

// The warp tile's MI x NI mma of one 16-deep k step: A fragments per 16 rows, B per 16 columns
// (two n8 halves each).
// MATMUL_MMA_SERP=1: odd rows of mma tiles walk their columns backwards (serpentine), so the
// mma that ends a row and the one that starts the next share their B fragment as well as each
// row's run sharing A (fewer register-file reads of operands: under the power cap at 4096^3
// energy a FLOP is what limits; kernels/NOTES.md). 0: every row forwards.
#ifndef MATMUL_MMA_SERP
#define MATMUL_MMA_SERP 0
#endif
template <int MI, int NI>
__device__ __forceinline__ void mma_tile(float (&acc)[MI][NI][4], const unsigned (&af)[MI][4], const unsigned (&bf)[NI / 2][4]) {
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int jj = 0; jj < NI; ++jj) {
      const int j = MATMUL_MMA_SERP && i % 2 ? NI - 1 - jj : jj;
      mma16816(acc[i][j], af[i], bf[j / 2][(j % 2) * 2], bf[j / 2][(j % 2) * 2 + 1]);
    }
}

// MATMUL_EPI_FAST=1 (dividing shapes): store_tile's fragment stores from one row pointer per
// fragment row plus compile-time column offsets, and one cvt.rn.f16x2 per pair of halves,
// instead of a 64-bit address and two conversions per store. The same stores, and NVRTC does
// 4.3% fewer instructions a config (8 sampled 1024^3 configs, cachegrind; kernels/NOTES.md,
// "Compile-time variants"). 0 restores the form before.
#ifndef MATMUL_EPI_FAST
#define MATMUL_EPI_FAST 1
#endif
// MATMUL_WS_EPI_T=1 (store_tile's T16: WS on dividing shapes, warp tiles a multiple of 32 columns
// wide): C straight from registers as 16-byte stores. A quad's four lanes hold 4 bytes each of a row of every n8
// tile; two xor-shuffle stages transpose the quad's 4 x 4 words of four adjacent n8 tiles, so
// lane q holds tile q's 16 bytes of the row, and a warp's store writes 64 contiguous bytes of
// each of 8 rows (whole sectors) instead of 16. Call 57 (ab-variants --no-check, 4096^3): without
// any store of C the best tile ran 0.912x the time, so the epilogue cost about 9%. With this
// (call 58, 5 rounds, control 0.995-0.999): four 4096^3 tiles 0.932-0.963x the time (the best
// 265.65 -> 247.62 us), two 4096x1024x1024 tiles 0.828 and 0.920. On by default; 0 restores the
// fragment stores.
#ifndef MATMUL_WS_EPI_T
#define MATMUL_WS_EPI_T 1
#endif
// Epilogue: the block's BM x BN tile of C from the warps' accumulators, in fp16. With
// MATMUL_EPI_SMEM, where BM rows of BN + 8 halves fit the CAP halves of idle pipeline memory at
// smem, staged there and stored as 16-byte row chunks; with T16 (MATMUL_WS_EPI_T) on dividing
// shapes and warp tiles of four or more n8 tiles, quad-transposed 16-byte stores; else fragments
// straight to global, predicated on the edges.
template <int BM, int BN, int WM, int WN, int CAP, bool T16 = false>
__device__ __forceinline__ void store_tile(const float (&acc)[BM / WM / 16][BN / WN / 8][4], h16* __restrict__ C,
                                           int M, int N, int m0, int n0, h16* smem) {
  [[maybe_unused]] constexpr int NT = WM * WN * 32, TM = BM / WM, TN = BN / WN, MI = TM / 16, NI = TN / 8;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = warp / WN, wn = warp % WN;
  if constexpr (T16 && MATMUL_EVEN && NI % 4 == 0) {
    const int q = lane % 4;
    const bool b1 = (q & 2) != 0, b0 = (q & 1) != 0;
#pragma unroll
    for (int i = 0; i < MI; ++i)
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int j0 = 0; j0 < NI; j0 += 4) {
          unsigned w[4];
#pragma unroll
          for (int t = 0; t < 4; ++t)
            w[t] = f2h2(acc[i][j0 + t][h * 2], acc[i][j0 + t][h * 2 + 1]);
          // stage 1 (lane bit 1 <-> slot bit 1), stage 2 (lane bit 0 <-> slot bit 0): word t of
          // lane u ends as word u of lane t
#pragma unroll
          for (int k = 0; k < 2; ++k) {
            const unsigned r = __shfl_xor_sync(0xffffffffu, b1 ? w[k] : w[k + 2], 2);
            if (b1) w[k] = r; else w[k + 2] = r;
          }
#pragma unroll
          for (int k = 0; k < 2; ++k) {
            const unsigned r = __shfl_xor_sync(0xffffffffu, b0 ? w[2 * k] : w[2 * k + 1], 1);
            if (b0) w[2 * k] = r; else w[2 * k + 1] = r;
          }
          const int row = m0 + wm * TM + i * 16 + lane / 4 + h * 8, col = n0 + wn * TN + (j0 + q) * 8;
          *reinterpret_cast<uint4*>(C + (long)row * N + col) = make_uint4(w[0], w[1], w[2], w[3]);
        }
    return;
  }
#if MATMUL_EPI_SMEM
  constexpr int PC = BN + 8;   // staged row pitch in halves: fragment rows 8 apart in other banks
  if constexpr (BM * PC <= CAP) {
    h16* sC = smem;   // every stage is free: the caller waited for all copies and synced
#pragma unroll
    for (int f = 0; f < MI * NI * 2; ++f) {   // fragment pair (i, j, h), unrolled: constant indices
      const int i = f / (NI * 2), j = (f / 2) % NI, h = f % 2;
      const int r = wm * TM + i * 16 + lane / 4 + h * 8, c = wn * TN + j * 8 + (lane % 4) * 2;
      *reinterpret_cast<unsigned*>(sC + r * PC + c) =
        f2h2(acc[i][j][h * 2], acc[i][j][h * 2 + 1]);
    }
    __syncthreads();
    const bool vec_c = (N % 8) == 0 && ((unsigned long long)C % 16) == 0;
    constexpr int CPR = BN / 8;   // 16-byte chunks per row
    for (int q = threadIdx.x; q < BM * CPR; q += NT) {
      const int r = q / CPR, k = q % CPR, gr = m0 + r, gc = n0 + k * 8;
      const uint4 u = *reinterpret_cast<const uint4*>(sC + r * PC + k * 8);
      const unsigned v[4] = { u.x, u.y, u.z, u.w };
      if (MATMUL_EVEN || gr < M) store8_h16(C + (long)gr * N + gc, v, MATMUL_EVEN || (vec_c && gc + 8 <= N), N - gc);
    }
    __syncthreads();   // the next tile's prologue overwrites the staged rows
  } else
#endif
#if MATMUL_EPI_FAST
  if constexpr (MATMUL_EVEN) {
    // Fragments straight to global: one row pointer per (i, h), columns at compile-time
    // offsets from it, each pair of halves packed by one cvt.
    h16* const cb = C + (long)(m0 + wm * TM + lane / 4) * N + n0 + wn * TN + (lane % 4) * 2;
#pragma unroll
    for (int i = 0; i < MI; ++i)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        h16* const row = cb + (long)(i * 16 + h * 8) * N;
#pragma unroll
        for (int j = 0; j < NI; ++j)
          *reinterpret_cast<unsigned*>(row + j * 8) = f2h2(acc[i][j][h * 2], acc[i][j][h * 2 + 1]);
      }
  } else
#endif
  {
    // Epilogue: fragments straight to global, fp16, predicated on the edges.
    const bool even = (N % 2) == 0 && ((unsigned long long)C % 4) == 0;
#pragma unroll
    for (int i = 0; i < MI; ++i)
#pragma unroll
      for (int j = 0; j < NI; ++j)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          int r = m0 + wm * TM + i * 16 + lane / 4 + h * 8;
          int c = n0 + wn * TN + j * 8 + (lane % 4) * 2;
          if (!MATMUL_EVEN && r >= M) continue;
          h16 v0 = f2h(acc[i][j][h * 2]), v1 = f2h(acc[i][j][h * 2 + 1]);
          h16* p = C + (long)r * N + c;
          if (MATMUL_EVEN || (even && c + 1 < N)) {
            *reinterpret_cast<unsigned*>(p) = (unsigned)v0 | ((unsigned)v1 << 16);
          } else {
            if (c < N) p[0] = v0;
            if (c + 1 < N) p[1] = v1;
          }
        }
  }
}

// BM x BN tile of C per block, BK deep per stage; WM x WN warps, each owning a
// (BM/WM) x (BN/WN) sub-tile. PID: 0 flat 1-D grid, 1 2-D grid (xyz), 2 persistent blocked,
// 3 persistent interleaved. Shared rows are padded by 8 halves so ldmatrix is conflict-free.
// GROUP 0: the tile order's group and order come from the arguments group and order (so
// configs that differ only in l2_grouping and loop_order share one kernel); GROUP > 0 compiles
// GROUP and ORDER in and ignores those arguments.
template <int BM, int BN, int BK, int WM, int WN, int STAGES, int PID, int GROUP, int ORDER,
          int VEC, int EVICT_A, int EVICT_B>
__global__ void __launch_bounds__(WM * WN * 32)
matmul_kernel(const h16* __restrict__ A, const h16* __restrict__ B, h16* __restrict__ C,
              int M, int N, int K, int group, int order) {
  constexpr int NT = WM * WN * 32;
  constexpr int TM = BM / WM, TN = BN / WN;       // warp tile
  constexpr int MI = TM / 16, NI = TN / 8;        // mma tiles per warp
  constexpr int LDA = BK + 8, LDB = BN + 8;
  constexpr int SA = BM * LDA, SB = BK * LDB;     // halves per stage
  static_assert(TM % 16 == 0 && TN % 16 == 0 && BK % 16 == 0, "warp tile must divide the block");
  extern __shared__ __align__(16) unsigned char smem_raw[];
  h16* sA = reinterpret_cast<h16*>(smem_raw);
  h16* sB = sA + STAGES * SA;
  // MATMUL_ADDR: stage s holds A at s * STG bytes and B after it (see copy_even).
  constexpr bool ADDR = MATMUL_ADDR && MATMUL_EVEN;
  constexpr unsigned STG = 2u * (SA + SB);

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = warp / WN, wn = warp % WN;
  const int tm = (M + BM - 1) / BM, tn = (N + BN - 1) / BN, tiles = tm * tn;
  const int KT = (K + BK - 1) / BK;
  const bool alA = (K % VEC) == 0 && ((unsigned long long)A % 16) == 0;
  const bool alB = (N % VEC) == 0 && ((unsigned long long)B % 16) == 0;
  const unsigned long long polA = make_policy<EVICT_A>(), polB = make_policy<EVICT_B>();
  // With an L2 hint on the 16-byte path, B's chunks go to threads XOR 16. Without that, when
  // BN == BK (so LDA == LDB) A's and B's chunks have the same per-thread shared offsets;
  // ptxas (CUDA 13.0, sm_90 and sm_90a) then shares them, switches copies to an LDGSTS form
  // with a uniform-register shared base (opcode 0xdae) and writes a tile's shared base into the
  // low half of the uniform register pair holding the createpolicy descriptor, which LDGSTS
  // then read as their memory descriptor: CUDA_ERROR_ILLEGAL_INSTRUCTION on the H100 (all 68
  // faults of data/matmul.replay.gz). tests/lua/kernels_spec.lua checks the machine code
  // (-DMATMUL_NO_LANE_XOR rebuilds the faulting form so that check can be seen to fail).
#ifndef MATMUL_NO_LANE_XOR
  constexpr int B_LANE_XOR = (VEC == 8 && (EVICT_A != 0 || EVICT_B != 0)) ? 16 : 0;
#else
  constexpr int B_LANE_XOR = 0;
#endif

  // MATMUL_ADDR's per-thread shared bases in stage 0: the first chunk each thread copies (dA,
  // dB; the refill makes base + stage offset per-thread where hinted, see per_thread) and its
  // ldmatrix rows (fa, fb).
  int ra = 0, ka = 0, rb = 0, kb = 0;
  unsigned dA = 0, dB = 0, fa = 0, fb = 0;
  if constexpr (ADDR) {
    copy_origin<BK, VEC>(ra, ka);
    copy_origin<BN, VEC, B_LANE_XOR>(rb, kb);
    dA = smem_u32(smem_raw) + 2u * (unsigned)(ra * LDA + ka);
    dB = smem_u32(smem_raw) + 2u * (unsigned)(SA + rb * LDB + kb);
    fa = smem_u32(smem_raw) + 2u * (unsigned)((wm * TM + lane % 16) * LDA + (lane / 16) * 8);
    fb = smem_u32(smem_raw) + 2u * (unsigned)(SA + ((lane % 8) + ((lane / 8) % 2) * 8) * LDB + wn * TN + (lane / 16) * 8);
  }

  int t, t_end, t_step;
  tile_range<PID>(tiles, t, t_end, t_step);

  for (; t < t_end; t += t_step) {
    if (t >= tiles) break;
    int pm, pn;
    tile_coords<GROUP, ORDER>(t, tm, tn, group, order, pm, pn);
    const int m0 = pm * BM, n0 = pn * BN;
    float acc[MI][NI][4];
    zero_tile(acc);

    // MATMUL_ADDR: the thread's first chunk of this tile's A and B at k-tile 0.
    const h16* gA = A + (long)(m0 + ra) * K + ka;
    const h16* gB = B + (long)rb * N + n0 + kb;
    auto load = [&](int stage, int kt) {
      if constexpr (ADDR) {
        const unsigned so = (unsigned)stage * STG;
#ifndef MATMUL_NO_STAGE_PER_THREAD
        constexpr int HA = VEC == 8 && EVICT_A != 0, HB = VEC == 8 && EVICT_B != 0;
#else   // the form of call 47's faults, for tests/lua/kernels_spec.lua
        constexpr int HA = 0, HB = 0;
#endif
        copy_even<BM, BK, LDA, VEC, NT, EVICT_A>(per_thread<HA>(dA + so), gA + kt * BK, K, polA);
        copy_even<BK, BN, LDB, VEC, NT, EVICT_B, B_LANE_XOR>(per_thread<HB>(dB + so), gB + (long)(kt * BK) * N, N, polB);
      } else {
        load_tile<BM, BK, LDA, VEC, NT, EVICT_A>(sA + stage * SA, A, M, K, m0, kt * BK, alA, polA);
        load_tile<BK, BN, LDB, VEC, NT, EVICT_B, B_LANE_XOR>(sB + stage * SB, B, K, N, kt * BK, n0, alB, polB);
      }
    };
    // Fragments are double-buffered across the 16-deep k steps: the ldmatrix of step kk+1 is
    // issued before the mma of step kk, so shared-memory latency hides behind tensor work.
    // (The fragment arrays live in the caller's scope: declared per stage in compute(), the
    // default's cubins stay byte-identical to the form the recorded tables measured.)
    using AFrag = unsigned[2][MI][4];
    using BFrag = unsigned[2][NI / 2][4];
    auto frags = [&](AFrag& af, BFrag& bf, int buf, int stage, int kk) {
      if constexpr (ADDR) {
        const unsigned so = (unsigned)stage * STG;
#pragma unroll
        for (int i = 0; i < MI; ++i) ldsm_x4(af[buf][i], fa + so + 2u * (unsigned)(i * 16 * LDA + kk));
#pragma unroll
        for (int j = 0; j < NI / 2; ++j) ldsm_x4_t(bf[buf][j], fb + so + 2u * (unsigned)(kk * LDB + j * 16));
        return;
      }
      const h16* a = sA + stage * SA;
      const h16* b = sB + stage * SB;
#pragma unroll
      for (int i = 0; i < MI; ++i) {
        int r = wm * TM + i * 16 + (lane % 16), c = kk + (lane / 16) * 8;
        ldsm_x4(af[buf][i], smem_u32(a + r * LDA + c));
      }
#pragma unroll
      for (int j = 0; j < NI / 2; ++j) {
        int r = kk + (lane % 8) + ((lane / 8) % 2) * 8, c = wn * TN + j * 16 + (lane / 16) * 8;
        ldsm_x4_t(bf[buf][j], smem_u32(b + r * LDB + c));
      }
    };
    auto mmas = [&](const AFrag& af, const BFrag& bf, int buf) { mma_tile(acc, af[buf], bf[buf]); };
    auto compute = [&](int stage) {
      unsigned af[2][MI][4], bf[2][NI / 2][4];
      frags(af, bf, 0, stage, 0);
#pragma unroll
      for (int ks = 0; ks < BK / 16; ++ks) {
        if (ks + 1 < BK / 16) frags(af, bf, (ks + 1) % 2, stage, (ks + 1) * 16);
        mmas(af, bf, ks % 2);
      }
    };

    if constexpr (STAGES == 1) {
      for (int kt = 0; kt < KT; ++kt) {
        load(0, kt);
        asm volatile("cp.async.commit_group;\n cp.async.wait_group 0;" ::: "memory");
        __syncthreads();
        compute(0);
        __syncthreads();
      }
    } else if constexpr (MATMUL_XSTAGE && (BK / 16) % 2 == 0) {
      // All STAGES stages in flight; the wait and barrier for stage kt+1 come before the last
      // k step's mma of stage kt, so its first fragments load under that mma, and the stage kt
      // just finished reading is refilled (with kt + STAGES) at once.
      unsigned af[2][MI][4], bf[2][NI / 2][4];
      PROLOGUE_UNROLL
      for (int s = 0; s < STAGES; ++s) {
        if (s < KT) load(s, s);
        asm volatile("cp.async.commit_group;" ::: "memory");
      }
      asm volatile("cp.async.wait_group %0;" :: "n"(STAGES - 1) : "memory");
      __syncthreads();
      frags(af, bf, 0, 0, 0);
      int cur = 0;   // MATMUL_ADDR: kt % STAGES, counted
      for (int kt = 0; kt < KT; ++kt) {
        const int st = ADDR ? cur : kt % STAGES;
        const int nx = ADDR ? (cur + 1 == STAGES ? 0 : cur + 1) : (kt + 1) % STAGES;
        cur = nx;
#pragma unroll
        for (int ks = 0; ks < BK / 16; ++ks) {
          if (ks + 1 < BK / 16) {
            frags(af, bf, (ks + 1) % 2, st, (ks + 1) * 16);
            mmas(af, bf, ks % 2);
          } else {
            asm volatile("cp.async.wait_group %0;" :: "n"(STAGES - 2) : "memory");
            __syncthreads();
            if (kt + 1 < KT) frags(af, bf, 0, nx, 0);
            mmas(af, bf, ks % 2);
            // The refill after the last mma: fewer registers live than under it (255 at 128x256).
            if (kt + STAGES < KT) load(st, kt + STAGES);
            asm volatile("cp.async.commit_group;" ::: "memory");
          }
        }
      }
      asm volatile("cp.async.wait_group 0;" ::: "memory");
      __syncthreads();   // the next tile's prologue overwrites stages still being read
    } else {
#if MATMUL_FUSED_PROLOGUE
      // kt < 0 is the prologue (stages 0..STAGES-2), with no wait and no compute.
      for (int kt = 1 - STAGES; kt < KT; ++kt) {
        if (kt >= 0) {
          asm volatile("cp.async.wait_group %0;" :: "n"(STAGES - 2) : "memory");
          __syncthreads();
        }
        int nk = kt + STAGES - 1;
        if (nk < KT) load(nk % STAGES, nk);
        asm volatile("cp.async.commit_group;" ::: "memory");
        if (kt >= 0) compute(kt % STAGES);
      }
#else
      PROLOGUE_UNROLL
      for (int s = 0; s < STAGES - 1; ++s) {
        if (s < KT) load(s, s);
        asm volatile("cp.async.commit_group;" ::: "memory");
      }
      for (int kt = 0; kt < KT; ++kt) {
        asm volatile("cp.async.wait_group %0;" :: "n"(STAGES - 2) : "memory");
        __syncthreads();
        int nk = kt + STAGES - 1;
        if (nk < KT) load(nk % STAGES, nk);
        asm volatile("cp.async.commit_group;" ::: "memory");
        compute(kt % STAGES);
      }
#endif
      asm volatile("cp.async.wait_group 0;" ::: "memory");
      __syncthreads();   // the next tile's prologue overwrites stages still being read
    }

    store_tile<BM, BN, WM, WN, STAGES * (SA + SB)>(acc, C, M, N, m0, n0, sA);
  }
}

// ---- TMA loads (spec.lua's opts.loads = "tma"): matmul_tma_kernel ------------------------------
// The same mma.sync warp tiles, fed by the Hopper tensor-memory accelerator instead of cp.async:
// thread 0 copies a stage with BK/64 + BN/64 tensor-map boxes that complete on the stage's
// mbarrier, so no thread spends instructions or registers on copy addresses, and L2 serves whole
// boxes. A stage holds A as BK/64 panels of BM rows x 64 halves, then B as BN/64 panels of BK
// rows x 64 halves; every panel has 128-byte rows in the 128-byte swizzle (16-byte chunk c of row
// r at chunk c ^ (r % 8)), so ldmatrix reads are conflict-free without padding. The maps (tmA:
// box 64 x BM of the M x K matrix, tmB: box 64 x BK of the K x N one, zero fill past the edges)
// are encoded on the host; K % 8 == 0 and N % 8 == 0 (16-byte row pitches). The loop is
// MATMUL_XSTAGE's: the wait and barrier for stage kt+1 before the last mma of stage kt, the next
// fragments under it, the stage just read refilled after it. Stages and their mbarrier phases run
// on across a persistent block's tiles.
// CL = 2 (WS only; matmul_tma_cl2_kernel, launched in clusters of 2 along x): the two CTAs of a
// cluster take vertically adjacent tiles (the same columns of B; tiles along M even), each
// copies half the rows of every B panel (tmB's box is 64 x BK/2) and multicasts it to both, so
// B is read from L2 once per pair. A stage is refilled only when the consumers of both CTAs are
// done with it: lane 0 of each consumer warp arrives on the empty barrier of both CTAs, and no
// CTA exits before its peer (the closing cluster sync).
// MATMUL_WS_WARP_ARRIVE = 1: with CL = 1 too, one empty-barrier arrival per consumer warp (call
// 53 at 4096^3: 0.998-1.032x the time of one a thread, so off).
#ifndef MATMUL_WS_WARP_ARRIVE
#define MATMUL_WS_WARP_ARRIVE 0
#endif
// MATMUL_WS2 (default 1): a WS block of one consumer warpgroup is compiled for two blocks per SM
// (128 registers a thread at launch, then setmaxnreg 24 for the producer and 232 for the
// consumers: the block's 32768 registers), so one block's epilogue and pipeline bubbles overlap
// the other's mma; spec.lua then launches two persistent blocks per SM where shared memory
// allows. At 4096^3 on the H200 four 4-warp tiles ran 0.60-0.84x the time of one block per SM
// (MATMUL_WS2=0), the 8-warp control 1.002x (call 54).
#ifndef MATMUL_WS2
#define MATMUL_WS2 1
#endif
// Diagnostics of where the WS kernel's time goes (wrong results by design: time them with
// htune.evaluate's check = false, as scripts/ab-variants.lua --no-check does). MATMUL_WS_NOLOAD=1: the producer
// arrives on a stage's full barrier without copying, so the consumers compute on whatever the
// stages hold (=2: every thread first fills the stages once with random fp16 in [-1, 1], so the
// mma see changing operands, as on real tiles, and only the copies are gone);
// MATMUL_WS_NOMMA=1: the consumers load every fragment but issue no mma;
// MATMUL_WS_NOEPI=1: no store of C.
#ifndef MATMUL_WS_NOLOAD
#define MATMUL_WS_NOLOAD 0
#endif
#ifndef MATMUL_WS_NOMMA
#define MATMUL_WS_NOMMA 0
#endif
#ifndef MATMUL_WS_NOEPI
#define MATMUL_WS_NOEPI 0
#endif
#define MATMUL_TMA_MIN_BLOCKS(WS, NW) ((WS) && (NW) == 4 && MATMUL_WS2 ? 2 : 1)
template <int BM, int BN, int BK, int WM, int WN, int STAGES, int PID, int GROUP, int ORDER, int WS, int CL, bool SK = false>
__device__ __forceinline__ void matmul_tma_body(const h16* __restrict__ A, const h16* __restrict__ B, h16* __restrict__ C,
                                                int M, int N, int K, const TensorMap* tmA, const TensorMap* tmB,
                                                int group, int order, float* __restrict__ W = nullptr,
                                                int* __restrict__ F = nullptr) {
  constexpr int TM = BM / WM, TN = BN / WN;       // warp tile
  constexpr int MI = TM / 16, NI = TN / 8;        // mma tiles per warp
  constexpr unsigned SA = BM * BK * 2, SB = BK * BN * 2, STG = SA + SB;   // bytes per stage
  static_assert(TM % 16 == 0 && TN % 16 == 0 && BK % 64 == 0 && BN % 64 == 0 && STAGES >= 2,
                "TMA tiles: whole 64-wide panels, 16x16-multiple warp tiles, two or more stages");
  static_assert(TN % 64 == 0 || 64 % TN == 0, "a warp's columns are whole panels or within one");
  constexpr int NC = WM * WN * 32;   // threads computing (all of them unless WS)
  static_assert(!WS || NC == 128 || NC == 256, "WS: one or two consumer warpgroups");
  static_assert(CL == 1 || (CL == 2 && WS && (BK / 2) % 8 == 0), "clusters of 2: WS, whole 8-row atoms per half of B");
  static_assert(!SK || (WS && CL == 1 && PID >= 2), "stream-K: WS, persistent, no clusters");
  constexpr bool WARP_ARRIVE = CL > 1 || MATMUL_WS_WARP_ARRIVE;
  constexpr bool TWO_BLOCKS = MATMUL_TMA_MIN_BLOCKS(WS, WM * WN) == 2;   // MATMUL_WS2's setmaxnreg split
  // full[s]: stage s's copies landed; WS: then empty[s], every consumer thread done reading it
  __shared__ __align__(8) unsigned long long bars[WS ? 2 * STAGES : STAGES];
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const unsigned base = (smem_u32(smem_raw) + 1023u) & ~1023u;   // swizzle atoms: 1024-aligned
  const unsigned bar0 = smem_u32(&bars[0]), empty0 = bar0 + 8u * STAGES;
  if (threadIdx.x == 0) {
    for (int s = 0; s < STAGES; ++s) {
      mbar_init(bar0 + 8 * s, 1);
      if constexpr (WS) mbar_init(empty0 + 8 * s, WARP_ARRIVE ? NC / 32 * CL : NC);
    }
    fence_mbar_init();
  }
  if constexpr (WS && MATMUL_WS_NOLOAD == 2) {   // the stages from base: STAGES * STG bytes of the launch's dynamic shared memory
    unsigned* st = reinterpret_cast<unsigned*>(smem_raw + (base - smem_u32(smem_raw)));
    for (unsigned w = threadIdx.x; w < STAGES * STG / 4; w += blockDim.x) {
      unsigned x = (w + 1u) * 2654435761u ^ blockIdx.x * 40503u;
      x ^= x >> 15; x *= 2246822519u; x ^= x >> 13;
      st[w] = f2h2((float)(x & 0xffffu) * (2.f / 65536.f) - 1.f, (float)(x >> 16) * (2.f / 65536.f) - 1.f);
    }
  }
  if constexpr (CL == 1) __syncthreads();
  else cluster_sync();   // the peer's multicasts and arrives land on these barriers

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = warp / WN, wn = warp % WN;
  // CL = 2: tiles in units of the cluster's two (tm even); rank picks this CTA's row of tiles
  // (read where used: a value live across setmaxnreg is spilled)
  auto rank = [] { return CL == 1 ? 0u : cluster_rank(); };
  const int tm = (M + BM - 1) / BM, tn = (N + BN - 1) / BN, tiles = tm / CL * tn;
  const int KT = (K + BK - 1) / BK;
  // SK: where the tiles leave a last, partial round on the G blocks (rem = tiles % G of them),
  // those tiles are split by k-tiles over every block instead: block b takes the whole tiles
  // first, then iterations [c_lo(b), c_lo(b + 1)) of the rest's rem * KT: at least one (so every
  // block raises the flag its tile's owner waits for) and fewer than KT (else no round is
  // shorter; so at most two pieces, the first without k-tile 0). (Read where used, as rank:
  // values live across setmaxnreg were spilled.)
  auto sk_rem = [tiles, KT] {
    const int G = (int)gridDim.x, rem = tiles > G ? tiles % G : 0;
    return SK && rem * KT >= G && (rem * KT + G - 1) / G < KT ? rem : 0;
  };
  auto c_lo = [sk_rem, KT](int b) { return (int)((long long)b * sk_rem() * KT / (int)gridDim.x); };
  int t, t_end, t_step;
  tile_range<PID, CL>(tiles - sk_rem(), t, t_end, t_step);
  auto coords = [&](int u, int& pm, int& pn) {
    tile_coords<GROUP, ORDER>(u, tm / CL, tn, group, order, pm, pn);
    if constexpr (CL > 1) pm = pm * CL + (int)rank();
  };

  // Stage `stage` gets k-tile kt of tile (m0, n0) when `boxes` is BK/64 + BN/64, nothing when 0.
  // A loop of runtime length: unrolled under `if (threadIdx.x == 0)`, ptxas predicated its five
  // TMA sequences (about 90 instructions, ELECT loops included) into every warp's k-tile.
  auto load = [&](int stage, int kt, int m0, int n0, int boxes, unsigned half = 0) {
    const unsigned sa = base + (unsigned)stage * STG, bar = bar0 + 8u * (unsigned)stage;
    if (WS && MATMUL_WS_NOLOAD) {
      if (boxes) mbar_arrive(bar);
      return;
    }
    if (boxes) mbar_expect_tx(bar, STG);
#pragma unroll 1
    for (int p = 0; p < boxes; ++p) {
      if (p < BK / 64) tma_load_2d(sa + p * BM * 128, tmA, kt * BK + p * 64, m0, bar);
      else if constexpr (CL == 1) tma_load_2d(sa + SA + (p - BK / 64) * BK * 128, tmB, n0 + (p - BK / 64) * 64, kt * BK, bar);
      else tma_load_2d_multicast(sa + SA + (p - BK / 64) * BK * 128 + half * (BK / 2) * 128, tmB, n0 + (p - BK / 64) * 64,
                                 kt * BK + (int)half * (BK / 2), bar, (unsigned short)3);
    }
  };
  if constexpr (WS) {
    // WS: the last warpgroup only loads. Its first thread walks the block's tiles and k-tiles
    // through the ring, refilling a stage once every consumer thread has arrived on its empty
    // barrier; consumers never meet at a block barrier, and the next tile's loads overlap the
    // epilogue. setmaxnreg hands the producer's registers to two consumer warpgroups, or to one
    // of two blocks an SM (MATMUL_WS2).
    if (threadIdx.x >= NC) {
      if constexpr (NC == 256) asm volatile("setmaxnreg.dec.sync.aligned.u32 40;");
      if constexpr (TWO_BLOCKS) asm volatile("setmaxnreg.dec.sync.aligned.u32 24;");
      if (threadIdx.x == NC) {
        int s = 0;
        unsigned ph = 0;
        auto produce = [&](int u, int k0, int k1) {
          int pm, pn;
          coords(u, pm, pn);
          for (int kt = k0; kt < k1; ++kt) {
            mbar_wait(empty0 + 8u * (unsigned)s, ph ^ 1u);   // a fresh barrier passes parity 1
            load(s, kt, pm * BM, pn * BN, BK / 64 + BN / 64, rank());
            if (++s == STAGES) { s = 0; ph ^= 1u; }
          }
        };
        int u = t;
        for_units<SK>(u, t_end, t_step, tiles - sk_rem(), SK ? c_lo(blockIdx.x) : 0, SK ? c_lo(blockIdx.x + 1) : 0, KT, produce);
      }
      if constexpr (CL > 1) { __syncwarp(); cluster_sync(); }   // the peer still multicasts here
      return;
    }
    if constexpr (NC == 256 || TWO_BLOCKS) asm volatile("setmaxnreg.inc.sync.aligned.u32 232;");
  }
  // (the consumers' setup comes after setmaxnreg: values live across it were spilled)
  // ldmatrix rows in stage 0: A's lane % 16 of the warp's rows, B's lane % 8 + 8 * (lane / 8 % 2)
  // in the warp's first panel. Rows start at multiples of 8, so a row's r % 8 is lane % 8, and
  // chunk c + lane / 16 (c even) lands at chunk c ^ x, x = (lane / 16) ^ (lane % 8) (for B also
  // the warp's chunk within its panel). The four even chunk offsets a 64-wide panel has give
  // four per-thread bases each: pa[q] for A's k step q, pb[q] for B's 16 columns q of a panel;
  // every ldmatrix is then one of them + stage offset + a compile-time offset.
  const unsigned xa = (unsigned)(((lane / 16) ^ (lane % 8)) * 16);
  const unsigned xb = (unsigned)(((((wn * TN) % 64) / 8) ^ (lane / 16) ^ (lane % 8)) * 16);
  const unsigned fa = base + (unsigned)(wm * TM + lane % 16) * 128u;
  const unsigned fb = base + SA + (unsigned)((wn * TN) / 64) * (BK * 128u) + (unsigned)(lane % 8 + (lane / 8 % 2) * 8) * 128u;
  unsigned pa[4], pb[4];
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    pa[q] = fa + ((unsigned)(q * 32) ^ xa);
    pb[q] = fb + ((unsigned)(q * 32) ^ xb);
    // opaque: ptxas otherwise rebuilds them from %tid.x every k-tile (277 instead of 253
    // instructions a 64-deep k-tile at 128x256, 8 warps)
    asm volatile("" : "+r"(pa[q]), "+r"(pb[q]));
  }
  using AFrag = unsigned[2][MI][4];
  using BFrag = unsigned[2][NI / 2][4];
  auto frags = [&](AFrag& af, BFrag& bf, int buf, int stage, int kk) {
    const unsigned so = (unsigned)stage * STG;
#pragma unroll
    for (int i = 0; i < MI; ++i)
      ldsm_x4(af[buf][i], pa[(kk % 64) / 16] + so + (unsigned)((kk / 64) * BM * 128 + i * 16 * 128));
#pragma unroll
    for (int j = 0; j < NI / 2; ++j)
      ldsm_x4_t(bf[buf][j], pb[j % 4] + so + (unsigned)((j / 4) * BK * 128 + kk * 128));
  };


  int cur = 0;            // the stage of the next k-tile to consume
  unsigned phase = 0;     // the parity its mbarrier completes next (flips each time cur wraps)
  const int dp = tiles - sk_rem();   // whole tiles
  // k-tiles [k0, k1) of tile u (all of them but in SK's pieces)
  auto consume = [&](int u, int k0, int k1) {
    int pm, pn;
    coords(u, pm, pn);
    const int m0 = pm * BM, n0 = pn * BN;
    float acc[MI][NI][4];
    zero_tile(acc);

    const int boxes = threadIdx.x == 0 ? BK / 64 + BN / 64 : 0;
    if (!WS && threadIdx.x == 0) {
      fence_proxy_async();   // the previous tile's reads and staged C before these copies
      int s = cur;
#pragma unroll 1
      for (int k = 0; k < STAGES && k < KT; ++k) {
        load(s, k, m0, n0, boxes);
        s = s + 1 == STAGES ? 0 : s + 1;
      }
    }
    unsigned af[2][MI][4], bf[2][NI / 2][4];
    if (k1 > k0) {
      mbar_wait(bar0 + 8u * (unsigned)cur, phase);
      frags(af, bf, 0, cur, 0);
    }
    for (int kt = k0; kt < k1; ++kt) {
      const int st = cur;
      if (++cur == STAGES) { cur = 0; phase ^= 1u; }
#pragma unroll
      for (int ks = 0; ks < BK / 16; ++ks) {
        if (ks + 1 < BK / 16) {
          frags(af, bf, (ks + 1) % 2, st, (ks + 1) * 16);
          if (!(WS && MATMUL_WS_NOMMA)) mma_tile(acc, af[ks % 2], bf[ks % 2]);
        } else {
          if (kt + 1 < k1) mbar_wait(bar0 + 8u * (unsigned)cur, phase);
          if (!WS) __syncthreads();   // every warp is done reading stage st (its last fragments are loaded)
          if (kt + 1 < k1) frags(af, bf, 0, cur, 0);
          if (!(WS && MATMUL_WS_NOMMA)) mma_tile(acc, af[ks % 2], bf[ks % 2]);
          // WS: stage st is free once the mma that reads its last fragments has issued (it waits
          // for their ldmatrix). Arriving right after that ldmatrix instead (call 51) let the
          // producer's copies land under reads still in flight: wrong tiles on 8-warp 64-deep
          // persistent configs.
          // With CL = 2 (or MATMUL_WS_WARP_ARRIVE) lane 0 arrives for its warp, on both CTAs'
          // barriers: __syncwarp orders the other lanes' reads before its release.
          if constexpr (WS && !WARP_ARRIVE) mbar_arrive(empty0 + 8u * (unsigned)st);
          if constexpr (WS && WARP_ARRIVE) {
            __syncwarp();
            if (lane == 0) {
              mbar_arrive(empty0 + 8u * (unsigned)st);
              if constexpr (CL > 1) mbar_arrive_remote(empty0 + 8u * (unsigned)st, rank() ^ 1u);
            }
          }
          // (no proxy fence: the barrier above orders the block's ldmatrix reads of stage st
          // before these copies, as an mbarrier release does in CUTLASS's TMA pipelines)
          if (!WS && kt + STAGES < KT) load(st, kt + STAGES, m0, n0, boxes);
        }
      }
    }
    // Every warp's reads of the stages came before the last k-tile's barrier, so the staged
    // epilogue may write them (and the next tile's copies follow its closing barrier).
    h16* stages = reinterpret_cast<h16*>(smem_raw + (base - smem_u32(smem_raw)));
    if constexpr (SK) {
      // A piece without k-tile 0: its partial sums go to this block's slot of W, then its flag
      // is raised. The piece with k-tile 0 (its block's last) adds the later pieces' slots, each
      // once its flag is up (lowering it for the next launch), and stores the tile.
      float4* slot = reinterpret_cast<float4*>(W) + (size_t)blockIdx.x * (MI * NI * NC);
      const int tid = threadIdx.x;
      if (k0 > 0) {
#pragma unroll
        for (int i = 0; i < MI; ++i)
#pragma unroll
          for (int j = 0; j < NI; ++j)
            __stcg(slot + (i * NI + j) * NC + tid, make_float4(acc[i][j][0], acc[i][j][1], acc[i][j][2], acc[i][j][3]));
        __threadfence();
        named_bar_sync(1, NC);
        if (tid == 0) flag_release(F + blockIdx.x, 1);
        return;
      }
      if (k1 < KT) {
        const int g1 = (u - dp + 1) * KT;   // the iteration after the tile's last, of rem * KT
        for (int c = blockIdx.x + 1; c < (int)gridDim.x && c_lo(c) < g1; ++c) {
          if (tid == 0) {
            while (flag_acquire(F + c) == 0) __nanosleep(64);
            F[c] = 0;
          }
          named_bar_sync(1, NC);
          const float4* other = reinterpret_cast<const float4*>(W) + (size_t)c * (MI * NI * NC);
#pragma unroll
          for (int i = 0; i < MI; ++i)
#pragma unroll
            for (int j = 0; j < NI; ++j) {
              const float4 v = __ldcg(other + (i * NI + j) * NC + tid);
              acc[i][j][0] += v.x; acc[i][j][1] += v.y; acc[i][j][2] += v.z; acc[i][j][3] += v.w;
            }
        }
      }
    }
    // WS: the producer is already filling the stages with the next tile, so C goes straight out
    if (!(WS && MATMUL_WS_NOEPI) || M < 0)
      store_tile<BM, BN, WM, WN, WS ? 0 : STAGES * STG / 2, WS && MATMUL_WS_EPI_T>(acc, C, M, N, m0, n0, stages);
  };
  for_units<SK>(t, t_end, t_step, dp, SK ? c_lo(blockIdx.x) : 0, SK ? c_lo(blockIdx.x + 1) : 0, KT, consume);   // as the producer
  if constexpr (CL > 1) cluster_sync();   // the peer may still arrive on this CTA's barriers
}

template <int BM, int BN, int BK, int WM, int WN, int STAGES, int PID, int GROUP, int ORDER, int WS>
__global__ void __launch_bounds__(WM * WN * 32 + (WS ? 128 : 0), MATMUL_TMA_MIN_BLOCKS(WS, WM * WN))
matmul_tma_kernel(const h16* __restrict__ A, const h16* __restrict__ B, h16* __restrict__ C, int M, int N, int K,
                  const __grid_constant__ TensorMap tmA, const __grid_constant__ TensorMap tmB, int group, int order) {
  matmul_tma_body<BM, BN, BK, WM, WN, STAGES, PID, GROUP, ORDER, WS, 1>(A, B, C, M, N, K, &tmA, &tmB, group, order);
}
// Stream-K (SK above), WS only, persistent: W holds a partial tile of fp32 sums per block
// (BM * BN floats each), F a flag per block, zero before the first launch and after each.
template <int BM, int BN, int BK, int WM, int WN, int STAGES, int PID, int GROUP, int ORDER>
__global__ void __launch_bounds__(WM * WN * 32 + 128, MATMUL_TMA_MIN_BLOCKS(1, WM * WN))
matmul_tma_sk_kernel(const h16* __restrict__ A, const h16* __restrict__ B, h16* __restrict__ C, int M, int N, int K,
                     const __grid_constant__ TensorMap tmA, const __grid_constant__ TensorMap tmB, int group, int order,
                     float* __restrict__ W, int* __restrict__ F) {
  matmul_tma_body<BM, BN, BK, WM, WN, STAGES, PID, GROUP, ORDER, 1, 1, true>(A, B, C, M, N, K, &tmA, &tmB, group, order, W, F);
}
// Clusters of 2 along x sharing B (CL = 2 above), WS only; the grid is even (tiles along M even).
template <int BM, int BN, int BK, int WM, int WN, int STAGES, int PID, int GROUP, int ORDER>
__global__ void __cluster_dims__(2, 1, 1) __launch_bounds__(WM * WN * 32 + 128, MATMUL_TMA_MIN_BLOCKS(1, WM * WN))
matmul_tma_cl2_kernel(const h16* __restrict__ A, const h16* __restrict__ B, h16* __restrict__ C, int M, int N, int K,
                      const __grid_constant__ TensorMap tmA, const __grid_constant__ TensorMap tmB, int group, int order) {
  matmul_tma_body<BM, BN, BK, WM, WN, STAGES, PID, GROUP, ORDER, 1, 2>(A, B, C, M, N, K, &tmA, &tmB, group, order);
}

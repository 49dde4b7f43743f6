// matmul_wgmma: C = A·B on Hopper (sm_90a only), fp16 in, fp32 accumulate, fp16 out,
// row-major A (MxK) and B (KxN), any M, N, K. wgmma.mma_async from 128B-swizzled shared tiles
// (A K-major, B N-major: the transposed descriptor), fed by a producer warpgroup through an
// mbarrier ring of STAGES slots; one or two consumer warpgroups own the accumulators.
// Loads: TMA tensor-map copies (matmul_wgmma_tma_kernel, maps passed by value) or cp.async
// 16-byte chunks written at swizzled addresses (zero-filled past the edges); spec.lua's `loads`
// picks one. No headers: spec.lua's source_files puts
// kernels/common/fp16.cuh (h16, h2f, f2h, smem_u32), tma.cuh (mbarriers, TMA), matmul_reference.cuh
// (the reference kernel) and tile_coords.cuh (grouped tile order) before this file in one source text.

// WGMMA_EVEN=1 (spec.lua sets it when M and N are multiples of the tile and K of 8; htune's
// buffers are 256-byte aligned): the epilogue stores without edge tests and the cp.async
// producer never takes the plain-load path. Half the NVRTC time: 533 -> 236 ms a config, cubin
// 34.4 -> 15.7 KB (12 sampled 1024^3 configs x 2, sm_90a, the 2-core dev machine).
#ifndef WGMMA_EVEN
#define WGMMA_EVEN 0
#endif

// ---- mbarrier ring (mbar_init, mbar_wait, mbar_arrive, fence_proxy_async: common/tma.cuh) -----
// Arrives on the barrier once every cp.async this thread issued so far has landed (counts as
// one of the barrier's expected arrivals: .noinc).
__device__ __forceinline__ void mbar_arrive_cp_async(unsigned bar) {
  asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];" :: "r"(bar) : "memory");
}
// 16-byte copy, of which the first src_bytes come from global and the rest are zero.
__device__ __forceinline__ void cp_async16(unsigned dst, const void* src, unsigned src_bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(dst), "l"(src), "r"(src_bytes) : "memory");
}

// ---- wgmma ----------------------------------------------------------------------------------
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;" :: "n"(N) : "memory"); }
// Keeps the compiler from moving reads of accumulators across a wgmma wait.
template <int R>
__device__ __forceinline__ void fence_regs(float (&d)[R]) {
#pragma unroll
  for (int i = 0; i < R; ++i) asm volatile("" : "+f"(d[i]) :: "memory");
}
// Shared-memory matrix descriptor with 128-byte swizzle; byte offsets, 16-byte units inside.
__device__ __forceinline__ unsigned long long sw128_desc(unsigned addr, unsigned lbo, unsigned sbo) {
  return (unsigned long long)((addr & 0x3FFFF) >> 4) | ((unsigned long long)((lbo >> 4) & 0x3FFF) << 16) |
         ((unsigned long long)((sbo >> 4) & 0x3FFF) << 32) | (1ull << 62);
}

// m64nNk16, D (+)= A·B; A K-major (imm-trans-a 0), B N-major (imm-trans-b 1); scale_d 0 zeroes D.
// Generated: one asm per N because the accumulator list is spelled out.
__device__ __forceinline__ void wgmma_n64(float (&d)[32], unsigned long long da, unsigned long long db, int scale_d) {
  asm volatile("{ .reg .pred p; setp.ne.b32 p, %34, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, %32, %33, p, 1, 1, 0, 1; }"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
               : "l"(da), "l"(db), "r"(scale_d));
}
__device__ __forceinline__ void wgmma_n128(float (&d)[64], unsigned long long da, unsigned long long db, int scale_d) {
  asm volatile("{ .reg .pred p; setp.ne.b32 p, %66, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, %64, %65, p, 1, 1, 0, 1; }"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
               : "l"(da), "l"(db), "r"(scale_d));
}
__device__ __forceinline__ void wgmma_n256(float (&d)[128], unsigned long long da, unsigned long long db, int scale_d) {
  asm volatile("{ .reg .pred p; setp.ne.b32 p, %130, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, %128, %129, p, 1, 1, 0, 1; }"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
               : "l"(da), "l"(db), "r"(scale_d));
}
template <int BN>
__device__ __forceinline__ void wgmma_bn(float (&d)[BN / 2], unsigned long long da, unsigned long long db, int scale_d) {
  if constexpr (BN == 64) wgmma_n64(d, da, db, scale_d);
  else if constexpr (BN == 128) wgmma_n128(d, da, db, scale_d);
  else wgmma_n256(d, da, db, scale_d);
}

// Byte offset of 16-byte chunk c (0..7) of row r in a 128B-swizzled tile of 128-byte rows:
// the chunk index is XORed with the row's position in its 8-row (1024-byte) atom.
__device__ __forceinline__ unsigned sw128(int r, int c) { return (unsigned)(r * 128 + ((c ^ (r & 7)) << 4)); }

// Producer: copies the ROWS x COLS fp16 tile at (r0, c0) of a rows x cols row-major matrix into
// shared memory as COLS/64 column panels of ROWS x 64 halves, each 128B-swizzled. Zero past the
// edges. ALIGNED: cp.async (needs cols % 8 == 0 and a 16-byte aligned base); else plain loads
// and 16-byte shared stores, made visible to the async proxy by the caller's fence.
template <int ROWS, int COLS, bool ALIGNED>
__device__ __forceinline__ void load_tile(unsigned s, const h16* g, int rows, int cols, int r0, int c0, int tid) {
  constexpr int CPR = COLS / 8, CHUNKS = ROWS * CPR;
  static_assert(CHUNKS % 128 == 0, "tile must split evenly over the producer warpgroup");
#pragma unroll 4
  for (int q = tid; q < CHUNKS; q += 128) {
    int r = q / CPR, cc = q % CPR;
    unsigned dst = s + (unsigned)((cc / 8) * ROWS * 128) + sw128(r, cc % 8);
    int gr = r0 + r, gc = c0 + cc * 8;
    int left = cols - gc;
    if constexpr (ALIGNED) {
      unsigned bytes = (gr < rows && left > 0) ? (unsigned)min(left, 8) * 2 : 0u;
      const h16* src = bytes ? g + (long)gr * cols + gc : g;
      cp_async16(dst, src, bytes);
    } else {
      unsigned v[4] = { 0, 0, 0, 0 };
      if (gr < rows) {
        const h16* src = g + (long)gr * cols + gc;
#pragma unroll
        for (int e = 0; e < 8; ++e)
          if (e < left) v[e / 2] |= (unsigned)src[e] << ((e % 2) * 16);
      }
      asm volatile("st.shared.v4.b32 [%0], {%1, %2, %3, %4};" :: "r"(dst), "r"(v[0]), "r"(v[1]), "r"(v[2]), "r"(v[3]) : "memory");
    }
  }
}

// ---- TMA and clusters: common/tma.cuh (tma_load_2d, its multicast form, mbarriers, cluster_sync)

// Tiles of BM x BN, BK deep per stage. Warpgroup 0 loads; warpgroups 1..NC compute, each
// owning BM/NC rows as MI = BM/(64*NC) wgmma row blocks of m64 x BN. PID 0: one tile per block
// (flat grid); 1: persistent, tiles round-robin over gridDim.x blocks.
// TMA: warpgroup 0's first thread loads each stage with two tensor-map copies per 64-wide panel
// (tmA: K x M box 64 x BM, tmB: N x K box 64 x BK, both SWIZZLE_128B, zero fill past the edges).
// CL = 2 (TMA only; the kernel is launched in clusters of 2 along x): the two CTAs of a cluster
// take horizontally adjacent tiles (same rows of A, tn even), each loads half of the A stage
// (tmA's box is 64 x BM/2) and multicasts it to both, so A is read from L2 once per pair. A slot
// is refilled only when the consumers of both CTAs are done with it: each consumer warp arrives
// on the empty barrier of both CTAs, and no CTA exits before its peer (the final cluster sync).
template <int BM, int BN, int BK, int NC, int STAGES, int PID, int GROUP, int ORDER, bool TMA, int CL = 1>
__device__ __forceinline__ void matmul_wgmma_body(const h16* __restrict__ A, const h16* __restrict__ B,
                                                  h16* __restrict__ C, int M, int N, int K,
                                                  const TensorMap* tmA, const TensorMap* tmB, int group, int order) {
  constexpr int MI = BM / (64 * NC);
  constexpr unsigned SA = BM * BK * 2, SB = BK * BN * 2, STAGE = SA + SB;   // bytes
  static_assert(MI >= 1 && MI * 64 * NC == BM, "BM must be 64 * NC * MI");
  static_assert(BK % 64 == 0 && BN % 64 == 0, "BK and BN are whole 64-wide swizzle panels");
  static_assert(CL == 1 || (CL == 2 && TMA && (BM / 2) % 8 == 0), "clusters of 2 need TMA and whole 8-row atoms per half");
  __shared__ __align__(8) unsigned long long bars[2 * STAGES];   // full[s], then empty[s]
  extern __shared__ __align__(16) unsigned char smem_raw[];
  const unsigned base = (smem_u32(smem_raw) + 1023u) & ~1023u;    // swizzle atoms: 1024-aligned
  const unsigned full0 = smem_u32(&bars[0]), empty0 = smem_u32(&bars[STAGES]);

  const int wg = threadIdx.x / 128, tid = threadIdx.x % 128;
  if (threadIdx.x == 0) {
    for (int s = 0; s < STAGES; ++s) {
      mbar_init(full0 + 8 * s, TMA ? 1 : 128);   // TMA: one expect_tx; else every producer thread
      mbar_init(empty0 + 8 * s, NC * 4 * CL);    // lane 0 of every consumer warp (of each CTA)
    }
    fence_mbar_init();
  }
  if constexpr (CL == 1) __syncthreads();
  else cluster_sync();   // the peer's multicasts and arrives land on these barriers

  // Tiles in units of CL horizontally adjacent tiles (a cluster's); rank picks one of them.
  const unsigned rank = CL == 1 ? 0u : cluster_rank();
  const int tm = (M + BM - 1) / BM, tn = (N + BN - 1) / BN / CL, tiles = tm * tn;
  const int KT = (K + BK - 1) / BK;
  const int t0 = blockIdx.x / CL, t_step = PID == 0 ? tiles : gridDim.x / CL;
  auto coords = [&](int t, int& pm, int& pn) {   // tile t's (pm, pn), this CTA's of its cluster
    tile_coords<GROUP, ORDER>(t, tm, tn, group, order, pm, pn);   // GROUP 0: from the arguments
    pn = pn * CL + (int)rank;
  };

  if (wg == 0) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" :: "n"(NC == 1 ? 56 : 40));
    const bool aligned = (K % 8) == 0 && (N % 8) == 0 && ((unsigned long long)A % 16) == 0 &&
                         ((unsigned long long)B % 16) == 0;
    int it = 0;
    for (int t = t0; t < tiles; t += t_step) {
      int pm, pn;
      coords(t, pm, pn);
      for (int kt = 0; kt < KT; ++kt, ++it) {
        const int s = it % STAGES;
        mbar_wait(empty0 + 8 * s, ((it / STAGES) & 1) ^ 1);
        const unsigned sa = base + s * STAGE, sb = sa + SA;
        if constexpr (TMA) {
#ifdef WG_NOLOAD   // wgbench diagnostic: consumers run on whatever the slots hold (wrong results)
          if (tid == 0) mbar_arrive(full0 + 8 * s);
          if (false) {
#else
          if (tid == 0) {
#endif
            mbar_expect_tx(full0 + 8 * s, STAGE);   // with CL = 2, half of A comes from the peer
#pragma unroll
            for (int p = 0; p < BK / 64; ++p) {
              if constexpr (CL == 1) tma_load_2d(sa + p * BM * 128, tmA, kt * BK + p * 64, pm * BM, full0 + 8 * s);
#ifndef WG_CL_NOMC
              else tma_load_2d_multicast(sa + p * BM * 128 + rank * (BM / 2) * 128, tmA, kt * BK + p * 64,
                                         pm * BM + (int)rank * (BM / 2), full0 + 8 * s, (unsigned short)3);
#else   // diagnostic: clusters and the paired slot protocol, but each CTA reads all of A itself
              else for (int h = 0; h < 2; ++h)
                tma_load_2d(sa + p * BM * 128 + h * (BM / 2) * 128, tmA, kt * BK + p * 64, pm * BM + h * (BM / 2), full0 + 8 * s);
#endif
            }
#pragma unroll
            for (int p = 0; p < BN / 64; ++p) tma_load_2d(sb + p * BK * 128, tmB, pn * BN + p * 64, kt * BK, full0 + 8 * s);
          }
        } else if (WGMMA_EVEN || aligned) {
          load_tile<BM, BK, true>(sa, A, M, K, pm * BM, kt * BK, tid);
          load_tile<BK, BN, true>(sb, B, K, N, kt * BK, pn * BN, tid);
          mbar_arrive_cp_async(full0 + 8 * s);
        } else {
          load_tile<BM, BK, false>(sa, A, M, K, pm * BM, kt * BK, tid);
          load_tile<BK, BN, false>(sb, B, K, N, kt * BK, pn * BN, tid);
          fence_proxy_async();
          mbar_arrive(full0 + 8 * s);
        }
      }
    }
    asm volatile("cp.async.wait_all;" ::: "memory");
    if constexpr (CL > 1) cluster_sync();
    return;
  }

  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" :: "n"(NC == 1 ? 240 : 232));
  const int c = wg - 1, warp = tid / 32, lane = tid % 32;
  // 16-byte stores of C where every row starts 16-byte aligned (htune's buffers are 256-aligned)
  const bool vec_c = (N % 8) == 0 && ((unsigned long long)C % 16) == 0;
  float acc[MI][BN / 2];
  // Frees slot s for the producers: this CTA's, and with CL = 2 the peer's (it multicasts here).
  auto release = [&](int s) {
    if (lane != 0) return;
    mbar_arrive(empty0 + 8 * s);
    if constexpr (CL == 2) mbar_arrive_remote(empty0 + 8 * s, rank ^ 1u);
  };
  int it = 0;
  for (int t = t0; t < tiles; t += t_step) {
    int pm, pn;
    coords(t, pm, pn);
    int prev = -1;
    for (int kt = 0; kt < KT; ++kt, ++it) {
      const int s = it % STAGES;
      mbar_wait(full0 + 8 * s, (it / STAGES) & 1);
      if constexpr (!TMA) fence_proxy_async();   // cp.async wrote through the generic proxy; wgmma reads through the async one
      wgmma_fence();
      const unsigned sa = base + s * STAGE, sb = sa + SA;
#pragma unroll
      for (int ks = 0; ks < BK / 16; ++ks) {
        const int kk = ks * 16;
        // B: row kk of panel 0; LBO = next 64-wide N panel, SBO = next 8 k rows.
#ifndef WG_B_SWAP
        const unsigned long long db = sw128_desc(sb + kk * 128, BK * 128, 1024);
#else   // wgbench's hedge: the other reading of LBO/SBO for N-major operands
        const unsigned long long db = sw128_desc(sb + kk * 128, 1024, BK * 128);
#endif
#pragma unroll
        for (int mi = 0; mi < MI; ++mi) {
          // A: panel kk/64, rows (c*MI+mi)*64, 32 bytes per 16 k inside the 128-byte row.
          const unsigned a_addr = sa + (kk / 64) * BM * 128 + (c * MI + mi) * 64 * 128 + (kk % 64) * 2;
          wgmma_bn<BN>(acc[mi], sw128_desc(a_addr, 16, 1024), db, (kt > 0 || ks > 0) ? 1 : 0);
        }
      }
      wgmma_commit();
      wgmma_wait<1>();   // the group before this one is done: its slot may be refilled
      if (prev >= 0) release(prev);
      prev = s;
    }
    wgmma_wait<0>();
    if (prev >= 0) release(prev);
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) fence_regs(acc[mi]);

    // Epilogue through shared memory: this warpgroup's MI*64 x BN rows go to a staging tile
    // after the ring (pitch BN + 8 halves: the fragment rows 8 apart fall in other banks), then
    // out in 16-byte row-contiguous stores. Straight 4-byte stores from the fragment layout
    // took 15-17% longer at 1024^3 and 7% at 4096^3 (H200, call 32).
    constexpr int P = BN + 8, ROWS = MI * 64;
    const unsigned stg = base + STAGES * STAGE + (unsigned)(c * ROWS * P * 2);
    const int r0 = warp * 16 + lane / 4, c0 = (lane % 4) * 2;
#pragma unroll
    for (int mi = 0; mi < MI; ++mi)
#pragma unroll
      for (int j = 0; j < BN / 8; ++j)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const h16 v0 = f2h(acc[mi][j * 4 + h * 2]), v1 = f2h(acc[mi][j * 4 + h * 2 + 1]);
          const unsigned a = stg + (unsigned)(((mi * 64 + r0 + h * 8) * P + j * 8 + c0) * 2);
          asm volatile("st.shared.b32 [%0], %1;" :: "r"(a), "r"((unsigned)v0 | ((unsigned)v1 << 16)) : "memory");
        }
    asm volatile("bar.sync %0, 128;" :: "r"(1 + c) : "memory");   // this warpgroup's rows are staged
    constexpr int CPR = BN / 8;   // 16-byte chunks per row
    const int row0 = pm * BM + c * ROWS, col0 = pn * BN;
#pragma unroll 4
    for (int q = tid; q < ROWS * CPR; q += 128) {
      const int r = q / CPR, k = q % CPR, gr = row0 + r, gc = col0 + k * 8;
      unsigned v[4];
      asm volatile("ld.shared.v4.b32 {%0, %1, %2, %3}, [%4];" : "=r"(v[0]), "=r"(v[1]), "=r"(v[2]), "=r"(v[3])
                   : "r"(stg + (unsigned)((r * P + k * 8) * 2)) : "memory");
      if (WGMMA_EVEN || gr < M) store8_h16(C + (long)gr * N + gc, v, WGMMA_EVEN || (vec_c && gc + 8 <= N), N - gc);
    }
    asm volatile("bar.sync %0, 128;" :: "r"(1 + c) : "memory");   // staging free for the next tile
  }
  if constexpr (CL > 1) cluster_sync();   // the peer may still arrive on this CTA's barriers
}

template <int BM, int BN, int BK, int NC, int STAGES, int PID, int GROUP, int ORDER>
__global__ void __launch_bounds__((NC + 1) * 128, 1)
matmul_wgmma_kernel(const h16* __restrict__ A, const h16* __restrict__ B, h16* __restrict__ C, int M, int N, int K,
                    int group, int order) {
  matmul_wgmma_body<BM, BN, BK, NC, STAGES, PID, GROUP, ORDER, false>(A, B, C, M, N, K, nullptr, nullptr, group, order);
}

// Same kernel with TMA loads; needs K % 8 == 0 and N % 8 == 0 (16-byte row pitches) and the two
// maps encoded on the host with cuTensorMapEncodeTiled (see wgbench.cu). A and B are unused
// here except through the maps; kept so both kernels take the same leading arguments.
template <int BM, int BN, int BK, int NC, int STAGES, int PID, int GROUP, int ORDER>
__global__ void __launch_bounds__((NC + 1) * 128, 1)
matmul_wgmma_tma_kernel(const h16* __restrict__ A, const h16* __restrict__ B, h16* __restrict__ C, int M, int N, int K,
                        const __grid_constant__ TensorMap tmA, const __grid_constant__ TensorMap tmB, int group, int order) {
  matmul_wgmma_body<BM, BN, BK, NC, STAGES, PID, GROUP, ORDER, true>(A, B, C, M, N, K, &tmA, &tmB, group, order);
}

// TMA loads in clusters of 2 CTAs along x (CL = 2 above): A multicast to the pair. The grid's x
// must be even; spec.lua's cluster constraint keeps the tiles along N even.
template <int BM, int BN, int BK, int NC, int STAGES, int PID, int GROUP, int ORDER>
__global__ void __cluster_dims__(2, 1, 1) __launch_bounds__((NC + 1) * 128, 1)
matmul_wgmma_tma_cl2_kernel(const h16* __restrict__ A, const h16* __restrict__ B, h16* __restrict__ C, int M, int N, int K,
                            const __grid_constant__ TensorMap tmA, const __grid_constant__ TensorMap tmB, int group, int order) {
  matmul_wgmma_body<BM, BN, BK, NC, STAGES, PID, GROUP, ORDER, true, 2>(A, B, C, M, N, K, &tmA, &tmB, group, order);
}

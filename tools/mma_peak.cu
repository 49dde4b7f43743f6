// mma_peak: the tensor-core ceiling of mma.sync.m16n8k16 (fp16 in, fp32 accumulate) on this
// GPU, with no memory traffic: every warp issues ACC independent chains of mma from registers.
// It bounds what kernels/matmul (an mma.sync template) can reach; cuBLAS uses wgmma on Hopper.
//   nvcc -O3 -std=c++17 -arch=sm_90a tools/mma_peak.cu -o mma_peak && ./mma_peak
// Prints, per (warps per block, chains), TFLOP/s = 4096 flops per mma x mmas / time.
//   ./mma_peak hold [MS] [ROUNDS]: the best layout (8 warps, two blocks an SM, 8 chains) held for
// MS-ms windows (default 2000) as the power cap sees a long GEMM, alternating operands fixed for
// the whole run ("fixed", as above) with operands that change every mma ("toggling": four A and
// four B fragments of random fp16 in [-1, 1], cycled, so the tensor datapath switches as on real
// tiles). Compare with scripts/clock-probe.lua's cuBLAS windows in the same device call.
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <cstdint>

template <int ACC>
__global__ void mma_loop(float *out, int iters, uint32_t seed) {
    uint32_t a0 = seed ^ threadIdx.x, a1 = a0 * 3u, a2 = a0 * 5u, a3 = a0 * 7u, b0 = a0 * 11u, b1 = a0 * 13u;
    float acc[ACC][4];
    for (int j = 0; j < ACC; ++j)
        for (int k = 0; k < 4; ++k) acc[j][k] = 0.f;
    for (int i = 0; i < iters; ++i) {
#pragma unroll
        for (int j = 0; j < ACC; ++j)
            asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                         : "+f"(acc[j][0]), "+f"(acc[j][1]), "+f"(acc[j][2]), "+f"(acc[j][3])
                         : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
    }
    float s = 0.f;
    for (int j = 0; j < ACC; ++j)
        for (int k = 0; k < 4; ++k) s += acc[j][k];
    if (s == 1234.5f) out[blockIdx.x * blockDim.x + threadIdx.x] = s; // keeps the loop alive
}

template <int ACC>
static void run(int sms, int warps, int blocks_per_sm, float *out) {
    const int iters = 4096, blocks = sms * blocks_per_sm, threads = warps * 32;
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    mma_loop<ACC><<<blocks, threads>>>(out, iters, 1u); // warm-up
    float best = 1e30f;
    for (int rep = 0; rep < 5; ++rep) {
        cudaEventRecord(e0);
        mma_loop<ACC><<<blocks, threads>>>(out, iters, 1u);
        cudaEventRecord(e1);
        cudaEventSynchronize(e1);
        float ms = 0;
        cudaEventElapsedTime(&ms, e0, e1);
        if (ms < best) best = ms;
    }
    cudaError_t err = cudaGetLastError();
    double flops = 4096.0 * ACC * (double)iters * (double)blocks * warps;
    printf("warps/block %2d  blocks/SM %d  chains %d  %8.3f ms  %7.1f TFLOP/s%s%s\n", warps, blocks_per_sm, ACC, best,
           flops / (best * 1e-3) / 1e12, err ? "  error: " : "", err ? cudaGetErrorString(err) : "");
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
}

// Random fp16 in [-1, 1] packed two to a word, from a per-thread hash (no NaN or infinity, so
// the sums stay finite and the datapath sees ordinary values).
__device__ __forceinline__ uint32_t rand_h2(uint32_t& x) {
    x = x * 1664525u + 1013904223u;
    const float lo = (float)(x >> 8) * (2.0f / 16777216.0f) - 1.0f;
    x = x * 1664525u + 1013904223u;
    const float hi = (float)(x >> 8) * (2.0f / 16777216.0f) - 1.0f;
    const __half2 h = __floats2half2_rn(lo, hi);
    uint32_t u;
    memcpy(&u, &h, 4);
    return u;
}

// 8 chains. TOGGLE: mma j of half-iteration h reads A set j % 4 and B set (2 (j / 4) + h + j) % 4,
// so consecutive mma differ in both operands; indices stay compile-time (two unrolled halves).
template <bool TOGGLE>
__global__ void mma_hold(float *out, int iters, uint32_t seed) {
    uint32_t x = seed * 2654435761u ^ (blockIdx.x * blockDim.x + threadIdx.x) * 40503u;
    uint32_t a[4][4], b[4][2];
    for (int s = 0; s < 4; ++s) {
        for (int r = 0; r < 4; ++r) a[s][r] = rand_h2(x);
        for (int r = 0; r < 2; ++r) b[s][r] = rand_h2(x);
    }
    float acc[8][4];
    for (int j = 0; j < 8; ++j)
        for (int k = 0; k < 4; ++k) acc[j][k] = 0.f;
    for (int i = 0; i < iters; i += 2) {
#pragma unroll
        for (int h = 0; h < 2; ++h)
#pragma unroll
            for (int j = 0; j < 8; ++j) {
                const int sa = TOGGLE ? j % 4 : 0, sb = TOGGLE ? (j / 4 * 2 + h + j) % 4 : 0;
                asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                             : "+f"(acc[j][0]), "+f"(acc[j][1]), "+f"(acc[j][2]), "+f"(acc[j][3])
                             : "r"(a[sa][0]), "r"(a[sa][1]), "r"(a[sa][2]), "r"(a[sa][3]), "r"(b[sb][0]), "r"(b[sb][1]));
            }
    }
    float s = 0.f;
    for (int j = 0; j < 8; ++j)
        for (int k = 0; k < 4; ++k) s += acc[j][k];
    if (s == 1234.5f) out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

// One window: launches of about 4 ms (2.3 TFLOP each) back to back, in groups of 10, until ms
// milliseconds have passed; TFLOP/s over the window.
template <bool TOGGLE>
static void hold_window(int sms, int ms, float *out, int round) {
    const int warps = 8, blocks = sms * 2, iters = 1 << 15;
    const double flops_per_launch = 4096.0 * 8 * iters * (double)blocks * warps;
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    mma_hold<TOGGLE><<<blocks, warps * 32>>>(out, iters, 7u + round);
    cudaEventRecord(e0);
    cudaEventSynchronize(e0);
    int launches = 0;
    float el = 0.f;
    for (;;) {
        for (int l = 0; l < 10; ++l) mma_hold<TOGGLE><<<blocks, warps * 32>>>(out, iters, 11u + launches++);
        cudaEventRecord(e1);
        cudaEventSynchronize(e1);
        cudaEventElapsedTime(&el, e0, e1);
        if (el >= ms) break;
    }
    cudaError_t err = cudaGetLastError();
    printf("hold round %d  %-8s  %5d launches  %8.1f ms  %7.1f TFLOP/s%s%s\n", round, TOGGLE ? "toggling" : "fixed", launches, el,
           flops_per_launch * launches / (el * 1e-3) / 1e12, err ? "  error: " : "", err ? cudaGetErrorString(err) : "");
    fflush(stdout);
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "hold") != 0) {
        fprintf(stderr, "mma_peak: unknown argument '%s' (usage: mma_peak [hold [MS] [ROUNDS]])\n", argv[1]);
        return 2;
    }
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) { fprintf(stderr, "mma_peak: no CUDA device\n"); return 1; }
    printf("mma_peak: %s, %d SMs, mma.sync.m16n8k16 f32.f16.f16.f32 from registers\n", p.name, p.multiProcessorCount);
    float *out;
    cudaMalloc(&out, 1 << 24);
    if (argc > 1) {
        const int ms = argc > 2 ? atoi(argv[2]) : 2000, rounds = argc > 3 ? atoi(argv[3]) : 2;
        if (ms < 1 || rounds < 1) { fprintf(stderr, "mma_peak: hold wants MS >= 1 and ROUNDS >= 1\n"); return 2; }
        for (int r = 1; r <= rounds; ++r) {
            hold_window<false>(p.multiProcessorCount, ms, out, r);
            hold_window<true>(p.multiProcessorCount, ms, out, r);
        }
        cudaFree(out);
        return 0;
    }
    for (int warps : {4, 8, 16}) {
        run<4>(p.multiProcessorCount, warps, 1, out);
        run<8>(p.multiProcessorCount, warps, 1, out);
        run<8>(p.multiProcessorCount, warps, 2, out);
    }
    cudaFree(out);
    return 0;
}

// mma_peak: the tensor-core ceiling of mma.sync.m16n8k16 (fp16 in, fp32 accumulate) on this
// GPU, with no memory traffic: every warp issues ACC independent chains of mma from registers.
// It bounds what kernels/matmul (an mma.sync template) can reach; cuBLAS uses wgmma on Hopper.
//   nvcc -O3 -std=c++17 -arch=sm_90a tools/mma_peak.cu -o mma_peak && ./mma_peak
// Prints, per (warps per block, chains), TFLOP/s = 4096 flops per mma x mmas / time.
#include <cuda_runtime.h>
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

int main() {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, 0) != cudaSuccess) { fprintf(stderr, "mma_peak: no CUDA device\n"); return 1; }
    printf("mma_peak: %s, %d SMs, mma.sync.m16n8k16 f32.f16.f16.f32 from registers\n", p.name, p.multiProcessorCount);
    float *out;
    cudaMalloc(&out, 1 << 24);
    for (int warps : {4, 8, 16}) {
        run<4>(p.multiProcessorCount, warps, 1, out);
        run<8>(p.multiProcessorCount, warps, 1, out);
        run<8>(p.multiProcessorCount, warps, 2, out);
    }
    cudaFree(out);
    return 0;
}

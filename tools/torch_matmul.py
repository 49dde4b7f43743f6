"""cuBLAS through PyTorch, timed as htune's harnesses time it: fp16 C = A @ B for the shapes given
(MxNxK), fresh uniform(-1, 1) inputs rotated over sets larger than L2, CUDA events around batches
of 20 products, the median of 15 batches after warm-up. A second reference next to the cuBLAS
baseline htune's live backend times (tuner figures in kernels/NOTES.md). Launches come from
Python one by one, so a product shorter than Python's launch time (1024^3: 20.8 us measured on an
H200, where cuBLAS itself takes 7-11 us) times the launch loop, not the GPU; 4096^3 is valid.
    python3 tools/torch_matmul.py 1024x1024x1024 4096x4096x4096"""
import statistics
import sys

import torch


def time_us(m, n, k, batches=15, per_batch=20):
    sets = max(1, min(16, (200 << 20) // (2 * (m * k + k * n))))
    a = [torch.empty(m, k, device="cuda", dtype=torch.float16).uniform_(-1, 1) for _ in range(sets)]
    b = [torch.empty(k, n, device="cuda", dtype=torch.float16).uniform_(-1, 1) for _ in range(sets)]
    for i in range(3 * sets):
        torch.mm(a[i % sets], b[i % sets])
    out = []
    for _ in range(batches):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for i in range(per_batch):
            torch.mm(a[i % sets], b[i % sets])
        end.record()
        end.synchronize()
        out.append(start.elapsed_time(end) * 1000 / per_batch)
    return statistics.median(out), min(out)


def main(shapes):
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    for s in shapes:
        m, n, k = (int(x) for x in s.split("x"))
        med, best = time_us(m, n, k)
        print(f"torch.mm fp16 {s}: median {med:.2f} us (min {best:.2f}), {2 * m * n * k / med * 1e-6:.1f} TFLOP/s")


if __name__ == "__main__":
    main(sys.argv[1:] or ["1024x1024x1024", "4096x4096x4096"])

"""The peer's convolution throughput (`npm run bench -- peer`): GMAC/s of torch's inference
convolutions at ResNet50 shapes on the threads given (argv[1]), best of five, one JSON line:
{"shapes": {name: GMAC/s}}. What the lab's WASM kernels are measured against, next to WASM's own
multiply-add ceiling. Run with Debian's Python (python3-torch): /usr/bin/python3.
"""

import json
import sys
import time

import torch

SHAPES = [  # (name, batch, in channels, out channels, kernel, size)
    ("3x3 64->64 @56, batch 4", 4, 64, 64, 3, 56),
    ("3x3 256->256 @14, batch 8", 8, 256, 256, 3, 14),
    ("3x3 512->512 @7, batch 8", 8, 512, 512, 3, 7),
    ("1x1 1024->256 @14, batch 8", 8, 1024, 256, 1, 14),
]


def main():
    torch.set_num_threads(int(sys.argv[1]))
    out = {}
    with torch.no_grad():
        for name, batch, cin, cout, k, size in SHAPES:
            conv = torch.nn.Conv2d(cin, cout, k, padding=k // 2, bias=False).eval()
            x = torch.randn(batch, cin, size, size)
            conv(x)
            best = float("inf")
            for _ in range(5):
                start = time.perf_counter()
                conv(x)
                best = min(best, time.perf_counter() - start)
            out[name] = batch * size * size * cin * cout * k * k / best / 1e9
    print(json.dumps({"shapes": out}))


if __name__ == "__main__":
    main()

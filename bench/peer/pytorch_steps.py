"""The PyTorch peer of the lab's fine-tuning step benchmark (`npm run bench -- peer`).

Runs the scenarios it is given (JSON on argv[1]) with the same batch, image size, trainable set,
BatchNorm mode (inference: running statistics in every layer), optimizer (Adam) and thread count
as the lab, on torchvision's ResNet50 with a new 4-way head, and prints one JSON object per
scenario: {"label", "msPerStep", "steps"}. Timings are wall-clock medians after two warm-up steps.

"cached" scenarios train on the frozen prefix's output computed once beforehand, as the lab's
feature cache does; uncached ones run the frozen prefix (without autograd) at every step. Weights
are random: speed does not depend on them, and nothing is downloaded.

Run with Debian's Python (python3-torch, python3-torchvision): /usr/bin/python3.
"""

import json
import statistics
import sys
import time

import torch
import torchvision

BLOCKS = 16
CLASSES = 4
WARMUP_STEPS = 2


def segments(model):
    """Stem, the 16 bottleneck blocks (input side first) and the pooled head, as the lab cuts them."""
    stem = torch.nn.Sequential(model.conv1, model.bn1, model.relu, model.maxpool)
    blocks = [block for layer in (model.layer1, model.layer2, model.layer3, model.layer4) for block in layer]
    return stem, blocks


def run(scenario, threads, timed_steps):
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    model = torchvision.models.resnet50(weights=None)
    model.fc = torch.nn.Linear(2048, CLASSES)
    model.eval()  # BatchNorm on running statistics everywhere, as the lab's default policy
    stem, blocks = segments(model)
    k = scenario["freezeDepth"]
    frozen = [stem, *blocks[: BLOCKS - k]]
    trainable = blocks[BLOCKS - k :]
    for p in model.parameters():
        p.requires_grad_(False)
    params = [p for m in [*trainable, model.fc] for p in m.parameters()]
    for p in params:
        p.requires_grad_(True)
    optimizer = torch.optim.Adam(params, lr=1e-4)

    batch = scenario["batchSize"]
    size = scenario["sizePx"]
    images = torch.randn(batch, 3, size, size)
    labels = torch.arange(batch) % CLASSES

    def prefix(x):
        with torch.no_grad():
            for m in frozen:
                x = m(x)
        return x

    cached = prefix(images) if scenario["cached"] else None

    def step():
        x = cached if cached is not None else prefix(images)
        for m in trainable:
            x = m(x)
        logits = model.fc(torch.flatten(model.avgpool(x), 1))
        loss = torch.nn.functional.cross_entropy(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    times = []
    for i in range(WARMUP_STEPS + timed_steps):
        start = time.perf_counter()
        step()
        if i >= WARMUP_STEPS:
            times.append((time.perf_counter() - start) * 1000)
    return {"label": scenario["label"], "msPerStep": statistics.median(times), "steps": len(times)}


def main():
    scenarios = json.loads(sys.argv[1])
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    timed_steps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    for scenario in scenarios:
        print(json.dumps(run(scenario, threads, timed_steps)), flush=True)


if __name__ == "__main__":
    main()

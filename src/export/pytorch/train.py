"""Checks and continues a Finetune Lab run in PyTorch, on one machine or many processes.

    python3 train.py --check [--data DIR]      the browser's outputs reproduced (exit 1 if not)
    python3 train.py --data DIR [--epochs N]   fine-tuning goes on with the run's own settings
    torchrun --redirects 1 --tee 1 --standalone --nproc_per_node=2 train.py --data DIR

The preprocessing, augmentation draws and split below are ports of the lab's TypeScript
(src/data/preprocess.ts, src/data/augment.ts, src/core/splits.ts), number for number.
"""

import argparse
import copy
import csv
import json
import math
import os
import random
import re
import sys
import time
import warnings
from datetime import datetime, timezone

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from PIL import Image, ImageOps
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import BLOCK_COUNT, load_tfjs, save_tfjs  # noqa: E402

#: The bar for "the same model": float32 through 50 layers, folded vs unfolded BatchNorm.
PROBABILITY_TOLERANCE = 1e-4
#: Preprocessed inputs of a lossless file (PNG…), in 0..255 units: the same float32 arithmetic as the lab.
INPUT_TOLERANCE = 1e-3
LOSSY_EXTENSIONS = (".jpg", ".jpeg", ".webp")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp")
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN_RGB = (0.485, 0.456, 0.406)
TORCH_STD_RGB = (0.229, 0.224, 0.225)
#: The lab's augmentation (src/data/augment.ts).
CROP_AREA_RANGE = (0.35, 1.0)
CROP_RATIO_RANGE = (3 / 4, 4 / 3)
CROP_ATTEMPTS = 10
#: Keras' Adam (the lab's optimizer.ts).
ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON = 0.9, 0.999, 1e-7
MASK32 = 0xFFFFFFFF


# ---------------------------------------------------------------- JavaScript number semantics


def js_round(x):
    """Math.round: halves go up (Python's round() goes to even)."""
    return math.floor(x + 0.5)


def to_uint32(x):
    """`x >>> 0` of a JavaScript number (a double)."""
    return int(math.trunc(x)) & MASK32 if math.isfinite(x) else 0


def create_prng(seed):
    """mulberry32, as src/core/prng.ts: the same seed gives the same [0, 1) stream as the lab."""
    state = seed & MASK32

    def random_value():
        nonlocal state
        state = (state + 0x6D2B79F5) & MASK32
        t = state
        t = ((t ^ (t >> 15)) * (t | 1)) & MASK32
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & MASK32)) & MASK32
        return ((t ^ (t >> 14)) & MASK32) / 4294967296

    return random_value


def shuffled_indices(n, random_value):
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = math.floor(random_value() * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


def fnv1a64(text):
    """src/core/hash.ts: two 32-bit FNV-1a lanes over UTF-16 code units, as 16 hex digits."""
    a, b = 0x811C9DC5, 0xCBF29CE4
    units = text.encode("utf-16-le")
    for i in range(0, len(units), 2):
        code = units[i] | (units[i + 1] << 8)
        a = ((a ^ code) * 0x01000193) & MASK32
        b = ((b ^ code) * 0x01000193) & MASK32
        b = (b ^ (a >> 13)) & MASK32
    return f"{a:08x}{b:08x}"


def canonical_json(value):
    if isinstance(value, list):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{canonical_json(v)}" for k, v in sorted(value.items()) if v is not None) + "}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # JSON.stringify(255.0) is "255"
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------- preprocessing (src/data/preprocess.ts)


def _axis_taps(src_start, src_length, dst_length):
    """
    The lab's antialiased triangle filter along one axis (axisFilter()): for each output pixel its
    source pixels, relative to src_start, and their float32 weights, as [dst_length, taps] arrays
    (short rows padded with weight 0). Banded rather than a dense matrix: a 4000 px side resampled
    to 224 reads 37 pixels per output, not 4000.
    """
    src_end = src_start + src_length
    scale = src_length / dst_length
    stretch = max(scale, 1.0)
    support = stretch
    max_taps = math.ceil(support) * 2 + 1
    index = np.zeros((dst_length, max_taps), dtype=np.int64)
    weight = np.zeros((dst_length, max_taps), dtype=np.float64)
    for i in range(dst_length):
        center = src_start + (i + 0.5) * scale
        lo = max(src_start, math.floor(center - support))
        hi = min(src_end, math.ceil(center + support))
        taps = [max(0.0, 1 - abs((j + 0.5 - center) / stretch)) for j in range(lo, min(hi, lo + max_taps))]
        total = sum(taps)
        if total == 0:
            index[i, 0] = min(src_end - 1, max(src_start, math.floor(center))) - src_start
            weight[i, 0] = 1.0
            continue
        # Stored as float32, then divided by the double total and stored as float32 again.
        index[i, : len(taps)] = np.arange(lo, lo + len(taps)) - src_start
        weight[i, : len(taps)] = (np.array(taps, dtype=np.float32).astype(np.float64) / total).astype(np.float32)
    return index, weight


def _resize_composited(rgba, rect, out_width, out_height, background):
    """Composite onto the background (in double, as the lab) and resample: [out_h, out_w, 3] float32, 0..255."""
    x0, y0, width, height = rect
    ix, wx = _axis_taps(x0, width, out_width)  # [out_w, taps]
    iy, wy = _axis_taps(y0, height, out_height)  # [out_h, taps]
    horizontal = np.empty((height, out_width, 3), dtype=np.float32)
    background = np.array(background, dtype=np.float64)
    rows = 256  # bounds the float64 copies of a large image
    for r in range(0, height, rows):
        part = rgba[y0 + r : y0 + min(height, r + rows), x0 : x0 + width]
        if (part[..., 3] == 255).all():
            composited = part[..., :3].astype(np.float64)  # what the blend gives opaque pixels, exactly
        else:
            part = part.astype(np.float64)
            alpha = part[..., 3:4] / 255
            composited = part[..., :3] * alpha + background * (1 - alpha)  # [rows, width, 3]
        horizontal[r : r + part.shape[0]] = np.einsum("hotc,ot->hoc", composited[:, ix], wx).astype(np.float32)
    return np.einsum("otwc,ot->owc", horizontal.astype(np.float64)[iy], wy).astype(np.float32)


def _padded(rgba, size, background):
    height, width = rgba.shape[:2]
    scale = size / max(width, height)
    inner_width = max(1, min(size, js_round(width * scale)))
    inner_height = max(1, min(size, js_round(height * scale)))
    inner = _resize_composited(rgba, (0, 0, width, height), inner_width, inner_height, background)
    out = np.empty((size, size, 3), dtype=np.float32)
    out[:] = np.array(background, dtype=np.float32)
    left, top = (size - inner_width) // 2, (size - inner_height) // 2
    out[top : top + inner_height, left : left + inner_width] = inner
    return out


def _normalize(rgb, mode):
    """RGB 0..255 float32 → the mode's range and channel order, in double then float32, as the lab."""
    v = rgb.astype(np.float64)
    r, g, b = v[..., 0], v[..., 1], v[..., 2]
    if mode == "caffe":
        out = [b - CAFFE_MEAN_BGR[0], g - CAFFE_MEAN_BGR[1], r - CAFFE_MEAN_BGR[2]]
    elif mode == "div255-then-caffe":
        out = [b / 255 - CAFFE_MEAN_BGR[0], g / 255 - CAFFE_MEAN_BGR[1], r / 255 - CAFFE_MEAN_BGR[2]]
    elif mode == "unit":
        out = [r / 255, g / 255, b / 255]
    elif mode == "symmetric":
        out = [r / 127.5 - 1, g / 127.5 - 1, b / 127.5 - 1]
    elif mode == "torch":
        out = [(c / 255 - m) / s for c, m, s in zip((r, g, b), TORCH_MEAN_RGB, TORCH_STD_RGB)]
    else:
        raise ValueError(f"unknown normalization {mode!r}")
    return np.stack(out, axis=-1).astype(np.float32)


def preprocess_image(rgba, spec, augmentation=None):
    """
    src/data/preprocess.ts preprocessImage: [h, w, 4] uint8 RGBA → [size, size, 3] float32, channels
    last (the lab's layout). `augmentation` = (crop (x, y, w, h), flip) replaces the resize rule.
    """
    size, background = spec["sizePx"], spec["background"]
    height, width = rgba.shape[:2]
    if spec["resize"] == "pad" and augmentation is None:
        rgb = _padded(rgba, size, background)
    else:
        if augmentation is not None:
            rect = augmentation[0]
        elif spec["resize"] == "stretch":
            rect = (0, 0, width, height)
        else:
            side = min(width, height)
            rect = ((width - side) // 2, (height - side) // 2, side, side)
        rgb = _resize_composited(rgba, rect, size, size, background)
    if augmentation is not None and augmentation[1]:
        rgb = rgb[:, ::-1]
    return _normalize(rgb, spec["normalization"])


def augmentation_for(width, height, seed, epoch, image_index):
    """src/data/augment.ts: the random resized crop and flip of one image in one epoch, as the lab draws it."""
    random_value = create_prng(to_uint32(float(seed) * 0x9E3779B1 + float(epoch) * 0x85EBCA6B + float(image_index) * 0xC2B2AE35))
    area = width * height
    for _ in range(CROP_ATTEMPTS):
        target = area * (CROP_AREA_RANGE[0] + random_value() * (CROP_AREA_RANGE[1] - CROP_AREA_RANGE[0]))
        log_ratio = math.log(CROP_RATIO_RANGE[0]) + random_value() * (math.log(CROP_RATIO_RANGE[1]) - math.log(CROP_RATIO_RANGE[0]))
        ratio = math.exp(log_ratio)
        w = js_round(math.sqrt(target * ratio))
        h = js_round(math.sqrt(target / ratio))
        if 1 <= w <= width and 1 <= h <= height:
            x = math.floor(random_value() * (width - w + 1))
            y = math.floor(random_value() * (height - h + 1))
            return (x, y, w, h), random_value() < 0.5
    ratio = width / height
    w, h = width, height
    if ratio < CROP_RATIO_RANGE[0]:
        h = max(1, js_round(w / CROP_RATIO_RANGE[0]))
    elif ratio > CROP_RATIO_RANGE[1]:
        w = max(1, js_round(h * CROP_RATIO_RANGE[1]))
    return ((width - w) // 2, (height - h) // 2, w, h), random_value() < 0.5


def decode_image(path):
    """
    8-bit RGBA with the EXIF orientation applied, as the browser decodes (createImageBitmap,
    imageOrientation 'from-image', no colour conversion). PNG is exact; JPEG may differ by a
    few levels from the browser's decoder.
    """
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        if image.mode in ("I;16", "I;16B", "I;16L", "I"):
            # 16-bit grayscale: scaled to 8 bits with rounding (what pngjs does).
            values = np.asarray(image, dtype=np.float64)
            gray = np.clip(np.floor(values * 255 / 65535 + 0.5), 0, 255).astype(np.uint8)
            return np.dstack([gray, gray, gray, np.full_like(gray, 255)])
        return np.asarray(image.convert("RGBA"), dtype=np.uint8)


def preprocessing_json(spec):
    """src/core/preprocess-spec.ts preprocessingJson: what the lab reads back with the model."""
    size, resize, mode = spec["sizePx"], spec["resize"], spec["normalization"]
    background = list(spec["background"])
    constants = {
        "caffe": ("BGR", 1, list(CAFFE_MEAN_BGR), [1, 1, 1]),
        "unit": ("RGB", 1 / 255, [0, 0, 0], [1, 1, 1]),
        "symmetric": ("RGB", 1 / 127.5, [1, 1, 1], [1, 1, 1]),
        "torch": ("RGB", 1 / 255, list(TORCH_MEAN_RGB), list(TORCH_STD_RGB)),
        "div255-then-caffe": ("BGR", 1 / 255, list(CAFFE_MEAN_BGR), [1, 1, 1]),
    }[mode]
    if resize == "stretch":
        fit = f"Resize the whole image to {size} × {size}, ignoring its aspect ratio, with an antialiased bilinear filter."
    elif resize == "center-crop":
        fit = f"Take the centred square of the shorter side and resize it to {size} × {size} with an antialiased bilinear filter."
    else:
        fit = (
            f"Resize the image so that its longer side is {size} px (aspect ratio kept, antialiased bilinear filter) "
            f"and centre it on a {size} × {size} square of the background colour."
        )
    plain = {"sizePx": size, "resize": resize, "normalization": mode, "background": background}
    return {
        "format": "finetune-lab/preprocessing",
        "version": 1,
        "spec": plain,
        "specHash": fnv1a64(canonical_json({"v": 1, **plain})),
        "layout": "NHWC float32, one image [1, sizePx, sizePx, 3]",
        "channelOrder": constants[0],
        "scale": constants[1],
        "mean": constants[2],
        "std": constants[3],
        "steps": [
            "Decode the image with its EXIF orientation applied; grayscale becomes three equal channels.",
            f"Composite transparent pixels onto the opaque background RGB {', '.join(_js_number(v) for v in background)}.",
            fit,
            "Per channel, in channelOrder: (value × scale − mean) / std, values 0..255.",
        ],
    }


def _js_number(value):
    return str(int(value)) if float(value).is_integer() else repr(value)


# ---------------------------------------------------------------- the project and its run


def read_json(folder, name):
    with open(os.path.join(folder, name), encoding="utf-8") as handle:
        return json.load(handle)


class Project:
    """The unzipped project: model, labels, preprocessing, run record, parity data."""

    def __init__(self, folder):
        self.folder = folder
        self.labels = read_json(folder, "labels.json")
        self.preprocessing = read_json(folder, "preprocessing.json")
        # --check needs no run record (a bare model folder checks too); training does.
        self.run = read_json(folder, "run.json") if os.path.exists(os.path.join(folder, "run.json")) else {"runs": [{"settings": None}]}
        last = self.run["runs"][-1]
        self.settings = copy.deepcopy(last["settings"])
        # Live changes made during the last run: their final values are what it ended with.
        self.live_changes = [c for c in self.run.get("changes", []) if c["step"] >= last.get("firstStep", 0)]
        for record in self.live_changes if self.settings else []:
            self.settings["config"][record["change"]["kind"]] = record["change"]["value"]
        steps, epochs = self.run.get("steps", []), self.run.get("epochs", [])
        #: Where the lab left the model: this run goes on from there, as the lab's "train more".
        self.first_step = max((s["step"] for s in steps), default=-1) + 1
        self.first_epoch = max((e["epoch"] for e in epochs), default=-1) + 1

    def spec(self, size_px=None, normalization=None):
        spec = dict(self.preprocessing["spec"])
        if size_px is not None:
            spec["sizePx"] = size_px
        if normalization is not None:
            spec["normalization"] = normalization
        return spec


def _is_hidden(part):
    return part.startswith(".") or part == "__MACOSX" or part.lower() in ("thumbs.db", "desktop.ini")


def resolve_paths(data_dir, paths, root_name):
    """The files of run.json's paths under data_dir, which may be the dropped folder or its parent; None if any is missing."""
    candidates = [lambda p: os.path.join(data_dir, p)]
    if root_name:
        candidates.insert(0, lambda p: os.path.join(data_dir, p[len(root_name) + 1 :]) if p.startswith(root_name + "/") else os.path.join(data_dir, p))
    for candidate in candidates:
        files = [candidate(p) for p in paths]
        if all(os.path.isfile(f) for f in files):
            return files
    return None


def stratified_split(labels, keys, fraction, seed):
    """src/core/splits.ts stratifiedSplit with keys: per class, ranked by a seeded hash of each path."""
    by_class = {}
    for i, label in enumerate(labels):
        by_class.setdefault(label, []).append(i)
    train, validation = [], []
    for label in sorted(by_class):
        members = by_class[label]
        rank = {i: create_prng((int(fnv1a64(keys[i])[:8], 16) ^ (seed & MASK32)) & MASK32)() for i in members}
        order = sorted(members, key=lambda i: (rank[i], i))
        held = 0 if len(members) < 2 else min(len(members) - 1, max(1, js_round(len(members) * fraction)))
        validation += order[:held]
        train += order[held:]
    return sorted(train), sorted(validation)


def list_class_folders(data_dir, class_names):
    """ImageFolder-style: one folder per class (any depth below it). Returns (files, labels, lab-style paths)."""
    present = sorted(d for d in os.listdir(data_dir) if os.path.isdir(os.path.join(data_dir, d)) and not _is_hidden(d))
    if len(present) == 1 and present[0] not in class_names:
        # The folder that holds the dropped one: its classes are one level down.
        return list_class_folders(os.path.join(data_dir, present[0]), class_names)
    unknown = [d for d in present if d not in class_names]
    missing = [c for c in class_names if c not in present]
    if unknown or missing:
        raise SystemExit(
            f"{data_dir}: its class folders do not match labels.json"
            + (f"; not in the model: {', '.join(unknown)}" if unknown else "")
            + (f"; missing: {', '.join(missing)}" if missing else "")
        )
    root = os.path.basename(os.path.normpath(data_dir))
    files, labels, keys = [], [], []
    for label, name in enumerate(class_names):
        for folder, dirs, names in sorted(os.walk(os.path.join(data_dir, name))):
            dirs[:] = sorted(d for d in dirs if not _is_hidden(d))
            for file in sorted(names):
                if _is_hidden(file) or not file.lower().endswith(IMAGE_EXTENSIONS) or os.path.getsize(os.path.join(folder, file)) == 0:
                    continue
                path = os.path.join(folder, file)
                files.append(path)
                labels.append(label)
                keys.append(f"{root}/{os.path.relpath(path, data_dir).replace(os.sep, '/')}")
    return files, labels, keys


def dataset_splits(project, data_dir, say):
    """(train files, labels), (validation files, labels): run.json's own lists when they are all under data_dir."""
    dataset = project.run.get("dataset", {})
    index = {name: i for i, name in enumerate(project.labels)}
    lists = dataset.get("files", {})
    train, validation = lists.get("train", []), lists.get("validation", [])
    if train:
        files = resolve_paths(data_dir, [f["path"] for f in train + validation], dataset.get("rootName"))
        if files is not None:
            say(f"split: run.json's own lists ({len(train)} train, {len(validation)} validation images), found under {data_dir}")
            labels = [index[f["className"]] for f in train + validation]
            return (files[: len(train)], labels[: len(train)]), (files[len(train) :], labels[len(train) :])
        say(f"split: some of run.json's {len(train) + len(validation)} files are not under {data_dir}; using a seeded stratified split instead")
    files, labels, keys = list_class_folders(data_dir, project.labels)
    options = dataset.get("splitOptions") or {"validationFraction": 0.2, "seed": 42}
    train_ix, validation_ix = stratified_split(labels, keys, options["validationFraction"], options["seed"])
    say(f"split: stratified, seed {options['seed']}, {options['validationFraction']:.0%} validation per class ({len(train_ix)} train, {len(validation_ix)} validation images)")
    pick = lambda ix: ([files[i] for i in ix], [labels[i] for i in ix])
    return pick(train_ix), pick(validation_ix)


class ImageSet(Dataset):
    """Images preprocessed from their files; augmented (the lab's draws for this epoch) when seeded."""

    def __init__(self, files, labels, spec, augment_seed=None):
        self.files, self.labels, self.spec, self.augment_seed = files, labels, spec, augment_seed
        self.epoch = 0  # the lab's epoch number, which the augmentation draws depend on

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        rgba = decode_image(self.files[i])
        augmentation = None
        if self.augment_seed is not None:
            augmentation = augmentation_for(rgba.shape[1], rgba.shape[0], self.augment_seed, self.epoch, i)
        x = preprocess_image(rgba, self.spec, augmentation)  # [S, S, 3]
        return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))), self.labels[i]  # [3, S, S]


# ---------------------------------------------------------------- parity


def parity_check(net, project, data_dir=None, device="cpu", say=print, files_required=True):
    """
    The browser's softmax on parity.json's images against this model's, on the exported inputs;
    with data_dir, also this script's own preprocessing of the files (which must be there when
    `files_required`). Returns True when within tolerance.
    """
    parity = read_json(project.folder, "parity.json")
    size, images = parity["sizePx"], parity["images"]
    inputs = np.fromfile(os.path.join(project.folder, parity.get("inputs", "parity-inputs.bin")), dtype="<f4")
    if inputs.size != len(images) * size * size * 3:
        say(f"parity: parity-inputs.bin holds {inputs.size} floats, not {len(images)} × {size} × {size} × 3")
        return False
    if not images:
        # A run without a validation split exports no parity images: nothing vouches for the model.
        say("parity: parity.json lists no images, so the model cannot be checked" + ("" if files_required else "; training anyway"))
        return not files_required
    inputs = inputs.reshape(len(images), size, size, 3)  # NHWC, as the lab feeds its model
    expected = np.array([image["probabilities"] for image in images], dtype=np.float64)
    probabilities = predict(net, torch.from_numpy(inputs).permute(0, 3, 1, 2), device)
    worst = float(np.abs(probabilities - expected).max())
    agree = int((probabilities.argmax(1) == expected.argmax(1)).sum())
    say(f"parity: {len(images)} images at {size} px, max abs probability difference {worst:.2e} (tolerance {PROBABILITY_TOLERANCE:.0e}), top-1 agrees on {agree}/{len(images)}")
    ok = worst <= PROBABILITY_TOLERANCE
    if not ok:
        say("parity FAILED: these weights do not give the browser's outputs; the model files or this PyTorch differ from what the lab exported")
    if data_dir is None:
        return ok
    files = resolve_paths(data_dir, [image["path"] for image in images], project.run.get("dataset", {}).get("rootName"))
    if files is None:
        say(f"parity: the parity images ({', '.join(image['path'] for image in images[:3])} …) are not under {data_dir}: preprocessing not compared")
        return ok and not files_required
    files_ok = True
    spec = project.spec(size_px=size)
    own = np.stack([preprocess_image(decode_image(f), spec) for f in files])
    own_probabilities = predict(net, torch.from_numpy(own).permute(0, 3, 1, 2), device)
    for f, image, x, p, q in zip(files, images, inputs, own, own_probabilities):
        lossy = f.lower().endswith(LOSSY_EXTENSIONS)
        input_diff = float(np.abs(x - p).max())
        probability_diff = float(np.abs(q - np.array(image["probabilities"])).max())
        bad = not lossy and (input_diff > INPUT_TOLERANCE or probability_diff > PROBABILITY_TOLERANCE)
        note = " (lossy: decoders may differ by a few levels; not held to the tolerance)" if lossy else ""
        say(f"  {image['path']}: input max diff {input_diff:.2e} (0..255 units), probability max diff {probability_diff:.2e}{note}{'  FAILED' if bad else ''}")
        files_ok = files_ok and not bad
    if not files_ok:
        say("parity FAILED: this script's preprocessing of the files does not reproduce the lab's inputs")
    return ok and files_ok


@torch.no_grad()
def predict(net, x, device, batch=16):
    net.eval()
    outs = [net(x[i : i + batch].contiguous().to(device)).double().cpu() for i in range(0, len(x), batch)]
    return torch.cat(outs).numpy()  # [n, classes]


# ---------------------------------------------------------------- training


def learning_rate_at(step, schedule, learning_rate, warmup_steps, total_steps):
    """src/core/lr-schedule.ts, on the step count of the model's whole training."""
    if schedule == "constant":
        return learning_rate
    if step < warmup_steps:
        return learning_rate * (step + 1) / warmup_steps
    decay = max(1, total_steps - warmup_steps)
    progress = min(1, (step - warmup_steps) / decay)
    return 0.5 * learning_rate * (1 + math.cos(math.pi * progress))


def class_weights(labels, num_classes, weighting):
    """src/core/class-weights.ts: n / (C · n_c) over the classes the training split has."""
    counts = [labels.count(c) for c in range(num_classes)]
    if weighting == "off":
        return [1.0] * num_classes
    present = sum(1 for n in counts if n > 0)
    return [len(labels) / (present * n) if n > 0 else 0.0 for n in counts]


class KerasAdam(torch.optim.Optimizer):
    """
    Adam as Keras and the lab apply it: ε added to √v before the bias correction, which goes
    into the rate (torch.optim.Adam adds ε after it). One step count per tensor.
    """

    def __init__(self, params, lr):
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["step"] += 1
                t = state["step"]
                state["m"].mul_(ADAM_BETA1).add_(p.grad, alpha=1 - ADAM_BETA1)
                state["v"].mul_(ADAM_BETA2).addcmul_(p.grad, p.grad, value=1 - ADAM_BETA2)
                rate = group["lr"] * math.sqrt(1 - ADAM_BETA2**t) / (1 - ADAM_BETA1**t)
                p.addcdiv_(state["m"], state["v"].sqrt().add_(ADAM_EPSILON), value=-rate)


class Trainee(nn.Module):
    """The network at a freeze depth: the frozen prefix without gradients, then the trainable part and the head's logits."""

    def __init__(self, net, frozen, trainable, dropout):
        super().__init__()
        self.net, self.frozen, self.trainable, self.dropout = net, frozen, trainable, dropout

    def forward(self, x):
        outputs = {self.net.input_name: x}
        if self.frozen:
            with torch.no_grad():
                self.net.run_layers(self.frozen, outputs)
            outputs = {self.frozen[-1]: outputs[self.frozen[-1]]}
        self.net.run_layers(self.trainable, outputs, logits=True, dropout=self.dropout if self.training else 0.0)
        return outputs[self.net.output_name]  # [n, classes]


def freeze_split(net, depth):
    """src/ml/task-model.ts: depth k trains the top k blocks (17: the stem too) and always the head."""
    segments = net.segments
    if segments is None:
        raise SystemExit("model.json is not the lab's ResNet50 (a stem, 16 blocks and a head): it cannot be fine-tuned by freeze depth")
    if not 0 <= depth <= BLOCK_COUNT + 1:
        raise SystemExit(f"freeze depth {depth} is outside 0..{BLOCK_COUNT + 1}")
    blocks = segments["blocks"]
    cut = BLOCK_COUNT - min(depth, BLOCK_COUNT)
    frozen = [] if depth == BLOCK_COUNT + 1 else segments["stem"] + [n for b in blocks[:cut] for n in b]
    backbone = ([] if frozen else segments["stem"]) + [n for b in blocks[cut:] for n in b]
    return frozen, backbone, segments["head"]


def set_batch_statistics(net, names, on):
    for bn in net.batch_norms(names):
        bn.batch_statistics = on


def rng_state(device):
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def set_rng_state(state, device):
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"], device)
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def evaluate(net, images, num_classes, rank, world, device, batch):
    """Validation in inference mode (moving BatchNorm statistics, no dropout), shared over the processes."""
    net.eval()
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.float64, device=device)  # [actual, predicted]
    loss_sum = torch.zeros(1, dtype=torch.float64, device=device)
    indices = list(range(rank, len(images), world))
    with torch.no_grad():
        for start in range(0, len(indices), batch):
            items = [images[i] for i in indices[start : start + batch]]
            x = torch.stack([a for a, _ in items]).to(device)
            y = torch.tensor([b for _, b in items], device=device)
            logits = net(x, logits=True)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").double()
            confusion.index_put_((y, logits.argmax(1)), torch.ones(len(y), dtype=torch.float64, device=device), accumulate=True)
    if world > 1:
        dist.all_reduce(loss_sum)
        dist.all_reduce(confusion)
    return split_metrics(confusion, loss_sum.item())


def split_metrics(confusion, loss_sum):
    """src/core/metrics.ts: accuracy, and macro-F1 over the classes that have images (zero_division=0)."""
    count = confusion.sum().item()
    tp, support, predicted = confusion.diag(), confusion.sum(1), confusion.sum(0)
    precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), torch.zeros_like(tp))
    recall = torch.where(support > 0, tp / support.clamp(min=1), torch.zeros_like(tp))
    f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall).clamp(min=1e-300), torch.zeros_like(tp))
    macro_f1 = f1[support > 0].mean().item() if bool((support > 0).any()) else 0.0
    return {"loss": loss_sum / max(1, count), "accuracy": tp.sum().item() / max(1, count), "macro_f1": macro_f1}


def init_distributed():
    """(rank, world size, device): torchrun's environment when there is one; nccl with CUDA, else gloo."""
    cuda = torch.cuda.is_available()
    if "RANK" not in os.environ:
        return 0, 1, torch.device("cuda:0" if cuda else "cpu")
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if cuda else "gloo")
    return dist.get_rank(), dist.get_world_size(), torch.device(f"cuda:{local_rank}" if cuda else "cpu")


def file_stem(project):
    """The lab's name for the zip: the dataset's folder name (training-session.ts fileStem)."""
    name = project.run.get("dataset", {}).get("rootName") or "finetune-lab"
    return re.sub(r"^-+|-+$", "", re.sub(r"[^\w.-]+", "-", name)) or "finetune-lab"


def save_checkpoint(path, state):
    """Written next to the old one and renamed, so an interrupted write never leaves a broken checkpoint."""
    torch.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)


class Probabilities(nn.Module):
    """forward(x) alone: torch.onnx.export would trace forward's keyword defaults as inputs."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)


def export_onnx(net, path, size, labels, preprocessing, say):
    """model.onnx: NCHW preprocessed input, softmax output; class names and preprocessing in its metadata when onnx is importable."""
    dummy = torch.zeros(1, 3, size, size)
    with warnings.catch_warnings():
        # 1.13's exporter warns that it cannot constant-fold the ZeroPadding slices: harmless.
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(
            Probabilities(net).eval(), (dummy,), path, opset_version=13, input_names=["input"], output_names=["probabilities"],
            dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}},
        )
    try:
        import onnx
    except ImportError:
        say("model.onnx: the onnx package is not installed, so the class names are not in its metadata (they are in labels.json beside it)")
        return
    # torch.onnx.export (1.13) cannot write metadata_props.
    proto = onnx.load(path)
    for key, value in (("class_names", json.dumps(labels)), ("preprocessing", json.dumps(preprocessing)), ("input_layout", "NCHW float32, preprocessed")):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, path)


def train(args):
    rank, world, device = init_distributed()
    say = print if rank == 0 else (lambda *a, **k: None)
    project = Project(args.project)
    if not project.settings:
        raise SystemExit(f"{args.project} has no run.json: training continues a run and needs its settings")
    settings, config = project.settings, project.settings["config"]
    seed = config["seed"]
    torch.manual_seed(seed + rank)
    np.random.seed((seed + rank) & MASK32)
    random.seed(seed + rank)

    net = load_tfjs(project.folder).to(device)
    # The model must give the browser's outputs before it trains on: checked once, by rank 0.
    verdict = [parity_check(net, project, args.data, device, say, files_required=False) if rank == 0 else None]
    if world > 1:
        dist.broadcast_object_list(verdict, src=0)
    if not verdict[0]:
        say("refusing to train: the parity check failed (see above)")
        if world > 1:
            dist.destroy_process_group()
        sys.exit(1)

    size = args.size or settings["sizePx"]
    if not 32 <= size <= 512:
        raise SystemExit(f"--size must be from 32 to 512 px (what the lab imports), not {size}")
    epochs = args.epochs or config["epochs"]
    batch_size = args.batch_size or config["batchSize"]
    per_rank = math.ceil(batch_size / world)
    if per_rank * world != batch_size:
        say(f"note: batch size {batch_size} over {world} processes: {per_rank} each, {per_rank * world} a step")
    train_spec = project.spec(size, settings["normalization"])
    validation_spec = project.spec(size, settings.get("validationNormalization") or settings["normalization"])
    (train_files, train_labels), (validation_files, validation_labels) = dataset_splits(project, args.data, say)
    num_classes = len(project.labels)
    augment_seed = seed if settings.get("augment") else None
    train_set = ImageSet(train_files, train_labels, train_spec, augment_seed)
    validation_set = ImageSet(validation_files, validation_labels, validation_spec)
    sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=False)
    workers = args.workers if args.workers is not None else max(0, min(4, (os.cpu_count() or 1) // world - 1))
    loader = DataLoader(train_set, batch_size=per_rank, sampler=sampler, num_workers=workers)

    depth = config["freezeDepth"]
    frozen, backbone, head = freeze_split(net, depth)
    for p in net.parameters():
        p.requires_grad_(False)
    head_params, backbone_params = net.parameters_of(head), net.parameters_of(backbone)
    for p in head_params + backbone_params:
        p.requires_grad_(True)
    groups = [{"params": head_params, "lr_multiplier": 1.0}]
    if backbone_params:
        groups.append({"params": backbone_params, "lr_multiplier": config["backboneLrMultiplier"]})
    optimizer = KerasAdam(groups, config["learningRate"]) if config["optimizer"] == "adam" else torch.optim.SGD(groups, lr=config["learningRate"], momentum=config["momentum"])
    trainee = Trainee(net, frozen, backbone + head, config["dropout"])
    model = nn.parallel.DistributedDataParallel(trainee, device_ids=[device.index] if device.type == "cuda" else None) if world > 1 else trainee
    weights = torch.tensor(class_weights(train_labels, num_classes, config["classWeighting"]), device=device)

    os.makedirs(args.out, exist_ok=True)
    checkpoint_path = os.path.join(args.out, "checkpoint.pt")
    start_epoch, step, rows = 0, project.first_step, []
    if args.resume:
        checkpoint = torch.load(args.resume, map_location="cpu")
        net.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        start_epoch, step, rows = checkpoint["epoch"], checkpoint["step"], checkpoint["metrics"]
        if len(checkpoint["rng"]) == world:
            set_rng_state(checkpoint["rng"][rank], device)
        else:
            say(f"note: the checkpoint was written by {len(checkpoint['rng'])} processes, this run has {world}: random streams start anew")
        say(f"resumed {args.resume}: {start_epoch} of {epochs} epochs done")
    total_steps = project.first_step + len(loader) * epochs
    say(
        f"training: {len(train_set)} train / {len(validation_set)} validation images at {size} px, {epochs} epoch{'s' if epochs != 1 else ''} of {len(loader)} steps, "
        f"{world} process{'es' if world > 1 else ''} on {device.type}; freeze depth {depth}, {config['optimizer']} lr {config['learningRate']:g} "
        f"(backbone ×{config['backboneLrMultiplier']:g}), {config['schedule']} schedule from step {project.first_step} to {total_steps}, "
        f"BatchNorm {config['batchNormPolicy']}, class weighting {config['classWeighting']}, dropout {config['dropout']:g}, "
        f"augmentation {'on' if augment_seed is not None else 'off'}, seed {seed}"
    )
    if project.live_changes:
        say("live changes of the lab's last run, final values used: " + ", ".join(f"{c['change']['kind']}={c['change']['value']}" for c in project.live_changes))

    for epoch in range(start_epoch, epochs):
        lab_epoch = project.first_epoch + epoch
        sampler.set_epoch(epoch)
        train_set.epoch = lab_epoch
        model.train()
        set_batch_statistics(net, frozen, False)
        set_batch_statistics(net, backbone, config["batchNormPolicy"] == "train")
        totals = torch.zeros(3, dtype=torch.float64, device=device)  # unweighted loss sum, correct, images
        started = time.perf_counter()
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            rate = learning_rate_at(step, config["schedule"], config["learningRate"], config["warmupSteps"], total_steps)
            for group in optimizer.param_groups:
                group["lr"] = rate * group["lr_multiplier"]
            logits = model(x)
            losses = F.cross_entropy(logits, y, reduction="none")  # [b]
            # Σ wᵢ·CEᵢ / n (Keras' convention); DDP's gradient average makes it the whole step's batch.
            loss = (losses * weights[y]).sum() / len(y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            batch = torch.stack([losses.detach().sum().double(), (logits.argmax(1) == y).sum().double(), torch.tensor(len(y), dtype=torch.float64, device=device), loss.detach().double()])
            if world > 1:
                dist.all_reduce(batch)
            if not math.isfinite(batch[3].item()):
                say(f"the loss became {batch[3].item()} at step {step} (learning rate {rate:.1e}): stopped before updating; lower the learning rate and --resume from the last checkpoint")
                sys.exit(1)
            optimizer.step()
            totals += batch[:3]
            step += 1
        seconds = time.perf_counter() - started
        set_batch_statistics(net, backbone, False)
        validation = evaluate(net, validation_set, num_classes, rank, world, device, per_rank * 2) if len(validation_set) else None
        row = {
            "epoch": lab_epoch,
            "train_loss": totals[0].item() / max(1, totals[2].item()),
            "train_accuracy": totals[1].item() / max(1, totals[2].item()),
            "validation_loss": validation["loss"] if validation else "",
            "validation_accuracy": validation["accuracy"] if validation else "",
            "validation_macro_f1": validation["macro_f1"] if validation else "",
            "learning_rate": rate,
            "images_per_s": totals[2].item() / seconds,
            "epoch_s": time.perf_counter() - started,
        }
        rows.append(row)
        states = [None] * world
        if world > 1:
            dist.all_gather_object(states, rng_state(device))
        else:
            states = [rng_state(device)]
        if rank == 0:
            save_checkpoint(checkpoint_path, {
                "format": "finetune-lab/pytorch-checkpoint", "model": net.state_dict(), "optimizer": optimizer.state_dict(),
                "epoch": epoch + 1, "step": step, "rng": states, "metrics": rows, "settings": settings, "class_names": project.labels,
            })
            with open(os.path.join(args.out, "metrics.csv"), "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(row))
                writer.writeheader()
                writer.writerows(rows)
        val = f", validation loss {validation['loss']:.4f} accuracy {validation['accuracy']:.3f}" if validation else ""
        say(f"epoch {lab_epoch}: train loss {row['train_loss']:.4f} accuracy {row['train_accuracy']:.3f}{val}, {row['images_per_s']:.1f} images/s")

    if rank == 0:
        net.eval()
        preprocessing = preprocessing_json(validation_spec)
        run = copy.deepcopy(project.run)
        run["pytorch"] = {
            "exportedAt": datetime.now(timezone.utc).isoformat(),
            "continuesFrom": {"step": project.first_step, "epoch": project.first_epoch},
            "settings": {**settings, "sizePx": size, "config": {**config, "epochs": epochs, "batchSize": per_rank * world}},
            "steps": step,
            "epochs": rows,
            "processes": world,
            "device": device.type,
            "torch": torch.__version__,
        }
        zip_path = os.path.join(args.out, f"{file_stem(project)}-tfjs-model.zip")
        save_tfjs(net, zip_path, project.labels, preprocessing, run, size_px=size)
        cpu_net = net.to("cpu")
        export_onnx(cpu_net, os.path.join(args.out, "model.onnx"), size, project.labels, preprocessing, say)
        for name, value in (("labels.json", project.labels), ("preprocessing.json", preprocessing)):
            with open(os.path.join(args.out, name), "w", encoding="utf-8") as handle:
                json.dump(value, handle, indent=1, ensure_ascii=False)
        say(f"wrote {zip_path} (import it in the lab), {os.path.join(args.out, 'model.onnx')}, metrics.csv, checkpoint.pt")
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare this model's outputs (and with --data, its preprocessing) with the browser's")
    parser.add_argument("--data", help="the image folder: one subfolder per class (the folder dropped in the lab, or its parent)")
    parser.add_argument("--project", default=here, help="the unzipped project folder (default: this script's)")
    parser.add_argument("--epochs", type=int, help="epochs to train (default: the run's)")
    parser.add_argument("--size", type=int, help="input size in px (default: the run's)")
    parser.add_argument("--batch-size", type=int, help="images per optimizer step over all processes (default: the run's)")
    parser.add_argument("--out", default="out", help="where checkpoint.pt, metrics.csv, model.onnx and the model zip go (default: out)")
    parser.add_argument("--resume", help="a checkpoint.pt to go on from")
    parser.add_argument("--workers", type=int, help="data loading processes per training process (default: from the CPU count)")
    args = parser.parse_args()
    if args.check:
        project = Project(args.project)
        net = load_tfjs(project.folder)
        sys.exit(0 if parity_check(net, project, args.data) else 1)
    if not args.data:
        parser.error("training needs --data DIR (the image folder)")
    train(args)


if __name__ == "__main__":
    main()

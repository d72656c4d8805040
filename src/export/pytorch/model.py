"""The lab's Keras ResNet50 classifier in PyTorch, and its TF.js layers files read and written.

The network is built from model.json's own Keras topology, layer by layer, under the same layer
names, so every TF.js weight has exactly one PyTorch tensor and the lab can read the result back.
Input: NCHW float32, already preprocessed (preprocessing.json); the lab's own model is NHWC.
Only torch and the standard library are used.
"""

import copy
import json
import math
import os
import re
import zipfile

import torch
import torch.nn.functional as F
from torch import nn

#: The shard size TF.js' converter and the lab write.
SHARD_BYTES = 4 * 1024 * 1024
WEIGHTS_PREFIX = "group1-shard"
#: ResNet50's bottleneck blocks (res2a … res5c): the lab's freeze depth counts them from the top.
BLOCK_COUNT = 16


def _pair(value):
    return list(value) if isinstance(value, (list, tuple)) else [value, value]


def _same_padding(size, kernel, stride):
    """TensorFlow's 'same' padding along one axis: the odd pixel goes after, not before."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class KerasConv2d(nn.Conv2d):
    """Conv2D with Keras' 'valid' / 'same' padding (TF pads the extra pixel bottom-right)."""

    def __init__(self, in_channels, config):
        kernel = _pair(config["kernel_size"])
        stride = _pair(config.get("strides", 1))
        self.keras_padding = config.get("padding", "valid")
        if self.keras_padding not in ("valid", "same"):
            raise ValueError(f"Conv2D {config['name']}: padding {self.keras_padding!r} is not supported")
        if _pair(config.get("dilation_rate", 1)) != [1, 1]:
            raise ValueError(f"Conv2D {config['name']}: dilation is not supported")
        # 'same' at stride 1 with an odd kernel is symmetric: a plain padded conv (and plain ONNX).
        symmetric = self.keras_padding == "same" and stride == [1, 1] and all(k % 2 == 1 for k in kernel)
        padding = [k // 2 for k in kernel] if symmetric else [0, 0]
        self.dynamic_same = self.keras_padding == "same" and not symmetric
        super().__init__(in_channels, config["filters"], kernel, stride, padding, bias=config.get("use_bias", True))

    def forward(self, x):
        if self.dynamic_same:
            top, bottom = _same_padding(x.shape[2], self.kernel_size[0], self.stride[0])
            left, right = _same_padding(x.shape[3], self.kernel_size[1], self.stride[1])
            x = F.pad(x, [left, right, top, bottom])
        return super().forward(x)


class KerasBatchNorm(nn.Module):
    """
    Keras' BatchNormalization as tfjs-layers runs it. In inference mode it uses the moving
    statistics; with `batch_statistics` set (the lab's BatchNorm policy 'train', trainable blocks
    only) it normalises by the batch's mean and biased variance and moves the moving statistics
    toward them with Keras' momentum (tfjs uses the biased variance there too; PyTorch's own
    BatchNorm2d would use the unbiased one).
    """

    def __init__(self, channels, epsilon, momentum):
        super().__init__()
        self.epsilon = epsilon
        self.momentum = momentum
        self.batch_statistics = False
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x):
        if self.batch_statistics:
            mean = x.mean(dim=(0, 2, 3))
            var = x.var(dim=(0, 2, 3), unbiased=False)
            with torch.no_grad():
                self.running_mean.mul_(self.momentum).add_(mean.detach(), alpha=1 - self.momentum)
                self.running_var.mul_(self.momentum).add_(var.detach(), alpha=1 - self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        scale = self.weight * torch.rsqrt(var + self.epsilon)
        shift = self.bias - mean * scale
        return x * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)


def _activation(name, x, logits):
    if name in ("linear", None):
        return x
    if name == "relu":
        return F.relu(x)
    if name == "softmax":
        return x if logits else F.softmax(x, dim=1)
    raise ValueError(f"activation {name!r} is not supported")


def _inbound_names(layer):
    nodes = layer.get("inbound_nodes") or []
    if not nodes:
        return []
    if not isinstance(nodes[0], list):
        raise ValueError(f"layer {layer['name']}: only Keras 2 style inbound_nodes are supported (what TF.js writes)")
    return [inbound[0] for inbound in nodes[0]]


class KerasResNet50(nn.Module):
    """
    A Keras functional model (the lab's ResNet50 classifier) as PyTorch modules named after its
    layers. forward(x) takes NCHW preprocessed images and returns the output layer's values
    (softmax probabilities); forward(x, logits=True, dropout=p) returns the logits before the
    softmax, with dropout on the dense layer's input, as the lab trains its head.
    """

    def __init__(self, model_config, weight_shapes):
        super().__init__()
        config = model_config["config"]
        self.layer_specs = []
        self.input_name = config["input_layers"][0][0]
        self.output_name = config["output_layers"][0][0]
        channels = {}  # channel count of every layer's output, for the BatchNorm sizes
        for layer in config["layers"]:
            name, kind, cfg = layer["name"], layer["class_name"], layer["config"]
            inputs = _inbound_names(layer)
            if cfg.get("data_format", "channels_last") != "channels_last":
                raise ValueError(f"layer {name}: only channels_last models are supported")
            if "." in name or hasattr(nn.Module, name):
                raise ValueError(f"layer name {name!r} cannot be a PyTorch module name")
            module = None
            if kind == "InputLayer":
                shape = cfg.get("batch_input_shape") or cfg.get("batch_shape")
                channels[name] = shape[-1]
            elif kind == "Conv2D":
                kernel = weight_shapes[f"{name}/kernel"]  # Keras layout [kh, kw, in, out]
                module = KerasConv2d(kernel[2], cfg)
                channels[name] = cfg["filters"]
            elif kind == "BatchNormalization":
                axis = cfg.get("axis", -1)
                axis = axis[0] if isinstance(axis, list) else axis
                if axis not in (3, -1) or not cfg.get("center", True) or not cfg.get("scale", True):
                    raise ValueError(f"BatchNormalization {name}: only channel-axis BatchNorm with centre and scale is supported")
                module = KerasBatchNorm(channels[inputs[0]], cfg["epsilon"], cfg["momentum"])
                channels[name] = channels[inputs[0]]
            elif kind == "Dense":
                kernel = weight_shapes[f"{name}/kernel"]  # [in, units]
                module = nn.Linear(kernel[0], cfg["units"], bias=cfg.get("use_bias", True))
                channels[name] = cfg["units"]
            elif kind in ("ZeroPadding2D", "Activation", "ReLU", "Add", "MaxPooling2D", "GlobalAveragePooling2D", "Dropout"):
                channels[name] = channels[inputs[0]]
            else:
                raise ValueError(f"layer {name}: Keras layer {kind} is not supported")
            if module is not None:
                self.add_module(name, module)
            self.layer_specs.append({"name": name, "kind": kind, "config": cfg, "inputs": inputs})
        self.layer_by_name = {spec["name"]: spec for spec in self.layer_specs}
        self.segments = self._segment()

    def _segment(self):
        """
        The lab's cut (src/ml/segments.ts): the stem ends at the first max pooling, a block at each
        ReLU of a residual sum, the head is the rest. Names of layers, per segment.
        """
        kinds = {spec["name"]: spec["kind"] for spec in self.layer_specs}
        stem, blocks, current = None, [], []
        for spec in self.layer_specs[1:]:
            current.append(spec["name"])
            if stem is None and spec["kind"] == "MaxPooling2D":
                stem, current = current, []
            elif (
                stem is not None
                and len(blocks) < BLOCK_COUNT
                and spec["kind"] in ("Activation", "ReLU")
                and len(spec["inputs"]) == 1
                and kinds[spec["inputs"][0]] == "Add"
            ):
                blocks.append(current)
                current = []
        if stem is None or len(blocks) != BLOCK_COUNT or not current:
            return None  # not a ResNet50: it still runs, but cannot be trained by freeze depth
        return {"stem": stem, "blocks": blocks, "head": current}

    def run_layers(self, names, outputs, logits=False, dropout=0.0):
        """
        Runs the named layers in order. `outputs` maps layer names to tensors; each is dropped after
        its last reader among `names` (what autograd needs it keeps), the others stay.
        """
        specs = self.layer_by_name
        last_reader = {source: position for position, name in enumerate(names) for source in specs[name]["inputs"]}
        for position, name in enumerate(names):
            spec = specs[name]
            kind, cfg = spec["kind"], spec["config"]
            args = [outputs[i] for i in spec["inputs"]]
            x = args[0] if args else None
            if kind in ("Conv2D", "BatchNormalization"):
                y = getattr(self, name)(x)
                y = _activation(cfg.get("activation", "linear"), y, False) if kind == "Conv2D" else y
            elif kind == "Dense":
                if dropout > 0:
                    x = F.dropout(x, dropout, training=True)
                y = _activation(cfg.get("activation", "linear"), getattr(self, name)(x), logits and name == self.output_name)
            elif kind == "ZeroPadding2D":
                padding = cfg["padding"]
                (top, bottom), (left, right) = [_pair(p) for p in _pair(padding)]
                y = F.pad(x, [left, right, top, bottom])
            elif kind == "Activation":
                y = _activation(cfg["activation"], x, False)
            elif kind == "ReLU":
                y = F.relu(x)
            elif kind == "Add":
                y = args[0]
                for other in args[1:]:
                    y = y + other
            elif kind == "MaxPooling2D":
                pool, stride = _pair(cfg["pool_size"]), _pair(cfg.get("strides") or cfg["pool_size"])
                if cfg.get("padding", "valid") == "same":
                    top, bottom = _same_padding(x.shape[2], pool[0], stride[0])
                    left, right = _same_padding(x.shape[3], pool[1], stride[1])
                    x = F.pad(x, [left, right, top, bottom], value=float("-inf"))
                y = F.max_pool2d(x, pool, stride)
            elif kind == "GlobalAveragePooling2D":
                y = x.mean(dim=(2, 3))  # [n, channels]
            elif kind == "Dropout":
                y = x
            else:
                raise ValueError(f"layer {name}: {kind} cannot run")
            outputs[name] = y
            for source in spec["inputs"]:
                if last_reader[source] == position:
                    outputs.pop(source, None)
        return outputs

    def forward(self, x, logits=False, dropout=0.0):
        outputs = self.run_layers([s["name"] for s in self.layer_specs[1:]], {self.input_name: x}, logits, dropout)
        return outputs[self.output_name]  # [n, classes]

    def batch_norms(self, names):
        return [getattr(self, n) for n in names if isinstance(getattr(self, n, None), KerasBatchNorm)]

    def parameters_of(self, names):
        return [p for n in names if hasattr(self, n) and isinstance(getattr(self, n), nn.Module) for p in getattr(self, n).parameters()]


# Keras weight name → (PyTorch attribute, Keras array → PyTorch tensor, PyTorch tensor → Keras array).
_CONV = lambda t: t.permute(3, 2, 0, 1)  # [kh, kw, in, out] → [out, in, kh, kw]
_CONV_BACK = lambda t: t.permute(2, 3, 1, 0)
_DENSE = lambda t: t.t()  # [in, out] → [out, in]
_SAME = lambda t: t
_WEIGHT_MAP = {
    ("Conv2D", "kernel"): ("weight", _CONV, _CONV_BACK),
    ("Conv2D", "bias"): ("bias", _SAME, _SAME),
    ("Dense", "kernel"): ("weight", _DENSE, _DENSE),
    ("Dense", "bias"): ("bias", _SAME, _SAME),
    ("BatchNormalization", "gamma"): ("weight", _SAME, _SAME),
    ("BatchNormalization", "beta"): ("bias", _SAME, _SAME),
    ("BatchNormalization", "moving_mean"): ("running_mean", _SAME, _SAME),
    ("BatchNormalization", "moving_variance"): ("running_var", _SAME, _SAME),
}


def _split_weight_name(name):
    """'conv1/kernel' → ('conv1', 'kernel'); a longer scope keeps its last two parts."""
    parts = re.sub(r":\d+$", "", name).split("/")
    if len(parts) < 2:
        raise ValueError(f"weight {name!r} is not named layer/weight")
    return parts[-2], parts[-1]


def _manifest_entries(model_json):
    return [(group, entry) for group in model_json["weightsManifest"] for entry in group["weights"]]


def _target(model, kinds, name):
    layer, weight = _split_weight_name(name)
    key = (kinds.get(layer), weight)
    if key not in _WEIGHT_MAP:
        raise ValueError(f"weight {name}: no PyTorch counterpart for a {kinds.get(layer)} layer's {weight}")
    attribute, to_torch, to_keras = _WEIGHT_MAP[key]
    return getattr(getattr(model, layer), attribute), to_torch, to_keras


def _read(opener, name):
    with opener(name) as handle:
        return handle.read()


def _project_reader(source):
    """A function name → bytes over a project folder or a zip of one (its files at any depth)."""
    if os.path.isdir(source):
        return lambda name: _read(lambda n: open(os.path.join(source, n), "rb"), name)
    archive = zipfile.ZipFile(source)
    model_path = next((n for n in archive.namelist() if n.endswith("model.json")), None)
    prefix = model_path[: -len("model.json")] if model_path else ""
    return lambda name: archive.read(prefix + name)


def load_tfjs(source):
    """
    The classifier of a TF.js layers model (a folder or a zip holding model.json and its shards),
    as a KerasResNet50 in eval mode, with `.model_json` kept for save_tfjs. Weights must be float32.
    """
    read = _project_reader(source)
    model_json = json.loads(read("model.json"))
    entries = _manifest_entries(model_json)
    for _, entry in entries:
        if entry.get("dtype", "float32") != "float32" or entry.get("quantization"):
            raise ValueError(f"weight {entry['name']} is {entry.get('dtype')} / quantized; only float32 weights are supported")
    shapes = {re.sub(r":\d+$", "", e["name"]): e["shape"] for _, e in entries}
    model = KerasResNet50(model_json["modelTopology"]["model_config"], {"/".join(_split_weight_name(k)): v for k, v in shapes.items()})
    kinds = {spec["name"]: spec["kind"] for spec in model.layer_specs}
    loaded = set()
    for group in model_json["weightsManifest"]:
        data = b"".join(read(path) for path in group["paths"])
        offset = 0
        for entry in group["weights"]:
            count = math.prod(entry["shape"])
            if offset + 4 * count > len(data):
                raise ValueError(f"the weight files end before weight {entry['name']}: a shard is missing or truncated")
            values = torch.frombuffer(bytearray(data[offset : offset + 4 * count]), dtype=torch.float32).reshape(entry["shape"])
            offset += 4 * count
            target, to_torch, _ = _target(model, kinds, entry["name"])
            value = to_torch(values)
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(f"weight {entry['name']}: shape {list(value.shape)} does not fit {list(target.shape)}")
            with torch.no_grad():
                target.copy_(value)
            loaded.add(id(target))
    missing = [n for n, t in list(model.named_parameters()) + list(model.named_buffers()) if id(t) not in loaded]
    if missing:
        raise ValueError(f"model.json lists no weights for {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}")
    model.model_json = model_json
    return model.eval()


def _json_bytes(value):
    return json.dumps(value, indent=1).encode("utf-8")


def save_tfjs(model, destination, labels, preprocessing, run=None, size_px=None):
    """
    Writes the model back in the lab's "tfjs-model.zip" layout: model.json (the topology it was
    loaded from, the input size set to `size_px` when given) with its weights in the manifest's
    order, 4 MB shards, labels.json, preprocessing.json and run.json. `destination` ending in
    .zip is written as a zip (what the lab's "import model" reads), anything else as a folder.
    """
    model_json = copy.deepcopy(model.model_json)
    config = model_json["modelTopology"]["model_config"]["config"]
    if size_px is not None:
        for layer in config["layers"]:
            if layer["class_name"] == "InputLayer":
                key = "batch_input_shape" if "batch_input_shape" in layer["config"] else "batch_shape"
                layer["config"][key] = [None, size_px, size_px, layer["config"][key][-1]]
    kinds = {spec["name"]: spec["kind"] for spec in model.layer_specs}
    weights, chunks = [], []
    for _, entry in _manifest_entries(model_json):
        target, _, to_keras = _target(model, kinds, entry["name"])
        value = to_keras(target.detach().to("cpu", torch.float32)).contiguous()
        weights.append({"name": entry["name"], "shape": list(value.shape), "dtype": "float32"})
        chunks.append(value.numpy().astype("<f4").tobytes())
    data = b"".join(chunks)
    shard_count = max(1, math.ceil(len(data) / SHARD_BYTES))
    paths = [f"{WEIGHTS_PREFIX}{i + 1}of{shard_count}.bin" for i in range(shard_count)]
    model_json["weightsManifest"] = [{"paths": paths, "weights": weights}]
    files = {
        "model.json": _json_bytes(model_json),
        "labels.json": _json_bytes(list(labels)),
        "preprocessing.json": _json_bytes(preprocessing),
    }
    if run is not None:
        files["run.json"] = _json_bytes(run)
    shards = {path: data[i * SHARD_BYTES : (i + 1) * SHARD_BYTES] for i, path in enumerate(paths)}
    if str(destination).endswith(".zip"):
        with zipfile.ZipFile(destination, "w") as archive:
            for name, content in files.items():
                archive.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
            # Float weights barely compress: stored, as the lab stores them.
            for name, content in shards.items():
                archive.writestr(name, content, compress_type=zipfile.ZIP_STORED)
    else:
        os.makedirs(destination, exist_ok=True)
        for name, content in {**files, **shards}.items():
            with open(os.path.join(destination, name), "wb") as handle:
                handle.write(content)
    return destination

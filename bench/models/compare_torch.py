"""PyTorch's side of bench/models/compare.mjs: the same products, convolutions and models, timed the same way.

Run by compare.mjs as `/usr/bin/python3 bench/models/compare_torch.py --threads 2 ...`; prints one JSON object.
PyTorch comes from Debian's python3-torch (1.13, CPU): `apt-get install -y python3-torch`, a benchmark-only
dependency (never in CI's test path). Each figure is the median wall time of --runs runs after --warmup
unmeasured ones, with the median CPU time of the process (every thread) beside it.
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--parts", default="matmul,conv,models")
parser.add_argument("--sizes", default="256,512,1024,2048")
parser.add_argument("--runs", type=int, default=7)
parser.add_argument("--warmup", type=int, default=2)
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--models", default="image,speech,text")
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(1)


def measure(fn, runs=args.runs, warmup=args.warmup):
    for _ in range(warmup):
        fn()
    walls, cpus = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    return {"wall_ms": round(statistics.median(walls), 3), "best_wall_ms": round(min(walls), 3),
            "cpu_ms": round(statistics.median(cpus), 3), "runs": runs}


# Debian's torch calls whichever BLAS the libblas.so.3 alternative points at: the reference BLAS (~6 GFLOPS
# at 1024³ on the development machine) unless OpenBLAS is installed (~170 GFLOPS on 2 threads). Record which.
BLAS = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": BLAS, "loadavg_at_start": os.getloadavg()}

if "matmul" in args.parts:
    out["matmul"] = {}
    for n in [int(s) for s in args.sizes.split(",")]:
        a, b = torch.randn(n, n), torch.randn(n, n)
        r = measure(lambda: torch.mm(a, b), runs=3 if n >= 2048 else args.runs)
        r["gflops"] = round(2 * n ** 3 / r["wall_ms"] / 1e6, 2)
        out["matmul"][str(n)] = r

# The article's first two convolutions, batch 32, 'valid': x [32,64,64,3] * [3,3,3,32] and
# x [32,31,31,32] * [3,3,32,64]. PyTorch is channels-first; the products are the same.
CONV_LAYERS = {"conv1": ([32, 3, 64, 64], [32, 3, 3, 3]), "conv2": ([32, 32, 31, 31], [64, 32, 3, 3])}
def backward(dy, x, w, mask):
    return torch.ops.aten.convolution_backward(dy, x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, list(mask))


if "conv" in args.parts:
    out["conv"] = {}
    for name, (xs, ws) in CONV_LAYERS.items():
        x, w = torch.randn(*xs), torch.randn(*ws)
        y = torch.nn.functional.conv2d(x, w)
        dy = torch.randn_like(y)
        out["conv"][name] = {
            "forward": measure(lambda: torch.nn.functional.conv2d(x, w)),
            # what autograd runs for a conv2d: aten's convolution_backward, asked for one gradient at a time
            "backprop_input": measure(lambda: backward(dy, x, w, (True, False, False))),
            "backprop_filter": measure(lambda: backward(dy, x, w, (False, True, False))),
        }


class KerasBatchNorm(nn.Module):
    """Keras' BatchNormalization over the last axis of [B, ..., C] (momentum 0.99, epsilon 1e-3)."""
    def __init__(self, c):
        super().__init__()
        self.bn = nn.BatchNorm1d(c, eps=1e-3, momentum=0.01)

    def forward(self, x):
        shape = x.shape
        return self.bn(x.reshape(-1, shape[-1])).reshape(shape)


class Image(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(3, 32, 3), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01)
        self.c2, self.b2 = nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01)
        self.d1, self.b3, self.d2 = nn.Linear(14 * 14 * 64, 128), nn.BatchNorm1d(128, eps=1e-3, momentum=0.01), nn.Linear(128, 10)

    def forward(self, x):  # x [B, 3, 64, 64]
        x = nn.functional.max_pool2d(self.b1(torch.relu(self.c1(x))), 2)
        x = nn.functional.max_pool2d(self.b2(torch.relu(self.c2(x))), 2)
        x = self.b3(torch.relu(self.d1(x.flatten(1))))
        return self.d2(x)  # logits: softmax is in the loss


class Speech(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.b1 = nn.LSTM(40, 128, batch_first=True), KerasBatchNorm(128)
        self.l2, self.b2 = nn.LSTM(128, 64, batch_first=True), KerasBatchNorm(64)
        self.d = nn.Linear(64, 10)

    def forward(self, x):
        x = self.b1(self.l1(x)[0])
        x = self.b2(self.l2(x)[0][:, -1])
        return self.d(x)


class Text(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.b1 = nn.LSTM(300, 128, batch_first=True, bidirectional=True), KerasBatchNorm(256)
        self.l2, self.b2 = nn.LSTM(256, 64, batch_first=True, bidirectional=True), KerasBatchNorm(128)
        self.d = nn.Linear(128, 1)

    def forward(self, x):
        x = self.b1(self.l1(x)[0])
        h = self.l2(x)[1][0]  # final hidden state of each direction: [2, B, 64]
        x = self.b2(torch.cat([h[0], h[1]], dim=1))
        return self.d(x)


MODELS = {
    "image": (Image, [3, 64, 64], 10, 1627338),
    "speech": (Speech, [50, 40], 10, 137354),
    "text": (Text, [40, 300], 2, 605313),
}

if "models" in args.parts:
    out["models"] = {}
    for name in args.models.split(","):
        make, shape, classes, keras_params = MODELS[name]
        model = make()
        # Keras counts BatchNorm's moving mean and variance as (non-trainable) parameters; PyTorch keeps them as buffers
        params = sum(p.numel() for p in model.parameters()) + sum(b.numel() for n, b in model.named_buffers() if "running" in n)
        x = torch.randn(args.batch, *shape)
        if name == "text":
            y = torch.randint(0, 2, (args.batch, 1)).float()
            loss_fn = nn.BCEWithLogitsLoss()
        else:
            y = torch.randint(0, classes, (args.batch,))
            loss_fn = nn.CrossEntropyLoss()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)

        def train():
            model.train()
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss.item()

        def predict():
            model.eval()
            with torch.no_grad():
                return model(x).numpy()

        out["models"][name] = {"params": params, "keras_params": keras_params,
                               "train": measure(train, runs=5), "predict": measure(predict, runs=5)}

out["loadavg_at_end"] = os.getloadavg()
print(json.dumps(out))

"""PyTorch's CUDA step of the article's models, for the device run's comparison (bench/device/run.sh).

The same architectures as bench/models/models-gradlab.mjs (Keras's layers, written in PyTorch): the
image model at batch 32, the LSTM models (speech, text) at batch 128, one Adam step each (forward,
backward, update, and reading the loss back as a Python float, as gradlab's trainOnBatch does), float32
with TF32 off (gradlab's kernels are plain float32). Median ms of 20 steps after 5 warm-up steps, and
float32 matmul at n = 4096 (TF32 off) for the TFLOPS ceiling beside gradlab's.
Writes one JSON object to --out and stdout; where torch or CUDA is missing, says so in the JSON.
"""
import argparse
import json
import statistics
import time


def build(torch, name):
    nn = torch.nn

    class SeqBN(nn.Module):
        """Keras's BatchNormalization on [N, T, C]: statistics over batch and time, per feature."""

        def __init__(self, c):
            super().__init__()
            self.bn = nn.BatchNorm1d(c, eps=1e-3, momentum=0.01)

        def forward(self, x):
            return self.bn(x.transpose(1, 2)).transpose(1, 2)

    class Recurrent(nn.Module):
        def __init__(self, name):
            super().__init__()
            bi = name == 'text'
            features, first, second = (40, 128, 64) if name == 'speech' else (300, 128, 64)
            width = 2 if bi else 1
            self.lstm1 = nn.LSTM(features, first, batch_first=True, bidirectional=bi)
            self.bn1 = SeqBN(first * width)
            self.lstm2 = nn.LSTM(first * width, second, batch_first=True, bidirectional=bi)
            self.bn2 = nn.BatchNorm1d(second * width, eps=1e-3, momentum=0.01)
            self.out = nn.Linear(second * width, 10 if name == 'speech' else 1)
            self.bi = bi

        def forward(self, x):
            h, _ = self.lstm1(x)
            h = self.bn1(h)
            _, (last, _) = self.lstm2(h)
            last = torch.cat([last[0], last[1]], dim=1) if self.bi else last[-1]
            return self.out(self.bn2(last))

    if name == 'image':
        return nn.Sequential(
            nn.Conv2d(3, 32, 3), nn.ReLU(), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 14 * 14, 128), nn.ReLU(), nn.BatchNorm1d(128, eps=1e-3, momentum=0.01),
            nn.Linear(128, 10))
    return Recurrent(name)


def step_time(torch, name, batch, device):
    torch.manual_seed(1)
    model = build(torch, name).to(device)
    shape = {'image': (batch, 3, 64, 64), 'speech': (batch, 50, 40), 'text': (batch, 40, 300)}[name]
    x = torch.randn(*shape, device=device)
    if name == 'text':
        y = torch.randint(0, 2, (batch, 1), device=device).float()
        loss_fn = torch.nn.BCEWithLogitsLoss()
    else:
        y = torch.randint(0, 10, (batch,), device=device)
        loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    params = sum(p.numel() for p in model.parameters())

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()  # the readback, as gradlab's trainOnBatch resolves to the loss

    for _ in range(5):
        step()
    times = []
    for _ in range(20):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return {'batch': batch, 'params': params, 'ms': round(statistics.median(times), 3), 'best_ms': round(min(times), 3), 'runs': len(times)}


def matmul_tflops(torch, n, device):
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    runs = 10
    start = time.perf_counter()
    for _ in range(runs):
        a @ b
    torch.cuda.synchronize()
    ms = (time.perf_counter() - start) * 1000 / runs
    return {'n': n, 'ms': round(ms, 3), 'tflops': round(2 * n ** 3 / (ms * 1e9), 2)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--out')
    parser.add_argument('--device', default='cuda')
    args = parser.parse_args()
    result = {}
    try:
        import torch
    except ImportError as error:
        result['skipped'] = f'torch is not installed here: {error}'
    else:
        result['torch'] = torch.__version__
        if args.device == 'cuda' and not torch.cuda.is_available():
            result['skipped'] = 'torch sees no CUDA device'
        else:
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
            if args.device == 'cuda':
                result['gpu'] = torch.cuda.get_device_name(0)
            result['note'] = 'float32, TF32 off; median ms of 20 Adam steps after 5, each ending in loss.item()'
            result['steps'] = {name: step_time(torch, name, batch, args.device)
                               for name, batch in (('image', 32), ('speech', 128), ('text', 128))}
            if args.device == 'cuda':
                result['matmul_float32'] = matmul_tflops(torch, 4096, args.device)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')


if __name__ == '__main__':
    main()

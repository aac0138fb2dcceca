"""Training throughput of HeadTracker's default architecture in PyTorch, for headtracker-bench.

The same network as the C# trainer builds for `--arch blazeface --heads center,keypoints,box,pose,mask`
(BlazeFace backbone, spatial trunks, 6D pose head, U-Net mask decoder), the same step (forward,
sum of MSE losses, backward, AdamW), on random 128x128 batches. Prints one JSON line.
Run with Debian's system python3 and python3-torch: /usr/bin/python3 pytorch_train.py BATCH THREADS STEPS
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BLOCKS = [(24, 24, 1), (24, 28, 1), (28, 32, 2), (32, 36, 1), (36, 42, 1), (42, 48, 2), (48, 56, 1), (56, 64, 1),
          (64, 72, 1), (72, 80, 1), (80, 88, 1), (88, 96, 2), (96, 96, 1), (96, 96, 1), (96, 96, 1), (96, 96, 1)]
TAPS = [1, 4, 10, 15]


class BlazeBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride, self.pad = stride, cout - cin
        self.depthwise = nn.Conv2d(cin, cin, 3, stride, 1 if stride == 1 else 0, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        h = F.pad(x, (0, 1, 0, 1)) if self.stride == 2 else x
        h = self.pointwise(self.depthwise(h))
        skip = F.max_pool2d(x, 2, 2) if self.stride == 2 else x
        if self.pad > 0:
            skip = F.pad(skip, (0, 0, 0, 0, 0, self.pad))
        return F.relu(h + skip)


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 24, 5, 2)
        self.blocks = nn.ModuleList([BlazeBlock(*b) for b in BLOCKS])

    def forward(self, x):
        h = F.relu(self.stem(F.pad(x, (1, 2, 1, 2))))
        features = []
        for i, block in enumerate(self.blocks):
            h = block(h)
            if i in TAPS:
                features.append(h)
        return features


class Trunk(nn.Module):
    def __init__(self, channels=96, cells=8, reduced=16, hidden=128):
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1, bias=False)
        self.bn = nn.BatchNorm2d(reduced)
        self.fc = nn.Linear(reduced * cells * cells, hidden)

    def forward(self, x):
        return F.relu(self.fc(F.relu(self.bn(self.reduce(x))).flatten(1)))


class Linear(nn.Module):
    def __init__(self, outputs):
        super().__init__()
        self.trunk, self.output = Trunk(), nn.Linear(128, outputs)

    def forward(self, features):
        return self.output(self.trunk(features[-1]))


def six_d_to_matrix(o):
    a, b = o[:, :3], o[:, 3:]
    e1 = a / a.norm(dim=1, keepdim=True).clamp_min(1e-8)
    u = b - (e1 * b).sum(1, keepdim=True) * e1
    e2 = u / u.norm(dim=1, keepdim=True).clamp_min(1e-8)
    e3 = e1[:, [1, 2, 0]] * e2[:, [2, 0, 1]] - e1[:, [2, 0, 1]] * e2[:, [1, 2, 0]]
    return torch.stack([e1, e2, e3], 2)


class Mask(nn.Module):
    def __init__(self, channels=(28, 42, 88, 96), width=32):
        super().__init__()
        blocks, c = [], channels[-1]
        for level in range(len(channels) - 2, -1, -1):
            blocks.append(nn.Sequential(nn.Conv2d(c + channels[level], width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()))
            c = width
        self.blocks, self.output = nn.ModuleList(blocks), nn.Conv2d(width, 1, 1)

    def forward(self, features):
        x = features[-1]
        for i, block in enumerate(self.blocks):
            x = block(torch.cat([F.interpolate(x, scale_factor=2, mode="nearest"), features[len(features) - 2 - i]], 1))
        return self.output(F.interpolate(x, scale_factor=2, mode="nearest"))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.center, self.keypoints, self.box, self.pose = Linear(2), Linear(12), Linear(5), Linear(6)
        self.mask = Mask()

    def forward(self, x):
        f = self.backbone(x)
        box = self.box(f)
        return [torch.sigmoid(self.center(f)) * 2 - 1, (torch.sigmoid(self.keypoints(f)) * 2 - 1).reshape(-1, 6, 2),
                torch.cat([torch.sigmoid(box[:, :4]), box[:, 4:]], 1), six_d_to_matrix(self.pose(f)), self.mask(f)]


def main():
    batch, threads, steps = (int(a) for a in sys.argv[1:4])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = Net().train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, 128, 128)
    targets = [t.detach().clone().uniform_(-1, 1) for t in net(x)]

    def step():
        optimizer.zero_grad()
        loss = sum(F.mse_loss(o, t) for o, t in zip(net(x), targets))
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({"framework": "pytorch " + torch.__version__, "threads": threads, "batch": batch,
                      "steps": steps, "seconds": seconds, "images_per_second": batch * steps / seconds,
                      "parameters": sum(p.numel() for p in net.parameters())}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Builds the modern benchmark set: seven models of today's architectures, written here in torch
with seeded random weights (speed does not depend on the values) and exported by torch.onnx.

    make_modern_bench.py OUT [--only NAME,...]

Writes OUT/NAME.onnx and OUT/NAME.npz (the benchmark input, keyed by graph input name) for:
  mobilenetv3_large  MobileNetV3-Large (the paper's table): 3x3/5x5 depthwise at stride 1 and 2,
                     hard-swish, squeeze-and-excitation with hard-sigmoid; 1x3x224x224.
  efficientnet_b0    EfficientNet-B0: MBConv with SiLU (Sigmoid + Mul) and SE; 1x3x224x224.
  convnext_tiny      ConvNeXt-Tiny: 7x7 depthwise, LayerNormalization, GELU (erf, spelled out by
                     the exporter), Linear layers in NHWC; 1x3x224x224.
  yolov8n            a YOLOv8n-shaped detector: Conv+BN+SiLU, C2f, SPPF, nearest Resize, Concat,
                     the decoupled head; 1x3x640x640.
  bert_minilm        a MiniLM-shaped sentence encoder (6 layers, hidden 384, 12 heads, FFN 1536,
                     GELU erf, attention with a padding mask); input ids and mask 8x128.
  crnn_bilstm        an OCR recogniser: a VGG-style CNN over a 1x32x100 line, two bidirectional
                     LSTM(256) layers over 25 steps, a Linear(512, 6000) character head.
  gru_speech         a speech model: Conv1d front end and two bidirectional GRU(256) layers over
                     200 frames of 80 filterbank features, a Linear(512, 29) head.
  gelu_tanh_mlp      a transformer MLP block with the tanh form of GELU (GPT-2 style), 8x128x768.
Needs torch (tools/requirements-bench.txt). Exported with the TorchScript exporter at opset 17, so
SiLU and GELU arrive spelled out as exporters have written them for years.
"""
import argparse
import math
import os
import sys
import warnings

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

warnings.filterwarnings("ignore")
OPSET = 17


def divisible(v, d=8):
    return max(d, int(v + d / 2) // d * d)


class ConvBN(nn.Sequential):
    def __init__(self, cin, cout, k, s=1, groups=1, act=nn.ReLU):
        layers = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
        if act is not None:
            layers.append(act())
        super().__init__(*layers)


class SqueezeExcite(nn.Module):
    def __init__(self, c, squeezed, act=nn.ReLU, gate=nn.Hardsigmoid):
        super().__init__()
        self.reduce, self.expand = nn.Conv2d(c, squeezed, 1), nn.Conv2d(squeezed, c, 1)
        self.act, self.gate = act(), gate()

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * self.gate(self.expand(self.act(self.reduce(s))))


class InvertedResidual(nn.Module):
    def __init__(self, cin, k, exp, cout, se, act, s, se_channels, se_act, se_gate):
        super().__init__()
        layers = [] if exp == cin else [ConvBN(cin, exp, 1, act=act)]
        layers.append(ConvBN(exp, exp, k, s, groups=exp, act=act))
        if se:
            layers.append(SqueezeExcite(exp, se_channels, se_act, se_gate))
        layers.append(ConvBN(exp, cout, 1, act=None))
        self.body = nn.Sequential(*layers)
        self.residual = s == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


def mobilenetv3_large():
    table = [(3, 16, 16, False, "RE", 1), (3, 64, 24, False, "RE", 2), (3, 72, 24, False, "RE", 1),
             (5, 72, 40, True, "RE", 2), (5, 120, 40, True, "RE", 1), (5, 120, 40, True, "RE", 1),
             (3, 240, 80, False, "HS", 2), (3, 200, 80, False, "HS", 1), (3, 184, 80, False, "HS", 1),
             (3, 184, 80, False, "HS", 1), (3, 480, 112, True, "HS", 1), (3, 672, 112, True, "HS", 1),
             (5, 672, 160, True, "HS", 2), (5, 960, 160, True, "HS", 1), (5, 960, 160, True, "HS", 1)]
    layers, cin = [ConvBN(3, 16, 3, 2, act=nn.Hardswish)], 16
    for k, exp, cout, se, nl, s in table:
        act = nn.ReLU if nl == "RE" else nn.Hardswish
        layers.append(InvertedResidual(cin, k, exp, cout, se, act, s, divisible(exp // 4), nn.ReLU, nn.Hardsigmoid))
        cin = cout
    layers += [ConvBN(cin, 960, 1, act=nn.Hardswish), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
               nn.Linear(960, 1280), nn.Hardswish(), nn.Linear(1280, 1000)]
    return nn.Sequential(*layers), {"image": torch.rand(1, 3, 224, 224) * 2 - 1}


def efficientnet_b0():
    stages = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
              (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
    layers, cin = [ConvBN(3, 32, 3, 2, act=nn.SiLU)], 32
    for expand, k, s, cout, repeats in stages:
        for i in range(repeats):
            layers.append(InvertedResidual(cin, k, cin * expand, cout, True, nn.SiLU, s if i == 0 else 1,
                                           max(1, cin // 4), nn.SiLU, nn.Sigmoid))
            cin = cout
    layers += [ConvBN(cin, 1280, 1, act=nn.SiLU), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, 1000)]
    return nn.Sequential(*layers), {"image": torch.rand(1, 3, 224, 224) * 2 - 1}


class ChannelsFirstNorm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = nn.LayerNorm(c, eps=1e-6)

    def forward(self, x):
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.norm = nn.LayerNorm(c, eps=1e-6)
        self.up, self.down = nn.Linear(c, 4 * c), nn.Linear(4 * c, c)
        self.gamma = nn.Parameter(torch.full((c,), 0.1))

    def forward(self, x):
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.gamma * self.down(F.gelu(self.up(self.norm(y))))
        return x + y.permute(0, 3, 1, 2)


def convnext_tiny():
    dims, depths = (96, 192, 384, 768), (3, 3, 9, 3)
    layers = [nn.Conv2d(3, dims[0], 4, 4), ChannelsFirstNorm(dims[0])]
    for i, (d, n) in enumerate(zip(dims, depths)):
        if i:
            layers += [ChannelsFirstNorm(dims[i - 1]), nn.Conv2d(dims[i - 1], d, 2, 2)]
        layers += [ConvNeXtBlock(d) for _ in range(n)]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.LayerNorm(dims[-1], eps=1e-6), nn.Linear(dims[-1], 1000)]
    return nn.Sequential(*layers), {"image": torch.rand(1, 3, 224, 224) * 2 - 1}


def silu_conv(cin, cout, k=1, s=1):
    return ConvBN(cin, cout, k, s, act=nn.SiLU)


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut):
        super().__init__()
        self.a, self.b, self.shortcut = silu_conv(c, c, 3), silu_conv(c, c, 3), shortcut

    def forward(self, x):
        y = self.b(self.a(x))
        return x + y if self.shortcut else y


class C2f(nn.Module):
    def __init__(self, cin, cout, n, shortcut):
        super().__init__()
        self.hidden = cout // 2
        self.first = silu_conv(cin, 2 * self.hidden)
        self.blocks = nn.ModuleList(Bottleneck(self.hidden, shortcut) for _ in range(n))
        self.last = silu_conv((2 + n) * self.hidden, cout)

    def forward(self, x):
        ys = list(self.first(x).split(self.hidden, 1))
        for block in self.blocks:
            ys.append(block(ys[-1]))
        return self.last(torch.cat(ys, 1))


class SPPF(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.first, self.last = silu_conv(c, c // 2), silu_conv(c * 2, c)

    def forward(self, x):
        x = self.first(x)
        a = F.max_pool2d(x, 5, 1, 2)
        b = F.max_pool2d(a, 5, 1, 2)
        return self.last(torch.cat([x, a, b, F.max_pool2d(b, 5, 1, 2)], 1))


class YOLOv8n(nn.Module):
    def __init__(self, classes=80):
        super().__init__()
        self.stem = nn.Sequential(silu_conv(3, 16, 3, 2), silu_conv(16, 32, 3, 2), C2f(32, 32, 1, True))
        self.p3 = nn.Sequential(silu_conv(32, 64, 3, 2), C2f(64, 64, 2, True))
        self.p4 = nn.Sequential(silu_conv(64, 128, 3, 2), C2f(128, 128, 2, True))
        self.p5 = nn.Sequential(silu_conv(128, 256, 3, 2), C2f(256, 256, 1, True), SPPF(256))
        self.up4, self.up3 = C2f(384, 128, 1, False), C2f(192, 64, 1, False)
        self.down4, self.out4 = silu_conv(64, 64, 3, 2), C2f(192, 128, 1, False)
        self.down5, self.out5 = silu_conv(128, 128, 3, 2), C2f(384, 256, 1, False)
        self.box = nn.ModuleList(nn.Sequential(silu_conv(c, 64, 3), silu_conv(64, 64, 3), nn.Conv2d(64, 64, 1)) for c in (64, 128, 256))
        self.cls = nn.ModuleList(nn.Sequential(silu_conv(c, 80, 3), silu_conv(80, 80, 3), nn.Conv2d(80, classes, 1)) for c in (64, 128, 256))

    def forward(self, x):
        p3 = self.p3(self.stem(x))
        p4 = self.p4(p3)
        p5 = self.p5(p4)
        h4 = self.up4(torch.cat([F.interpolate(p5, scale_factor=2.0, mode="nearest"), p4], 1))
        o3 = self.up3(torch.cat([F.interpolate(h4, scale_factor=2.0, mode="nearest"), p3], 1))
        o4 = self.out4(torch.cat([self.down4(o3), h4], 1))
        o5 = self.out5(torch.cat([self.down5(o4), p5], 1))
        outs = [torch.cat([b(f), c(f).sigmoid()], 1).flatten(2) for f, b, c in zip((o3, o4, o5), self.box, self.cls)]
        return torch.cat(outs, 2)


def yolov8n():
    return YOLOv8n(), {"images": torch.rand(1, 3, 640, 640)}


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.norm1, self.norm2 = nn.LayerNorm(d, eps=1e-12), nn.LayerNorm(d, eps=1e-12)
        self.up, self.down = nn.Linear(d, ffn), nn.Linear(ffn, d)

    def split(self, x):
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x, bias):
        b, t, d = x.shape
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads) + bias
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = self.norm1(x + self.o(ctx))
        return self.norm2(x + self.down(F.gelu(self.up(x))))


class MiniLM(nn.Module):
    def __init__(self, vocab=30522, d=384, layers=6, heads=12, ffn=1536):
        super().__init__()
        self.words, self.positions, self.types = nn.Embedding(vocab, d), nn.Embedding(512, d), nn.Embedding(2, d)
        self.norm = nn.LayerNorm(d, eps=1e-12)
        self.layers = nn.ModuleList(EncoderLayer(d, heads, ffn) for _ in range(layers))

    def forward(self, input_ids, attention_mask):
        t = input_ids.shape[1]
        x = self.words(input_ids) + self.positions(torch.arange(t).unsqueeze(0)) + self.types(torch.zeros_like(input_ids))
        x = self.norm(x)
        bias = (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
        for layer in self.layers:
            x = layer(x, bias)
        m = attention_mask.unsqueeze(-1).float()
        return (x * m).sum(1) / m.sum(1).clamp(min=1e-9)


def bert_minilm():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, 30000, (8, 128), generator=g)
    lengths = torch.randint(16, 129, (8,), generator=g)
    mask = (torch.arange(128)[None, :] < lengths[:, None]).long()
    return MiniLM(), {"input_ids": ids, "attention_mask": mask}


class CRNN(nn.Module):
    def __init__(self, classes=6000):
        super().__init__()
        def block(cin, cout, pool):
            layers = [nn.Conv2d(cin, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.ReLU()]
            return layers + ([nn.MaxPool2d(pool, pool)] if pool else [])
        self.cnn = nn.Sequential(*block(1, 64, 2), *block(64, 128, 2), *block(128, 256, None), *block(256, 256, (2, 1)),
                                 *block(256, 512, None), *block(512, 512, (2, 1)), nn.Conv2d(512, 512, (2, 1)), nn.ReLU())
        self.rnn = nn.LSTM(512, 256, num_layers=2, bidirectional=True)
        self.head = nn.Linear(512, classes)

    def forward(self, x):
        f = self.cnn(x).squeeze(2).permute(2, 0, 1)  # [T, batch, 512]
        y, _ = self.rnn(f)
        return self.head(y).log_softmax(-1)


def crnn_bilstm():
    return CRNN(), {"line": torch.rand(1, 1, 32, 100) * 2 - 1}


class GRUSpeech(nn.Module):
    def __init__(self, features=80, classes=29):
        super().__init__()
        self.front = nn.Sequential(nn.Conv1d(features, 256, 5, padding=2), nn.ReLU())
        self.rnn = nn.GRU(256, 256, num_layers=2, bidirectional=True, batch_first=True)
        self.head = nn.Linear(512, classes)

    def forward(self, x):
        f = self.front(x.transpose(1, 2)).transpose(1, 2)
        y, _ = self.rnn(f)
        return self.head(y).log_softmax(-1)


def gru_speech():
    return GRUSpeech(), {"features": torch.randn(1, 200, 80)}


class TanhGeluMLP(nn.Module):
    def __init__(self, d=768):
        super().__init__()
        self.norm, self.up, self.down = nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        return x + self.down(F.gelu(self.up(self.norm(x)), approximate="tanh"))


def gelu_tanh_mlp():
    return TanhGeluMLP(), {"hidden": torch.randn(8, 128, 768)}


MODELS = {f.__name__: f for f in (mobilenetv3_large, efficientnet_b0, convnext_tiny, yolov8n, bert_minilm,
                                  crnn_bilstm, gru_speech, gelu_tanh_mlp)}


def randomise(model, seed):
    """Seeded weights; batch-norm statistics away from 0/1 so folding them is exercised."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            fan_in = p[0].numel() if p.dim() > 1 else p.numel()
            p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * (1.0 / math.sqrt(fan_in) if p.dim() > 1 else 0.1))
            if name.endswith("gamma"):
                p.fill_(0.1)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_((torch.rand(m.num_features, generator=g) - 0.5) * 0.2)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.75)
                m.weight.data.copy_(torch.rand(m.num_features, generator=g) * 0.5 + 0.75)
            elif isinstance(m, nn.LayerNorm):
                m.weight.data.fill_(1.0)
    return model.eval()


def export(name, out):
    torch.manual_seed(0)
    model, inputs = MODELS[name]()
    randomise(model, seed=sum(map(ord, name)))
    path = os.path.join(out, name + ".onnx")
    torch.onnx.export(model, tuple(inputs.values()), path, input_names=list(inputs), output_names=["output"],
                      opset_version=OPSET, dynamo=False, do_constant_folding=True)
    np.savez(os.path.join(out, name + ".npz"), **{k: v.numpy() for k, v in inputs.items()})
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--only", help="comma-separated model names")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        print(f"error: unknown models {unknown} (known: {', '.join(MODELS)})", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    for name in names:
        path = export(name, args.out)
        print(f"{path}: {os.path.getsize(path) / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

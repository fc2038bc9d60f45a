"""Training images/s: vatt's fastai loop vs a plain PyTorch loop, same model, same in-memory uint8 data, one run.

    python bench/train_speed.py                 # GPU: convnext_tiny, 224x224, bs 128 (the issue's setting)
    python bench/train_speed.py --quick         # CPU, seconds: resnet10t, 64x64, bs 32
    python bench/train_speed.py --arch resnet50 --size 224 --bs 256

The plain loop is the anchor: AdamW, channels_last and bf16 autocast where the GPU does bf16 (fp16 with a
GradScaler where it does not, fp32 on the CPU), batches sliced from one uint8 tensor already on the device.
vatt's loop is `make_learner` + `set_precision('auto')` + `fit_one_cycle` on fastai DataLoaders over the same
uint8 tensor. Both count only training batches after one warm-up epoch; the plain loop runs before and after
vatt's and the better of its two runs is the anchor. Prints a final JSON line."""
import argparse, json, os, time
import torch, timm
import torch.nn.functional as F
from fastai.vision.all import (DataLoaders, TfmdDL, IntToFloatTensor, Normalize, imagenet_stats, TensorImage,
                               TensorCategory, Callback, CrossEntropyLossFlat)
from vatt.learner import make_learner
from vatt.core import best_precision

ap = argparse.ArgumentParser()
ap.add_argument('--quick', action='store_true')
ap.add_argument('--arch', default=None); ap.add_argument('--size', type=int, default=None)
ap.add_argument('--bs', type=int, default=None); ap.add_argument('--batches', type=int, default=None, help='per epoch')
ap.add_argument('--epochs', type=int, default=3, help='timed epochs after one warm-up epoch')
args = ap.parse_args()
dev = torch.device('cuda' if torch.cuda.is_available() and not args.quick else 'cpu')
arch = args.arch or ('resnet10t' if args.quick else 'convnext_tiny')
size = args.size or (64 if args.quick else 224)
bs = args.bs or (32 if args.quick else 128)
nb = args.batches or (4 if args.quick else 20)
ncls = 4
precision = best_precision(dev)
sync = (lambda: torch.cuda.synchronize()) if dev.type == 'cuda' else (lambda: None)

g = torch.Generator().manual_seed(0)
data = torch.randint(0, 256, (nb * bs, 3, size, size), dtype=torch.uint8, generator=g)
labels = torch.randint(0, ncls, (nb * bs,), generator=g)


def plain_loop() -> float:
    "img/s of a plain loop (AdamW, channels_last, autocast) over the uint8 tensor on the device."
    torch.manual_seed(0)
    model = timm.create_model(arch, num_classes=ncls).to(dev)
    if dev.type == 'cuda': model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    dtype = {'bf16': torch.bfloat16, 'fp16': torch.float16}.get(precision)
    scaler = torch.amp.GradScaler(enabled=precision == 'fp16')
    x_all, y_all = data.to(dev), labels.to(dev)
    mean = torch.tensor(imagenet_stats[0], device=dev).view(1, 3, 1, 1) * 255
    std = torch.tensor(imagenet_stats[1], device=dev).view(1, 3, 1, 1) * 255
    model.train(); times = []
    for ep in range(args.epochs + 1):
        perm = torch.randperm(len(x_all), device=dev)
        sync(); t0 = time.perf_counter()
        for i in range(nb):
            idx = perm[i * bs:(i + 1) * bs]
            x = ((x_all[idx].float() - mean) / std).contiguous(memory_format=torch.channels_last if dev.type == 'cuda' else torch.contiguous_format)
            with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
                loss = F.cross_entropy(model(x), y_all[idx])
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
        sync(); times.append(time.perf_counter() - t0)
    return nb * bs * args.epochs / sum(times[1:])


class TrainTimer(Callback):
    "Seconds spent in each epoch's training phase (validation excluded)."
    order = 100
    def before_fit(self): self.times = []
    def before_train(self): sync(); self.t0 = time.perf_counter()
    def after_train(self): sync(); self.times.append(time.perf_counter() - self.t0)


class MemDS:
    "Items from the uint8 tensor, as fastai's vision pipeline gives them."
    def __init__(self, x, y): self.x, self.y = x, y
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return TensorImage(self.x[i]), TensorCategory(self.y[i])


def vatt_loop() -> float:
    "img/s of vatt's Learner (fastai fit_one_cycle, precision and channels_last chosen by vatt)."
    torch.manual_seed(0)
    tfms = [IntToFloatTensor(), Normalize.from_stats(*imagenet_stats)]
    nw = 0 if dev.type == 'cpu' else min(8, os.cpu_count())
    train_dl = TfmdDL(MemDS(data, labels), bs=bs, shuffle=True, drop_last=True, after_batch=tfms, device=dev, num_workers=nw)
    valid_dl = TfmdDL(MemDS(data[:bs], labels[:bs]), bs=bs, after_batch=tfms, device=dev)
    dls = DataLoaders(train_dl, valid_dl, device=dev); dls.c = ncls
    learn = make_learner(dls, arch, pretrained=False, metrics=[], loss_func=CrossEntropyLossFlat())
    used = learn.set_precision('auto')
    timer = TrainTimer()
    with learn.no_bar(): learn.fit_one_cycle(args.epochs + 1, 1e-3, cbs=[timer])
    return nb * bs * args.epochs / sum(timer.times[1:]), used


plain_runs = [plain_loop()]
ours, used = vatt_loop()
plain_runs.append(plain_loop())  # before and after: the anchor is the better of the two (a shared machine drifts)
plain = max(plain_runs)
res = dict(bench='train_speed', quick=args.quick, arch=arch, size=size, bs=bs, batches_per_epoch=nb, epochs=args.epochs,
           device=torch.cuda.get_device_name() if dev.type == 'cuda' else f'cpu ({os.cpu_count()} cores)',
           precision=used, plain_img_s=round(plain, 1), plain_runs_img_s=[round(v, 1) for v in plain_runs], vatt_img_s=round(ours, 1), ratio=round(ours / plain, 3),
           torch=torch.__version__)
print(f"plain loop {plain:.1f} img/s, vatt {ours:.1f} img/s, ratio {ours / plain:.3f} ({arch}, {size}px, bs {bs}, {used})")
print(json.dumps(res))

"""Does the model learn small defects in a large image? Global average vs max pooling in vatt's linear head, on the
same data, seed and schedule, in one run.

    python bench/pooling.py                     # 256x176, defects 25-42 px long, 200 images per class, 12 epochs (~22 min on 2 CPU cores)
    python bench/pooling.py --quick             # 128x96, 40 images per class, 3 epochs: checks the script
    python bench/pooling.py --size 768 512 --defect-size 0.04 0.08 --n 300   # the GPU small-defect setting

resnet18 from random weights on the embedded inspection set; prints validation accuracy per epoch for each pooling
and a final JSON line."""
import argparse, json, tempfile, time
from pathlib import Path
import torch
from fastai.vision.all import set_seed
from fastai.callback.progress import ProgressCallback
from vatt.data import image_dls, load_mask
from vatt.drawn import make_inspection
from vatt.learner import make_learner

ap = argparse.ArgumentParser()
ap.add_argument('--quick', action='store_true')
ap.add_argument('--size', type=int, nargs=2, default=None, metavar=('W', 'H'))
ap.add_argument('--defect-size', type=float, nargs=2, default=(0.14, 0.24), help='defect length, fraction of the shorter side')
ap.add_argument('--n', type=int, default=None, help='images per class')
ap.add_argument('--epochs', type=int, default=None)
ap.add_argument('--lr', type=float, default=2e-3)
ap.add_argument('--arch', default='resnet18')
args = ap.parse_args()
wh = tuple(args.size or ((128, 96) if args.quick else (256, 176)))
size = (wh[1], wh[0])  # (height, width), as the library takes it
n = args.n or (40 if args.quick else 200)
epochs = args.epochs or (3 if args.quick else 12)

root = Path(tempfile.mkdtemp())/'small_defects'
make_inspection(root, n_per_class=n, size=size, defect_size=tuple(args.defect_size), seed=0)
items = sorted(root.glob('*/*.png'))  # the images; masks lie one level deeper, in root/masks/<class>/
share = {}
for f in items: share[f.parent.name] = max(share.get(f.parent.name, 0.), float(load_mask(f).mean()))
print(f'{len(items)} images of {wh[0]}x{wh[1]}; largest share of an image a defect covers, by class: '
      + ', '.join(f'{c} {v:.2%}' for c, v in share.items() if v), flush=True)

res = {}
for pool in ('avg', 'max'):
    t0 = time.perf_counter()
    set_seed(0, reproducible=True)
    dls = image_dls(root, size=size, bs=32)
    learn = make_learner(dls, args.arch, pretrained=False, pool=pool)
    learn.remove_cb(ProgressCallback)
    learn.fit_one_cycle(epochs, args.lr)
    acc = [round(r[2], 3) for r in learn.history.rows]
    res[pool] = dict(accuracy=acc[-1], per_epoch=acc, seconds=round(time.perf_counter() - t0, 1))
    print(pool, res[pool], flush=True)

print(json.dumps(dict(bench='pooling', quick=args.quick, arch=args.arch, size_wh=list(wh), defect_size=list(args.defect_size),
                      max_defect_share={c: round(v, 5) for c, v in share.items() if v}, n_per_class=n, epochs=epochs, lr=args.lr, results=res,
                      device='cuda' if torch.cuda.is_available() else 'cpu')))

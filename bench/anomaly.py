"""Anomaly maps from good images only (issue 17): vatt `learned`, `knn` and `both` beside anomalib's PatchCore and PaDiM, and
vatt's supervised small-defect recipe as the ceiling.

Data (`make_surfaces`, the real-surface photographs): the good images to learn from come from the *train* quarter of
every photograph, the good images the threshold is calibrated on from the *valid* quarter, and the test images (good
and the three defect types, with their masks) from the *test* quarter: no test pixel was seen in fitting or
calibration. Nothing is chosen on the test images: vatt's settings are the library's defaults, anomalib's those of
its papers' resnet18 configuration (PatchCore: layer2 + layer3, 9 neighbours; PaDiM: layer1-3, 100 features), with
the same 1 % coreset as vatt's `knn`.

Same backbone weights: every method uses the resnet18 that `vatt.anomaly.encoder` builds from random weights under
the run's seed; `knn`, PatchCore and PaDiM all get it with its batch-norm statistics set on the good training images
(`calibrate_bn`, what `fit_knn` does); `learned` builds its `DefectNet` under the same seed (the same initial
encoder weights) and trains it; `both` fits the two (`fit_both`: its knn part is `fit_knn`'s, whose batch-norm
statistics are set in batches of 8 rather than 16, so it is not bit-equal to the `knn` runs'). Each run (method, seed) is a subprocess so
its peak memory is its own; PatchCore and PaDiM run under `--anomalib-python`, a Python with anomalib installed
(`python -m venv ENV && ENV/bin/pip install torch==2.14.1 torchvision==0.29.1 anomalib -e .`). Every finished run is
appended to the JSON file at once. On a GPU machine (`bash bench/gpu.sh anomaly`) vatt's methods fit and score on the
GPU; each run records its device.

The ceiling (`supervised`) is what labels buy: `train(..., masks='dataset')` with `DEFECT_RECIPE` from random weights
on n_train / 4 images of each class (good and the three defect types, with masks) of the same train quarter, its
validation images from the valid quarter; its image score is 1 - p(ok), its map the learned defect map.

    python bench/anomaly.py --size 288 384 --seeds 0 1 2 --methods knn learned patchcore padim --anomalib-python ENV/bin/python
    python bench/anomaly.py --size 576 768 --seeds 0 1 2 --methods learned knn padim --anomalib-python ENV/bin/python --out bench/anomaly_576.json
    python bench/anomaly.py --seeds 0 1 2 --methods both --threads 1 --out bench/anomaly_288.json
    python bench/anomaly.py --table --out bench/anomaly_288.json   # BENCHMARKS.md's table: mean ± spread over the seeds
    python bench/anomaly.py --split tune --n-test 20 --seeds 0 --methods learned --steps 600 --out /tmp/tune.json   # choosing settings
"""
import argparse, json, resource, subprocess, sys, time
from pathlib import Path
import numpy as np, torch, torch.nn as nn

TYPES = ('ok', 'scratch', 'crack', 'stain')
ANOMALIB = ('patchcore', 'padim')
METHODS = ('learned', 'both', 'knn', *ANOMALIB, 'supervised')  # supervised: the ceiling, trained on labelled defects with masks

EVAL_SEED = dict(test=1, tune=2)  # the data seed of each set the methods are scored on

def data(root, size, n_train, n_val, n_test, split='test'):
    "Good images to fit on (train quarter), good images for the threshold (valid quarter), images to score (`split` quarter)."
    from vatt.drawn import make_surfaces
    tag = f'{size[0]}x{size[1]}'
    tr = make_surfaces(Path(root)/f'train_{tag}', n_per_class=n_train, size=size, seed=0, split='train', classes=('ok',))
    va = make_surfaces(Path(root)/f'valid_{tag}', n_per_class=n_val, size=size, seed=0, split='valid', classes=('ok',))
    te = make_surfaces(Path(root)/f'{split}_{tag}', n_per_class=n_test, size=size, seed=EVAL_SEED[split], split=split)
    test = [(p, c) for c in TYPES for p in sorted((te/c).glob('*.png'))]
    return sorted((tr/'ok').glob('*.png')), sorted((va/'ok').glob('*.png')), test, te

def backbone(arch, x, seed):
    "The random-weight encoder every method starts from, its batch-norm statistics set on the good images `x`."
    from vatt.anomaly import encoder, calibrate_bn
    torch.manual_seed(seed)
    return calibrate_bn(encoder(arch), x)

class Anomalib(nn.Module):
    "anomalib's torch model behind the `raw` interface that vatt's `calibrate` and `evaluate_anomaly` call."
    method = 'knn'  # scored in one pass, as vatt's knn
    def __init__(self, model):
        super().__init__()
        self.model = model
        for k, v in dict(threshold=float('nan'), frr=float('nan'), pixel_ref=1.).items(): self.register_buffer(k, torch.tensor(v))
    def scored_size(self): return None  # scored at the image's own size, as vatt's models without a fitted size
    @torch.no_grad()
    def raw(self, x):
        r = self.model.eval()(x.to(next(self.model.parameters()).device))
        return r.pred_score.reshape(-1).float(), r.anomaly_map.reshape(len(x), 1, *x.shape[-2:]).float()

def fit_anomalib(kind, x, arch, seed, bs=8, share=0.01):
    "PatchCore or PaDiM of anomalib, its feature extractor given the same weights as vatt's knn."
    from anomalib.models.image.patchcore.torch_model import PatchcoreModel
    from anomalib.models.image.padim.torch_model import PadimModel
    sd = backbone(arch, x, seed).state_dict()
    torch.manual_seed(seed)
    m = (PatchcoreModel(layers=['layer2', 'layer3'], backbone=arch, pre_trained=False, num_neighbors=9) if kind == 'patchcore'
         else PadimModel(backbone=arch, layers=['layer1', 'layer2', 'layer3'], pre_trained=False))
    fe = m.feature_extractor.feature_extractor
    missing, _ = fe.load_state_dict(sd, strict=False)
    if missing: raise RuntimeError(f'{kind}: the backbone weights did not load: {missing[:5]}')
    m.train(); m.feature_extractor.eval()  # collect embeddings; the backbone stays in eval, as in vatt
    with torch.no_grad():
        for i in range(0, len(x), bs): m(x[i:i + bs])
    if kind == 'patchcore': m.subsample_embedding(share)
    else: m.fit()
    return Anomalib(m.eval())

class Supervised(Anomalib):
    "vatt's small-defect recipe (issue 11: classes and masks) as an anomaly detector: score 1 - p(ok), map the learned defect map."
    def __init__(self, learn):
        super().__init__(learn.model)
        self.ok = learn.dls.vocab.o2i['ok']
    @torch.no_grad()
    def raw(self, x):
        from vatt.defects import defect_prob
        logits, seg = self.model.eval()(x.to(next(self.model.parameters()).device))
        m = torch.nn.functional.interpolate(defect_prob(seg)[:, None], size=x.shape[-2:], mode='bilinear', align_corners=False)
        return 1 - logits.float().softmax(1)[:, self.ok], m.float()

def fit_supervised(a):
    "The ceiling: `train(..., masks=...)` with DEFECT_RECIPE from random weights on labelled defects of the same quarters, at the same size."
    from vatt.drawn import make_surfaces
    from vatt.data import image_items
    from vatt.defects import defect_dls
    from vatt.learner import train, DEFECT_RECIPE
    from fastai.data.transforms import FuncSplitter
    size, tag = tuple(a.size), f'{a.size[0]}x{a.size[1]}'
    tr = make_surfaces(Path(a.root)/f'sup_train_{tag}', n_per_class=a.n_train // 4, size=size, seed=0, split='train')
    va = make_surfaces(Path(a.root)/f'sup_valid_{tag}', n_per_class=max(1, a.n_val // 4), size=size, seed=0, split='valid')
    its = [*image_items(tr, verify=False)[0], *image_items(va, verify=False)[0]]
    valid = {str(p) for p in image_items(va, verify=False)[0]}
    dls = defect_dls(its, 'dataset', size, DEFECT_RECIPE.bs, splitter=FuncSplitter(lambda o: str(o) in valid), path=a.root)
    return Supervised(train(data=dls, masks='dataset', pretrained=False, seed=a.seed))  # every other setting: DEFECT_RECIPE's

def synthetic(a) -> dict:
    "The synthetic families `learned` trains on: the library's defaults unless --fills / --soft are given (to compare them on the tuning quarter)."
    return {**(dict(fills=tuple(a.fills)) if a.fills else {}), **(dict(soft=a.soft) if a.soft is not None else {})}

def one(a):
    "One (method, seed) run: fit, calibrate, score the test images; prints one JSON line."
    from vatt.anomaly import to_batch, fit_knn, fit_learned, fit_both, calibrate, evaluate_anomaly
    from vatt.data import read_mask
    torch.set_num_threads(a.threads)
    train, val, test, te = data(a.root, tuple(a.size), a.n_train, a.n_val, a.n_test, a.split)
    x, xv = to_batch(train), to_batch(val)
    t0 = time.time()
    if a.method == 'knn': m = fit_knn(x, a.arch, net=backbone(a.arch, x, a.seed), seed=a.seed, calibrate=False)
    elif a.method in ('learned', 'both'): m = (fit_learned if a.method == 'learned' else fit_both)(
        x, a.arch, crop=(a.crop, a.crop), steps=a.steps, bs=a.bs, seed=a.seed, **synthetic(a), log=lambda s, l: print(f'step {s} loss {l:.3f}', flush=True))
    elif a.method == 'supervised': m = fit_supervised(a)
    else: m = fit_anomalib(a.method, x, a.arch, a.seed)
    calibrate(m, xv, frr=0.01)  # every method's threshold from the same good images of the valid quarter
    fit_s = time.time() - t0
    items, types = [p for p, _ in test], [c for _, c in test]
    masks = [read_mask(te/'masks'/c/p.name) for p, c in test]
    t0 = time.time()
    res = evaluate_anomaly(m, items, types, masks, normal='ok')
    inf = len(items) / (time.time() - t0)
    from vatt.report import anomaly_pointing
    point = anomaly_pointing(res.pop('maps'), masks, types, float(m.pixel_ref))  # the CAMs' pointing game and energy, per type
    res.pop('scores')
    out = dict(method=a.method, seed=a.seed, size=a.size, split=a.split, arch=a.arch, n_train=len(train), n_val=len(val), n_test=len(items),
               fit_s=round(fit_s, 1), images_per_s=round(inf, 2), peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
               pointing=point, threads=a.threads, steps=a.steps if a.method in ('learned', 'both') else None, metrics=res,
               synthetic=synthetic(a) or None if a.method in ('learned', 'both') else None,
               arch_used=a.arch if a.method != 'supervised' else 'DEFECT_RECIPE (resnet10t), labelled defects with masks',
               device=torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu',
               date=time.strftime('%Y-%m-%d'), load=round(__import__('os').getloadavg()[0], 1))
    print(json.dumps(out), flush=True)
    return out

def table(done):
    "BENCHMARKS.md's rows: mean ± spread (sample std) over the seeds, per method and image size."
    keys = ('image_auroc', 'pixel_auroc', 'aupro')
    rows = ['| method | image size | seeds | image AUROC | pixel AUROC | AUPRO | recall at 1 % FRR | fit s | images/s | peak MB |',
            '|---|---|---|---|---|---|---|---|---|---|']
    ms = lambda v: f'{np.mean(v):.3f} ± {np.std(v, ddof=1):.3f}' if len(v) > 1 else f'{v[0]:.3f}'
    for (meth, size) in sorted(dict.fromkeys((d['method'], tuple(d['size'])) for d in done), key=lambda k: (k[1], METHODS.index(k[0]))):
        ds = [d for d in done if d['method'] == meth and tuple(d['size']) == size]
        for t in ('all', *TYPES[1:]):
            v = {k: [d['metrics'][t].get(k, float('nan')) for d in ds] for k in (*keys, 'recall')}
            first = t == 'all'
            rows.append(f"| {meth if first else '  ' + t} | {f'{size[1]}×{size[0]}' if first else ''} | {len(ds) if first else ''} | "
                        + ' | '.join(ms(v[k]) for k in keys) + f" | {ms(v['recall'])} | "
                        + (f"{np.mean([d['fit_s'] for d in ds]):.0f} | {np.mean([d['images_per_s'] for d in ds]):.2f} | "
                           f"{max(d['peak_rss_mb'] for d in ds)} |" if first else ' | | |'))
    return '\n'.join(rows + pointing_lines(done, ms))

def pointing_lines(done, ms):
    "The anomaly map's pointing game (its peak within 4 px of the mask) per method and size, for the runs that recorded it."
    out = []
    for (meth, size) in dict.fromkeys((d['method'], tuple(d['size'])) for d in done if d.get('pointing')):
        ds = [d for d in done if d['method'] == meth and tuple(d['size']) == size and d.get('pointing')]
        out.append(f"\npointing game, {meth} {size[1]}×{size[0]} ({len(ds)} runs): " + ', '.join(
            f"{t} {ms([d['pointing'][t]['pointing'] for d in ds])}" for t in ('all', *TYPES[1:])))
    return out

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--size', type=int, nargs=2, default=[288, 384], help='(height, width)')
    p.add_argument('--methods', nargs='+', default=list(METHODS), choices=METHODS)
    p.add_argument('--method', default=None, help='(internal) one run in this process')
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--arch', default='resnet18')
    p.add_argument('--n-train', type=int, default=200); p.add_argument('--n-val', type=int, default=40); p.add_argument('--n-test', type=int, default=30)
    p.add_argument('--steps', type=int, default=600); p.add_argument('--bs', type=int, default=8); p.add_argument('--crop', type=int, default=128)
    p.add_argument('--fills', nargs='+', default=None, help="learned: the fill families (default: the library's FILLS)")
    p.add_argument('--soft', type=float, default=None, help="learned: share of anomalies with a soft rim (default: the library's)")
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--split', default='test', choices=tuple(EVAL_SEED), help="score on the test quarter, or on the tuning quarter (to choose settings)")
    p.add_argument('--anomalib-python', default=None, help="a Python with anomalib installed, for patchcore and padim (default: this one)")
    p.add_argument('--root', default='/tmp/vatt_bench_anomaly')
    p.add_argument('--out', default='bench/anomaly.json')
    p.add_argument('--table', action='store_true', help="print BENCHMARKS.md's table from --out and stop")
    a = p.parse_args()
    if a.method: return one(a)
    out = Path(a.out)
    done = json.loads(out.read_text()) if out.exists() else []
    if a.table: return print(table(done))
    data(a.root, tuple(a.size), a.n_train, a.n_val, a.n_test, a.split)  # draw once, before the timed runs
    for seed in a.seeds:
        for meth in a.methods:
            if any(d['method'] == meth and d['seed'] == seed and d['size'] == a.size and d.get('split', 'test') == a.split for d in done): continue
            py = a.anomalib_python if meth in ANOMALIB and a.anomalib_python else sys.executable
            args = [py, __file__, '--method', meth, '--seed', str(seed), '--size', *map(str, a.size),
                    '--arch', a.arch, '--n-train', str(a.n_train), '--n-val', str(a.n_val), '--n-test', str(a.n_test), '--steps', str(a.steps),
                    '--bs', str(a.bs), '--crop', str(a.crop), '--threads', str(a.threads), '--root', a.root, '--split', a.split,
                    *(['--fills', *a.fills] if a.fills else []), *(['--soft', str(a.soft)] if a.soft is not None else [])]
            r = subprocess.run(args, capture_output=True, text=True)
            print(r.stdout[-3000:], r.stderr[-3000:] if r.returncode else '', flush=True)
            line = [l for l in r.stdout.splitlines() if l.startswith('{')]
            if line:
                done.append(json.loads(line[-1])); out.write_text(json.dumps(done, indent=1))
    print(table(done))

if __name__ == '__main__': main()

"""Anomaly maps from good images only (issue 17): vatt `learned` and `knn` on the real surfaces.

Training: `make_surfaces(split='train')` ok images (top half of every photo), N for training and a separate set of
good images from the same region for the threshold. Test: `make_surfaces(split='test', seed=1)`, bottom half of
every photo: ok images and the three defect types with their masks. Each run (method, seed) is a subprocess so its
peak memory is its own; every finished run is appended to the JSON file at once.

    python bench/anomaly.py --size 288 384 --seeds 0 --methods knn learned --out bench/anomaly_288.json
"""
import argparse, json, resource, subprocess, sys, time
from pathlib import Path
import torch

def data(root, size, n_train, n_val, n_test):
    from vatt.drawn import make_surfaces
    tr = make_surfaces(Path(root)/f'train_{size[0]}x{size[1]}', n_per_class=n_train + n_val, size=size, seed=0, split='train', classes=('ok',))
    te = make_surfaces(Path(root)/f'test_{size[0]}x{size[1]}', n_per_class=n_test, size=size, seed=1, split='test')
    ok = sorted((tr/'ok').glob('*.png'))
    test = [(p, c) for c in ('ok', 'scratch', 'crack', 'stain') for p in sorted((te/c).glob('*.png'))]
    return ok[:n_train], ok[n_train:], test, te

def one(a):
    from vatt.anomaly import to_batch, fit_knn, fit_learned, calibrate, evaluate_anomaly
    from vatt.data import read_mask
    torch.set_num_threads(a.threads)
    train, val, test, te = data(a.root, tuple(a.size), a.n_train, a.n_val, a.n_test)
    x, xv = to_batch(train), to_batch(val)
    t0 = time.time()
    if a.method == 'knn': m = fit_knn(x, a.arch, seed=a.seed)
    else: m = fit_learned(x, a.arch, crop=(a.crop, a.crop), steps=a.steps, bs=a.bs, seed=a.seed, log=lambda s, l: print(f'step {s} loss {l:.3f}', flush=True))
    calibrate(m, xv, frr=0.01)
    fit_s = time.time() - t0
    items, types = [p for p, _ in test], [c for _, c in test]
    masks = [read_mask(te/'masks'/c/p.name) for p, c in test]
    t0 = time.time()
    res = evaluate_anomaly(m, items, types, masks, normal='ok')
    inf = len(items) / (time.time() - t0)
    res.pop('scores'); res.pop('maps')
    out = dict(method=a.method, seed=a.seed, size=a.size, arch=a.arch, n_train=len(train), n_val=len(val), n_test=len(items),
               fit_s=round(fit_s, 1), images_per_s=round(inf, 2), peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
               threads=a.threads, steps=a.steps if a.method == 'learned' else None, metrics=res)
    print(json.dumps(out), flush=True)
    return out

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--size', type=int, nargs=2, default=[288, 384])
    p.add_argument('--methods', nargs='+', default=['knn', 'learned'])
    p.add_argument('--method', default=None)
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--arch', default='resnet18')
    p.add_argument('--n-train', type=int, default=200); p.add_argument('--n-val', type=int, default=40); p.add_argument('--n-test', type=int, default=30)
    p.add_argument('--steps', type=int, default=300); p.add_argument('--bs', type=int, default=8); p.add_argument('--crop', type=int, default=128)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--root', default='/tmp/vatt_bench_anomaly')
    p.add_argument('--out', default='bench/anomaly.json')
    a = p.parse_args()
    if a.method: return one(a)
    data(a.root, tuple(a.size), a.n_train, a.n_val, a.n_test)  # draw once, before the timed runs
    out = Path(a.out)
    done = json.loads(out.read_text()) if out.exists() else []
    for seed in a.seeds:
        for meth in a.methods:
            args = [sys.executable, __file__, '--method', meth, '--seed', str(seed)] + [f for k in ('size',) for f in ['--size', *map(str, a.size)]] + \
                   ['--arch', a.arch, '--n-train', str(a.n_train), '--n-val', str(a.n_val), '--n-test', str(a.n_test), '--steps', str(a.steps),
                    '--bs', str(a.bs), '--crop', str(a.crop), '--threads', str(a.threads), '--root', a.root]
            r = subprocess.run(args, capture_output=True, text=True)
            print(r.stdout[-3000:], r.stderr[-3000:] if r.returncode else '', flush=True)
            line = [l for l in r.stdout.splitlines() if l.startswith('{')]
            if line:
                done.append(json.loads(line[-1])); out.write_text(json.dumps(done, indent=1))
    for d in done:
        m = d['metrics']['all']
        print(f"{d['method']:8s} seed {d['seed']} {d['size']}: image AUROC {m['image_auroc']:.3f} pixel AUROC {m.get('pixel_auroc', float('nan')):.3f} "
              f"AUPRO {m.get('aupro', float('nan')):.3f} fit {d['fit_s']} s, {d['images_per_s']} img/s, peak {d['peak_rss_mb']} MB")

if __name__ == '__main__': main()

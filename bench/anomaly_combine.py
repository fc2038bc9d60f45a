"""How `both` combines its parts (issue 17), chosen on the *tuning* quarter of the surface bench, never the test one.

`fit_both` fits `learned` and `knn` on the 200 good training images; each is calibrated on the valid quarter; the
tuning images (`make_surfaces(split='tune', seed=2)`, 20 per type) are scored by each part; then three image scores
for the summed map (each part's map in [0, 1) at its own reference level, `anomaly_unit`) are compared:

- `learned score`: the learned part's image score (what `both` does);
- `sum of scores / thresholds`: each part's score over its threshold, summed;
- `pooled max`: the largest 5x5 mean of the summed map.

The rule, set before the run: the variant with the best mean of image AUROC, pixel AUROC and AUPRO, adopted only if it
beats `learned` alone on that mean without losing more than 0.01 of image AUROC.

    python bench/anomaly_combine.py --threads 1     # 04b_anomaly's table (seed 0, 600 steps)
    python bench/anomaly_combine.py --quick         # checks the script on tiny images, measures nothing
"""
import argparse, json
import numpy as np, torch, torch.nn.functional as F
from anomaly import data

def scored(part, items):
    "Image scores and maps (numpy) of one part."
    from vatt.anomaly import score_images
    r = list(score_images(part, items))
    return np.array([s for s, _ in r]), [m.numpy() for _, m in r]

def variants(both, items):
    "{name: (image scores, maps)} of each part alone and of the three ways to score the summed map."
    from vatt.anomaly import anomaly_unit
    (lp, kp), out = both.net, {}
    (ls, lm), (ks, km) = scored(lp, items), scored(kp, items)
    summed = [(anomaly_unit(torch.from_numpy(a), lp.pixel_ref) + anomaly_unit(torch.from_numpy(b), kp.pixel_ref)).numpy() for a, b in zip(lm, km)]
    pooled = np.array([float(F.avg_pool2d(torch.from_numpy(m)[None, None], 5, 1, 2, count_include_pad=False).max()) for m in summed])
    out['learned'], out['knn'] = (ls, lm), (ks, km)
    out['learned score'] = (ls, summed)
    out['sum of scores / thresholds'] = (ls / float(lp.threshold) + ks / float(kp.threshold), summed)
    out['pooled max'] = (pooled, summed)
    return out

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--seed', type=int, default=0); p.add_argument('--steps', type=int, default=600); p.add_argument('--threads', type=int, default=2)
    p.add_argument('--root', default='/tmp/vatt_bench_anomaly'); p.add_argument('--quick', action='store_true')
    a = p.parse_args()
    from vatt.anomaly import to_batch, fit_both, calibrate, anomaly_metrics
    from vatt.data import read_mask
    torch.set_num_threads(a.threads)
    size, n = ((96, 128), (8, 4, 3)) if a.quick else ((288, 384), (200, 40, 20))
    train, val, test, te = data(a.root + ('_quick' if a.quick else ''), size, *n, split='tune')
    both = calibrate(fit_both(to_batch(train), seed=a.seed, steps=5 if a.quick else a.steps, crop=(64, 64) if a.quick else (128, 128)), to_batch(val))
    types = np.array([c for _, c in test]); y = types != 'ok'
    masks = [read_mask(te/'masks'/c/q.name) for q, c in test]
    rows = {}
    for name, (s, maps) in variants(both, [q for q, _ in test]).items():
        rows[name] = {}
        for t in ('all', 'scratch', 'crack', 'stain'):
            sel = np.flatnonzero(np.ones(len(types), bool) if t == 'all' else (types == t) | ~y)
            r = anomaly_metrics(np.asarray(s)[sel], y[sel], [maps[i] for i in sel], [masks[i] for i in sel], None)
            rows[name][t] = {k: round(float(r[k]), 3) for k in ('image_auroc', 'pixel_auroc', 'aupro')}
        print(f"{name:28s}", ' | '.join(f"{t} {v['image_auroc']:.3f}/{v['pixel_auroc']:.3f}/{v['aupro']:.3f}" for t, v in rows[name].items()), flush=True)
    mean3 = lambda r: np.mean(list(r['all'].values()))
    cands = [k for k in rows if k not in ('learned', 'knn')]
    best = max(cands, key=lambda k: mean3(rows[k]))
    adopt = mean3(rows[best]) > mean3(rows['learned']) and rows[best]['all']['image_auroc'] >= rows['learned']['all']['image_auroc'] - 0.01
    print(json.dumps(dict(seed=a.seed, steps=a.steps, quick=a.quick, rows=rows, best=best, adopted=bool(adopt))))

if __name__ == '__main__': main()

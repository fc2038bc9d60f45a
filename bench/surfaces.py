"""Small defects on real surfaces, learned from scratch on a CPU (issues 11 and 18): three models on splits that cannot
leak, several training seeds, each finished run written to a JSON-lines file as it ends.

    python bench/surfaces.py                   # seeds 0 1 2, each: multitask, ablation, classifier (the most important first)
    python bench/surfaces.py --seeds 1 2       # the rest; runs already in --runs are skipped, so a cut run resumes
    python bench/surfaces.py & python bench/surfaces.py   # two processes share the list, each run taken once
    python bench/surfaces.py --summary         # mean ± spread over the seeds in --runs, nothing trained
    python bench/surfaces.py --quick           # 96x128, 8 images per class, 1 epoch, seed 0: checks the script (about 30 s), measures nothing
    python bench/surfaces.py --table           # BENCHMARKS.md's table from the runs file

The data (`make_surfaces`, data seed 0, drawn once): training images from the training quarter of every photo
(120 per class), validation from the validation quarter (30 per class), test from the test quarter (100 per class)
and a test on photos held out whole (`split='heldout'`, 100 per class); no crop of one split shares a pixel with
a crop of another (tests/test_data.py). The rows, all with `DEFECT_RECIPE` (resnet10t, max pooling, bs 16, one-cycle
at 5e-3, 30 epochs), seeded by the training seed:
- multitask: `train(..., masks='dataset')`: 96x96 mask-aware crops with away-crops, transposes, the fused head, the
  pixel loss at weight 1;
- ablation: the same crops, transposes, away-crops, decoder and fused head, the pixel loss at weight 0 (`weight=0`):
  what the masks add beyond where the crops are taken;
- classifier: the same network without its decoder, whole images, the same schedule.
Every choice is fixed before the test sets are read: the recipe, the epochs, the CAM (method and layer) whose
pointing game is reported, chosen on the validation images. Goals (test set, plain predictions): accuracy >= 0.90,
the learned map's defect-vs-ok AUROC >= 0.95, its pointing game >= 0.90, training <= 600 s; accuracy with the class
probabilities averaged over the four flips is reported apart and meets no goal. Each run records its wall time and its
CPU time (process time: with one torch thread, close to the wall time on an idle machine)."""
import argparse, json, os, tempfile, time, warnings
from pathlib import Path
import numpy as np, torch
from sklearn.metrics import roc_auc_score
from fastai.vision.all import set_seed, FuncSplitter
from fastai.callback.progress import ProgressCallback
from vatt.data import image_items, dataset_masks
from vatt.drawn import make_surfaces
from vatt.defects import defect_dls
from vatt.learner import train, defect_learner, DEFECT_RECIPE
from vatt.cam import candidate_layers, layer_name, DECODER
from vatt.metrics import pointing_game
import vatt.explain  # noqa: F401 (learn.get_maps, learn.defect_map)

ROWS = ('multitask', 'ablation', 'classifier')
CAMS = ('gradcam', 'gradcampp', 'xgradcam', 'hirescam', 'layercam')
ap = argparse.ArgumentParser()
ap.add_argument('--quick', action='store_true', help='a CI-sized run: checks the script, measures nothing')
ap.add_argument('--seeds', type=int, nargs='+', default=None, help='training seeds, run in this order (default 0 1 2; --quick: 0)')
ap.add_argument('--rows', nargs='+', default=list(ROWS), choices=ROWS)
ap.add_argument('--n', type=int, default=None, help='images per class for training + validation (80 %% from the training quarter, 20 %% from the validation quarter)')
ap.add_argument('--n-test', type=int, default=None, help='test images per class (test quarter, and as many from the held-out photos)')
ap.add_argument('--epochs', type=int, default=None)
ap.add_argument('--threads', type=int, default=None, help="torch threads (default torch's; 1 is faster on a loaded machine)")
ap.add_argument('--runs', default=None, help='JSON-lines file: one line per finished run (default bench/surfaces_runs.jsonl; --quick: a temporary file)')
ap.add_argument('--summary', action='store_true', help='print mean ± spread over the runs in --runs and stop')
ap.add_argument('--table', action='store_true', help="print BENCHMARKS.md's table from the runs in --runs and stop")
ap.add_argument('--out', default=None, help='keep the data here (default: a temporary folder)')
args = ap.parse_args()
if args.threads: torch.set_num_threads(args.threads)
warnings.filterwarnings('ignore')
R = {k: getattr(DEFECT_RECIPE, k) for k in ('arch', 'size', 'bs', 'lr', 'epochs', 'pool', 'crop')}  # the recipe, as a dict this script changes
if args.quick: R.update(size=(96, 128), crop=(64, 64), epochs=1)
if args.epochs: R['epochs'] = args.epochs
seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
n, n_test = args.n or (8 if args.quick else 150), args.n_test or (4 if args.quick else 100)
n_valid = max(1, round(n * 0.2))
runs = Path(args.runs or (Path(tempfile.mkdtemp())/'runs.jsonl' if args.quick else Path(__file__).parent/'surfaces_runs.jsonl'))
config = dict(recipe={k: list(v) if isinstance(v, tuple) else v for k, v in R.items()}, n_train=n - n_valid, n_valid=n_valid, n_test=n_test, data_seed=0)
def log(*a): print(*a, flush=True)

FIGS = ['train_s', 'train_cpu_s', 'valid_accuracy', 'test_accuracy', 'test_accuracy_flips', 'test_auroc_classifier', 'test_auroc_map', 'test_pointing_map',
        'test_pointing_cam', 'heldout_accuracy', 'heldout_auroc_classifier', 'heldout_auroc_map', 'heldout_pointing_map', 'heldout_pointing_cam']

def done():
    "The finished runs in `runs` with this configuration: {(row, seed): figures}."
    if not runs.exists(): return {}
    rs = [json.loads(l) for l in runs.read_text().splitlines() if l.strip()]
    return {(r['row'], r['seed']): r for r in rs if r['config'] == config}

def summary():
    "Mean ± spread (sample standard deviation; min-max) of every figure over the finished seeds of each row."
    d = done()
    out = {}
    for row in ROWS:
        rs = [r for (rw, _), r in sorted(d.items()) if rw == row]
        if not rs: continue
        out[row] = dict(seeds=[r['seed'] for r in rs])
        for f in FIGS:
            v = np.array([r[f] for r in rs if r.get(f) is not None], float)
            if len(v): out[row][f] = dict(mean=round(float(v.mean()), 4), sd=round(float(v.std(ddof=1)), 4) if len(v) > 1 else None,
                                          min=round(float(v.min()), 4), max=round(float(v.max()), 4))
        out[row]['cam'] = sorted({r['cam'] for r in rs})
    return out

GOALS = dict(test_accuracy=('>=', 0.90), test_auroc_map=('>=', 0.95), test_pointing_map=('>=', 0.90), train_s=('<=', 600))
ROWS_MD = [('test_accuracy', 'test: classification accuracy'), ('test_accuracy_flips', 'test: accuracy, probabilities averaged over the 4 flips (no goal)'),
           ('test_auroc_map', "test: defect vs ok AUROC, the learned map's maximum"), ('test_auroc_classifier', 'test: defect vs ok AUROC, 1 − p(ok)'),
           ('test_pointing_map', 'test: pointing game (peak within 4 px of the defect), learned map'),
           ('test_pointing_cam', 'test: pointing game, the CAM chosen on validation'),
           ('heldout_accuracy', 'held-out photos: accuracy'), ('heldout_auroc_map', "held-out photos: AUROC, the learned map's maximum"),
           ('heldout_auroc_classifier', 'held-out photos: AUROC, 1 − p(ok)'), ('heldout_pointing_map', 'held-out photos: pointing game, learned map'),
           ('heldout_pointing_cam', 'held-out photos: pointing game, the CAM chosen on validation'),
           ('valid_accuracy', 'validation quarter: accuracy'), ('train_s', 'training time, s (wall, on the loaded machine, 1 thread)'),
           ('train_cpu_s', 'training CPU time, s (process time, 1 thread)')]

def table():
    "BENCHMARKS.md's table: mean ± sample standard deviation over the finished seeds (their count in brackets); a goal met only when every seed meets it."
    sm = summary()
    def cell(row, f):
        v = sm.get(row, {}).get(f)
        if v is None: return '—'
        k = len(sm[row]['seeds'])
        fmt = (lambda x: f'{x:.0f}') if f in ('train_s', 'train_cpu_s') else (lambda x: f'{x:.3f}')
        return f"{fmt(v['mean'])} ± {fmt(v['sd'])} ({k})" if v['sd'] is not None else f'{fmt(v["mean"])} (1)'
    def goal(f):
        if f not in GOALS: return ''
        op, g = GOALS[f]
        v = sm.get('multitask', {}).get(f)
        if v is None: return f'{op} {g}: not measured'
        ok = v['min'] >= g if op == '>=' else v['max'] <= g
        return f"{'≥' if op == '>=' else '≤'} {g} {'✓' if ok else '✗'}"
    lines = ['| figure | multitask (masks) | ablation (pixel loss weight 0) | whole-image classifier | goal (multitask, every seed) |', '|---|---|---|---|---|']
    lines += [f'| {name} | ' + ' | '.join(cell(r, f) for r in ROWS) + f' | {goal(f)} |' for f, name in ROWS_MD]
    cams = {r: sm[r]['cam'] for r in sm}
    return '\n'.join(lines) + '\n\nCAMs chosen on validation: ' + json.dumps(cams) + '\nSeeds: ' + json.dumps({r: sm[r]['seeds'] for r in sm})

if args.table: log(table()); raise SystemExit
if args.summary:
    for row, s in summary().items(): log(row, json.dumps(s))
    raise SystemExit

t_all = time.perf_counter()
out = Path(args.out or tempfile.mkdtemp())
size = R['size']
sets = dict(train=make_surfaces(out/'train', n - n_valid, size, split='train'), valid=make_surfaces(out/'valid', n_valid, size, split='valid'),
            test=make_surfaces(out/'test', n_test, size, split='test'), heldout=make_surfaces(out/'heldout', n_test, size, split='heldout'))
items = {k: list(image_items(v, verify=False)[0]) for k, v in sets.items()}
masks = {k: dataset_masks(items[k], size) for k in ('valid', 'test', 'heldout')}
log(f'data drawn in {time.perf_counter() - t_all:.0f} s:', {k: len(v) for k, v in items.items()})
valid_set = set(map(str, items['valid']))
split = FuncSplitter(lambda o: str(o) in valid_set)

def dls(with_masks):
    "Training images (training quarter) and validation images (validation quarter), with their masks or not."
    return defect_dls(items['train'] + items['valid'], 'dataset' if with_masks else None, size, R['bs'], splitter=split, path=out)

def fit(row, seed):
    "Train one row from random weights with the training seed `seed`."
    kw = {k: v for k, v in R.items() if k not in ('size', 'bs')}
    if row == 'multitask': return train(data=dls(True), masks='dataset', pretrained=False, seed=seed, **kw)
    if row == 'ablation': return train(data=dls(True), masks='dataset', pretrained=False, seed=seed, weight=0., **kw)
    set_seed(seed, reproducible=True)
    learn = defect_learner(dls(False), R['arch'], pool=R['pool'])
    learn.fit_one_cycle(R['epochs'], R['lr'])
    return learn

def probs(learn, its, flips=False):
    "Class probabilities of the images `its` (averaged over the four flips with `flips`) and their labels."
    dl = learn.dls.test_dl(its, with_labels=True, bs=32)
    model, ps, ys = learn.model.eval(), [], []
    with torch.no_grad():
        for b in dl:
            x, y = b[0].as_subclass(torch.Tensor), b[1].as_subclass(torch.Tensor)
            views = (x, x.flip(-1), x.flip(-2), x.flip(-1).flip(-2)) if flips else (x,)
            outs = [model(v) for v in views]
            ps.append(torch.stack([torch.softmax(o[0] if isinstance(o, tuple) else o, 1) for o in outs]).mean(0)); ys.append(y)
    return torch.cat(ps), torch.cat(ys)

def cam_pointing(learn, its, mks):
    "Pointing game of every CAM method at every candidate layer on the defect images of `its`: {'method @ layer': score}."
    keep = mks.flatten(1).any(1)
    defect = [t for t, k in zip(its, keep) if k]
    layers = candidate_layers(learn.model)
    label = {layer_name(learn.model, l): k for k, l in layers.items()}
    maps = learn.get_maps(learn.dls.test_dl(defect, with_labels=True, bs=16), list(CAMS), list(layers.values()), targets='label')
    return {f'{m} @ {label[ln]}': float(np.nanmean(pointing_game(r.maps[:, 0], mks[keep]).numpy())) for (m, ln), r in maps.items()}

def scores(learn, name, cam):
    "Accuracy, AUROCs, the learned map's and the chosen CAM's pointing game on the set `name`."
    its, mks = items[name], masks[name]
    p, y = probs(learn, its)
    ok = learn.dls.vocab.o2i['ok']
    res = {f'{name}_accuracy': round(float((p.argmax(1) == y).float().mean()), 4),
           f'{name}_auroc_classifier': round(float(roc_auc_score(y != ok, 1 - p[:, ok])), 4),
           f'{name}_pointing_cam': round(cam_pointing(learn, its, mks)[cam], 4)}
    if name == 'test':
        pf, _ = probs(learn, its, flips=True)
        res['test_accuracy_flips'] = round(float((pf.argmax(1) == y).float().mean()), 4)
    if learn.run_info.decoder:
        dm = learn.defect_map(its)
        keep = mks.flatten(1).any(1)
        res[f'{name}_auroc_map'] = round(float(roc_auc_score(y != ok, dm.flatten(1).amax(1).numpy())), 4)
        dmaps = learn.get_maps(learn.dls.test_dl([t for t, k in zip(its, keep) if k], with_labels=True, bs=16), ['defect_map'], [DECODER], targets='label')
        res[f'{name}_pointing_map'] = round(float(pointing_game(dmaps['defect_map', DECODER].maps[:, 0], mks[keep]).nanmean()), 4)
    return res

for seed in seeds:
    for row in args.rows:
        if (row, seed) in done(): log(f'{row} seed {seed}: in {runs} already'); continue
        claim = runs.with_name(f'{runs.name}.{row}-{seed}.claim')  # several processes may share the list: each run is taken once
        try: os.close(os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError: log(f'{row} seed {seed}: taken by another process ({claim})'); continue
        t0, c0 = time.perf_counter(), time.process_time(); learn = fit(row, seed); s, cpu = time.perf_counter() - t0, time.process_time() - c0
        learn.remove_cb(ProgressCallback)
        log(f'{row} seed {seed}: trained in {s:.0f} s; last epoch', [round(v, 3) for v in learn.history.rows[-1]])
        pv, yv = probs(learn, items['valid'])
        cams = cam_pointing(learn, items['valid'], masks['valid'])
        cam = max(cams, key=cams.get)  # chosen on the validation images, before any test image is read
        rec = dict(row=row, seed=seed, config=config, loss_weight=learn.run_info.loss_weight, train_s=round(s, 1), train_cpu_s=round(cpu, 1), valid_accuracy=round(float((pv.argmax(1) == yv).float().mean()), 4),
                   cam=cam, valid_pointing_cam=round(cams[cam], 4), **scores(learn, 'test', cam), **scores(learn, 'heldout', cam),
                   threads=torch.get_num_threads(), date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
                   device=torch.cuda.get_device_name() if torch.cuda.is_available() else f'cpu ({os.cpu_count()} cores)')
        with open(runs, 'a') as f: f.write(json.dumps(rec) + '\n')
        claim.unlink()
        log(json.dumps(rec))
log('summary', json.dumps(summary()))
log(f'wall {time.perf_counter() - t_all:.0f} s; runs in {runs}')

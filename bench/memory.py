"""Peak memory (RSS) of Score-CAM, the code of a base commit vs this tree's, each measurement in a fresh subprocess.

    python bench/memory.py                    # base: the merge-base with main; batches 1 2 4 (old) and 1 4 32 (new)
    python bench/memory.py --base main --old-batches 2 4 --new-batches 32
    python bench/memory.py --get-maps                 # get_maps + localization on 2000 images: maps kept vs streamed
    python bench/memory.py --get-maps --n 400 --size 64 64   # a quick check of the script

Score-CAM at resnet50's last stage (2048 channels, 7x7) on 224x224 inputs. The Score-CAM function is called
directly with activations of that shape and a stand-in model whose forward is cheap (a 32x32 average pool and a
1x1 convolution to 2048 channels, a linear head): the memory Score-CAM itself needs (upsampled masks, masked
images, scores) does not depend on how heavy the model is, and a real resnet50 would take hours on a CPU for 32
images x 2048 masks. The old code upsamples every channel of the whole batch at once (B x 2048 x 224 x 224 floats:
13 GB at batch 32, more than this machine has), so it is measured at smaller batches, where its growth shows;
the new code scores in chunks of masked images, so its peak should not depend on the batch. Prints one JSON line
per measurement (peak RSS in MB from `resource.getrusage(RUSAGE_SELF).ru_maxrss`, minus the RSS before the call).

`--get-maps` (issue 18): the report's scoring of 6 CAM methods x 3 layers over N drawn inspection images (resnet10t,
random weights), each way in a fresh subprocess: `keep` = every map kept (`learn.get_maps`, then
`localization_scores` of each, the path before streaming), `stream` = `learn.localize` (each batch scored and let
go, the maps of 40 images and each key's 3 best and 3 worst kept, as the report does). Prints each child's peak RSS
(its own `ru_maxrss`, and the parent's `RUSAGE_CHILDREN` after it: streamed first, so that figure is its own), the
time, and the largest difference between the two ways' per-image scores."""
import argparse, json, os, shutil, subprocess, sys, tempfile, resource, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(which, batch, old_dir):
    "In this (fresh) process: run Score-CAM once and print the peak RSS."
    import torch
    from torch import nn
    if which == 'old': sys.path.insert(0, old_dir); from vatt_old.cam import scorecam
    else: sys.path.insert(0, str(ROOT)); from vatt.cam import scorecam
    torch.manual_seed(0)
    model = nn.Sequential(nn.AvgPool2d(32), nn.Conv2d(3, 2048, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 10)).eval()
    x = torch.randn(batch, 3, 224, 224)
    A = torch.relu(torch.randn(batch, 2048, 7, 7))  # resnet50's last stage
    t = torch.zeros(batch, 1, dtype=torch.long)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    with torch.no_grad(): m = scorecam(model, x, A, t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(dict(code=which, batch=batch, channels=2048, size=224, peak_rss_mb=round(peak), added_mb=round(peak - before),
                          seconds=round(time.perf_counter() - t0, 1), maps=list(m.shape))), flush=True)


def one_get_maps(mode, root, n, h, w, out):
    "In this (fresh) process: score every map of `n` images of `root` one way; print the peak RSS, save the scores to `out`."
    import torch, warnings
    warnings.filterwarnings('ignore')
    sys.path.insert(0, str(ROOT))
    from vatt.data import image_dls, dataset_masks
    from vatt.learner import make_learner
    from vatt.cam import candidate_layers
    from vatt.metrics import localization_scores
    from vatt.report import REPORT_METHODS
    torch.manual_seed(0)
    items = sorted(Path(root).glob('*/*.png'))[:n]
    learn = make_learner(image_dls(root, size=(h, w), bs=32), 'resnet10t', pretrained=False)
    dl = learn.dls.test_dl(items, with_labels=True, bs=32)
    masks, layers = dataset_masks(items, (h, w)), list(candidate_layers(learn.model).values())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    if mode == 'keep':
        scores = {k: localization_scores(r.maps[:, 0], masks) for k, r in learn.get_maps(dl, REPORT_METHODS, layers, targets='label').items()}
    else: scores = learn.localize(dl, REPORT_METHODS, layers, masks=masks, keep=range(40), extremes=3).scores
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    torch.save({k: {s: v.cpu() for s, v in d.items()} for k, d in scores.items()}, out)
    print(json.dumps(dict(mode=mode, images=len(items), size_hw=[h, w], maps=len(scores), peak_rss_mb=round(peak), added_mb=round(peak - before),
                          seconds=round(time.perf_counter() - t0, 1))), flush=True)


def get_maps_bench(n, h, w):
    "Draw the images once, then each way in a fresh subprocess; compare their scores."
    import torch
    sys.path.insert(0, str(ROOT))
    from vatt.data import make_inspection
    tmp = Path(tempfile.mkdtemp())
    root = make_inspection(tmp/'insp', n_per_class=-(-n // 4), size=(h, w))
    print(json.dumps(dict(bench='get_maps memory', head=subprocess.run(['git', '-C', str(ROOT), 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip(),
                          cpus=os.cpu_count(), images=n, size_hw=[h, w], arch='resnet10t (random weights)', maps='6 CAM methods x 3 layers')), flush=True)
    env = {**os.environ, 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '2')}
    for mode in ('stream', 'keep'):
        r = subprocess.run([sys.executable, __file__, '--one-get-maps', mode, str(root), str(n), str(h), str(w), str(tmp/f'{mode}.pt')],
                           capture_output=True, text=True, env=env)
        print(r.stdout.strip() or json.dumps(dict(mode=mode, failed=r.returncode, stderr=r.stderr.strip()[-500:])), flush=True)
        print(json.dumps(dict(mode=mode, children_peak_rss_mb=round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))), flush=True)
    a, b = torch.load(tmp/'stream.pt'), torch.load(tmp/'keep.pt')
    diff = max(float((a[k][s] - b[k][s]).nan_to_num(0).abs().max()) for k in b for s in b[k])
    print(json.dumps(dict(same_keys=list(a) == list(b), max_score_diff=diff)), flush=True)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--base', default=None, help='git ref of the old code (default: the merge-base with main)')
    ap.add_argument('--old-batches', nargs='+', type=int, default=[1, 2, 4])
    ap.add_argument('--new-batches', nargs='+', type=int, default=[1, 4, 32])
    ap.add_argument('--one', nargs=3, default=None, help=argparse.SUPPRESS)
    ap.add_argument('--get-maps', action='store_true', help='peak RSS of the report\'s scoring, every map kept vs streamed (issue 18)')
    ap.add_argument('--n', type=int, default=2000, help='--get-maps: images')
    ap.add_argument('--size', nargs=2, type=int, default=[128, 128], metavar=('H', 'W'), help='--get-maps: input size')
    ap.add_argument('--one-get-maps', nargs=6, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one: one(a.one[0], int(a.one[1]), a.one[2]); sys.exit()
    if a.one_get_maps: m, root, n, h, w, out = a.one_get_maps; one_get_maps(m, root, int(n), int(h), int(w), out); sys.exit()
    if a.get_maps: get_maps_bench(a.n, *a.size); sys.exit()
    git = lambda *c: subprocess.run(['git', '-C', str(ROOT), *c], capture_output=True, text=True, check=True).stdout
    base = a.base or git('merge-base', 'HEAD', 'main').strip()
    old = Path(tempfile.mkdtemp())/'vatt_old'; old.mkdir()
    (old/'__init__.py').write_text('')
    for f in ('core.py', 'cam.py'): (old/f).write_text(git('show', f'{base}:vatt/{f}'))
    print(json.dumps(dict(base=base, head=git('rev-parse', 'HEAD').strip(), cpus=os.cpu_count())), flush=True)
    env = {**os.environ, 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1')}
    for which, batches in (('old', a.old_batches), ('new', a.new_batches)):
        for b in batches:
            r = subprocess.run([sys.executable, __file__, '--one', which, str(b), str(old.parent)], capture_output=True, text=True, env=env)
            print(r.stdout.strip() or json.dumps(dict(code=which, batch=b, failed=r.returncode, stderr=r.stderr.strip()[-300:])), flush=True)

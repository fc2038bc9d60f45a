"""The report's scoring of 6 CAM methods x 3 layer settings, before and after the one-pass maps engine, on the same
model and images, in one run.

    python bench/report_speed.py            # resnet18, 240 images at 192x144 (the setting of issue 12), 2 CPU cores
    python bench/report_speed.py --quick    # resnet10t, 48 images at 64x48: checks the script

Before: the report's old path, one `learn.get_cams` per (method, layer) — 18 passes of `get_preds` over the images,
each running the old engine (`vatt/cam.py` as it was at commit BEFORE, read from git) on every batch. After: one
`learn.get_maps(dl, methods, layers)`, every method at every layer from one forward and one backward pass per batch.
Both then score every map (`localization_scores`). Prints the maps' largest difference (goal <= 1e-5), the two
times and their ratio (goal >= 5x), as a final JSON line."""
import argparse, json, os, subprocess, sys, tempfile, time, types
from pathlib import Path
import torch
from fastai.vision.all import Callback
from vatt.data import dataset_masks
from vatt.drawn import make_inspection
from vatt.learner import train
from vatt.cam import candidate_layers, layer_name
from vatt.metrics import localization_scores
from vatt.report import REPORT_METHODS

BEFORE = '72bf1ed'  # the last commit with one engine call per (method, layer)
ROOT = Path(__file__).resolve().parent.parent

ap = argparse.ArgumentParser()
ap.add_argument('--quick', action='store_true')
ap.add_argument('--threads', type=int, default=None, help='torch threads (default: torch\'s)')
args = ap.parse_args()
if args.threads: torch.set_num_threads(args.threads)
arch, (h, w), n, epochs = ('resnet10t', (48, 64), 12, 1) if args.quick else ('resnet18', (144, 192), 60, 3)


def old_engine():
    "vatt.cam as it was before the one-pass engine, from git."
    try: src = subprocess.check_output(['git', '-C', str(ROOT), 'show', f'{BEFORE}:vatt/cam.py'], text=True)
    except (subprocess.CalledProcessError, FileNotFoundError) as e: sys.exit(f'needs the git history of the repository ({BEFORE}): {e}')
    mod = types.ModuleType('vatt_cam_before')
    sys.modules[mod.__name__] = mod  # dataclasses look their module up
    exec(compile(src.replace('from .core import', 'from vatt.core import'), f'{BEFORE}:vatt/cam.py', 'exec'), mod.__dict__)
    return mod


class OldCams(Callback):
    "The old `CamCallback`: the old engine on every batch of `get_preds`, true-class targets."
    order = 1
    def __init__(self, engine, method, layer): self.engine, self.method, self.layer = engine, method, layer
    def before_validate(self): self.maps = []
    def after_pred(self):
        r = self.engine.compute_cams(self.model, self.xb[0], targets=self.yb[0], method=self.method, layer=self.layer)
        self.maps.append(r.maps[:, 0].cpu())


root = make_inspection(Path(tempfile.mkdtemp())/'insp', n_per_class=n, size=(h, w))
learn = train(arch, root, epochs=epochs, lr=3e-3, bs=32, size=(h, w), pretrained=False, seed=0)
items = sorted(f for f in root.glob('*/*.png'))  # every image of the set: 4n
dl = learn.dls.test_dl(items, with_labels=True, bs=32)
masks = dataset_masks(items, (h, w))
layers = candidate_layers(learn.model)
old = old_engine()

t0 = time.perf_counter()
before = {}
for m in REPORT_METHODS:
    for spec in layers.values():
        cb = OldCams(old, m, spec)
        learn.get_preds(dl=dl, cbs=[cb])
        before[m, layer_name(learn.model, spec)] = torch.cat(cb.maps)
scores_before = {k: localization_scores(v, masks) for k, v in before.items()}
t_before = time.perf_counter() - t0

t0 = time.perf_counter()
after = {k: r.maps[:, 0] for k, r in learn.get_maps(dl, REPORT_METHODS, list(layers.values()), targets='label').items()}
scores_after = {k: localization_scores(v, masks) for k, v in after.items()}
t_after = time.perf_counter() - t0

assert set(before) == set(after), (set(before) ^ set(after))
diff = max(float((before[k] - after[k]).abs().max()) for k in before)
score_diff = max(float((scores_before[k][s] - scores_after[k][s]).nan_to_num(0).abs().max()) for k in before for s in scores_before[k])
print(f'{len(items)} images at {w}x{h}, {arch}; {len(before)} (method, layer) maps; max |map diff| {diff:.1e}, max |score diff| {score_diff:.1e}')
print(f'before (one pass per method and layer): {t_before:.1f} s; after (one pass): {t_after:.1f} s; {t_before / t_after:.1f}x faster')
print(json.dumps(dict(bench='report_speed', quick=args.quick, arch=arch, images=len(items), size_wh=[w, h], maps=len(before),
                      before_s=round(t_before, 2), after_s=round(t_after, 2), ratio=round(t_before / t_after, 2),
                      max_map_diff=diff, max_score_diff=score_diff, threads=torch.get_num_threads(),
                      device=torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu', cpus=os.cpu_count())))

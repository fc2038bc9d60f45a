"""Does the map land on a small defect? vatt's maps and pytorch-grad-cam's, scored with the same metrics on the same
trained model and images, in one run.

    python bench/localization.py            # GPU: 768x512 images, defects < 1 % of the image, resnet18, 12 epochs
    python bench/localization.py --quick    # CPU: 256x176, a few epochs, about two minutes on 2 cores

1. The embedded inspection set in its small-defect mode (`defect_size` a few % of the shorter side: every defect
   covers well under 1 % of the image), and a CNN trained from scratch at that size, with global max pooling in its
   head by default (`--pool`): with average pooling the same model does not learn such defects (bench/pooling.py).
2. Equal methods: pytorch-grad-cam's GradCAM, GradCAM++, XGradCAM, HiResCAM and LayerCAM against vatt's with
   plain resizing (`align=False`), same layer, true-class targets: the largest map difference and the largest
   difference of each localization score.
3. Best vs default: every vatt method at the layers `candidate_layers` names (receptive-field aligned), against
   pytorch-grad-cam's GradCAM at the last stage, the layer its users pick (`model.layer4[-1]`).
Prints a table and a final JSON line."""
import argparse, json, os, tempfile, time
from pathlib import Path
import torch
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, XGradCAM, HiResCAM, LayerCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from vatt.data import load_mask, dataset_masks, valid_dl
from vatt.drawn import make_inspection
from vatt.learner import train
from vatt.cam import get_layer, candidate_layers, layer_name, LAST_STAGE, PREVIOUS_STAGE
from vatt.metrics import localization_scores, summarize
import vatt.explain  # noqa: F401  (learn.get_maps)

PGC = dict(gradcam=GradCAM, gradcampp=GradCAMPlusPlus, xgradcam=XGradCAM, hirescam=HiResCAM, layercam=LayerCAM)
VATT = ('gradcam', 'gradcampp', 'xgradcam', 'hirescam', 'layercam', 'eigencam')
SCORES = ('pointing', 'energy', 'iou_best_set', 'auroc')

ap = argparse.ArgumentParser()
ap.add_argument('--quick', action='store_true')
ap.add_argument('--arch', default='resnet18')
ap.add_argument('--size', type=int, nargs=2, default=None, metavar=('W', 'H'))
ap.add_argument('--n', type=int, default=None, help='images per class')
ap.add_argument('--epochs', type=int, default=None)
ap.add_argument('--pool', default='max', choices=('avg', 'max'), help="the head's global pooling (bench/pooling.py: 'max' learns small defects)")
ap.add_argument('--defect-size', type=float, nargs=2, default=(0.04, 0.08), help='defect length, fraction of the shorter side')
ap.add_argument('--out', default=None, help='keep the data set here (default: a temporary folder)')
args = ap.parse_args()
wh = tuple(args.size or ((256, 176) if args.quick else (768, 512)))
size = (wh[1], wh[0])  # (height, width), as the library takes it
n = args.n or (60 if args.quick else 300)
epochs = args.epochs or (8 if args.quick else 12)
dev = 'cuda' if torch.cuda.is_available() else 'cpu'

root = Path(args.out or tempfile.mkdtemp())/'small_defects'
t0 = time.perf_counter()
make_inspection(root, n_per_class=n, size=size, defect_size=tuple(args.defect_size), seed=0)
learn = train(args.arch, root, epochs=epochs, lr=2e-3, bs=16 if args.quick else 32, size=size, pretrained=False, seed=0, pool=args.pool)
train_s = time.perf_counter() - t0
vitems = list(learn.dls.valid_ds.items)
defect = [f for f in vitems if load_mask(f).any()]
dl = learn.dls.test_dl(defect, with_labels=True, bs=16)
masks = dataset_masks(defect, size)
share = float(masks.flatten(1).float().mean(1).max())
labels = torch.tensor([learn.dls.vocab.o2i[f.parent.name] for f in defect])
acc = float((learn.get_preds(dl=valid_dl(learn.dls))[0].argmax(1) ==
             torch.tensor([learn.dls.vocab.o2i[f.parent.name] for f in vitems])).float().mean())
print(f'{len(defect)} validation images with a defect, the largest covering {share:.2%} of its image; '
      f'validation accuracy {acc:.3f} after {train_s:.0f} s', flush=True)

def vatt_maps(method, layer, align):
    return learn.get_maps(dl, [method], [layer], targets='label', align=align)[method, layer_name(learn.model, layer)].maps[:, 0]

def pgc_maps(method, layer):
    "pytorch-grad-cam's maps of the true class, batch by batch, on the model's device."
    model = learn.model.eval()
    out = []
    with PGC[method](model=model, target_layers=[get_layer(model, layer)[1]]) as cam:
        for i, b in enumerate(dl):
            t = labels[i * dl.bs:(i + 1) * dl.bs]
            out.append(torch.from_numpy(cam(input_tensor=b[0].as_subclass(torch.Tensor), targets=[ClassifierOutputTarget(int(c)) for c in t])))
    return torch.cat(out)

def scored(maps):
    s = summarize(localization_scores(maps, masks, tol=4))
    return {k: round(s[k], 4) for k in SCORES}

layers = candidate_layers(learn.model)
prev = layers.get(PREVIOUS_STAGE, layers[LAST_STAGE])
equal, t_vatt, t_pgc = {}, 0., 0.
for m in PGC:
    t1 = time.perf_counter(); ours = vatt_maps(m, prev, align=False); t_vatt += time.perf_counter() - t1
    t1 = time.perf_counter(); ref = pgc_maps(m, prev); t_pgc += time.perf_counter() - t1
    so, sr = scored(ours), scored(ref)
    equal[m] = dict(max_map_diff=float((ours - ref).abs().max()), max_score_diff=max(abs(so[k] - sr[k]) for k in SCORES), **so)
    print(f"equal {m:10s} at {prev}: max |map diff| {equal[m]['max_map_diff']:.1e}, max |score diff| {equal[m]['max_score_diff']:.1e}", flush=True)

rows, every = [], learn.get_maps(dl, VATT, list(layers.values()), targets='label')  # every method at every layer, one pass
for m in VATT:
    for lname, layer in layers.items():
        rows.append(dict(method=m, layer=lname, **scored(every[m, layer_name(learn.model, layer)].maps[:, 0])))
best = max(rows, key=lambda r: (r['pointing'], r['energy']))
pgc_default = scored(pgc_maps('gradcam', layers[LAST_STAGE]))
print(f"{'method':10s} {'layer':22s} " + ' '.join(f'{k:>12s}' for k in SCORES))
for r in rows: print(f"{r['method']:10s} {r['layer']:22s} " + ' '.join(f'{r[k]:12.3f}' for k in SCORES))
print(f"{'pgc gradcam':10s} {'last stage':22s} " + ' '.join(f'{pgc_default[k]:12.3f}' for k in SCORES))
print(json.dumps(dict(bench='localization', quick=args.quick, arch=args.arch, pool=args.pool, size_wh=list(wh), defect_size=list(args.defect_size), n_per_class=n, epochs=epochs,
                      defect_images=len(defect), max_defect_share=round(share, 5), accuracy=round(acc, 4), train_s=round(train_s, 1),
                      equal=equal, vatt_best=best, pgc_gradcam_last_stage=pgc_default,
                      equal_methods_seconds=dict(vatt=round(t_vatt, 2), pgc=round(t_pgc, 2)),
                      device=torch.cuda.get_device_name(0) if dev == 'cuda' else 'cpu', cpus=os.cpu_count())))

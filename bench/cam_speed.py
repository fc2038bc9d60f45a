"""CAM images/s: vatt vs pytorch-grad-cam (pgc) on the same model, layer, inputs and targets, in one run.

    python bench/cam_speed.py                   # GPU: resnet50, convnext_tiny, coatnet_0_rw_224 at 224
    python bench/cam_speed.py --quick           # CPU, seconds: resnet10t at 64x64
    python bench/cam_speed.py --models resnet50 --methods gradcam

For each model (random weights: speed and equality do not depend on training) it measures
- Grad-CAM, fp32, batch 32: vatt vs pgc (goal >= 4x), and pgc one image at a time;
- Grad-CAM, vatt with a bf16 model at batch 256 vs pgc fp32 batch 32 (goal >= 10x; GPU only);
- Score-CAM on a few images: vatt vs pgc with its default batch of 16 masked images (goal >= 5x);
and the max |difference| of the fp32 maps (vatt with `align=False`, plain resizing as pgc; the timed calls use
vatt's default, which also moves each map by the layer's receptive-field offset, measured once and cached). Times include everything each library does to return its maps
(pgc returns NumPy arrays on the host; vatt returns tensors on the device, synchronised before the clock
stops). Prints one JSON line per measurement and a final JSON line with all of them."""
import argparse, json, os, time
import torch, timm
from pytorch_grad_cam import GradCAM, ScoreCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from vatt.cam import compute_cams, get_layer, default_layer

ap = argparse.ArgumentParser()
ap.add_argument('--quick', action='store_true')
ap.add_argument('--models', nargs='+', default=None)
ap.add_argument('--methods', nargs='+', default=['gradcam', 'scorecam'])
ap.add_argument('--size', type=int, default=None)
ap.add_argument('--min-seconds', type=float, default=None, help='time each measurement for at least this long')
args = ap.parse_args()
dev = torch.device('cuda' if torch.cuda.is_available() and not args.quick else 'cpu')
models = args.models or (['resnet10t'] if args.quick else ['resnet50', 'convnext_tiny', 'coatnet_0_rw_224'])
size = args.size or (64 if args.quick else 224)
min_s = args.min_seconds or (0.3 if args.quick else 2.0)
bs, big_bs, sc_n = (8, None, 1) if args.quick else (32, 256, 8)
ncls = 10
sync = (lambda: torch.cuda.synchronize()) if dev.type == 'cuda' else (lambda: None)
device_name = torch.cuda.get_device_name() if dev.type == 'cuda' else f'cpu ({os.cpu_count()} cores)'


def rate(fn, n_images):
    "Images per second of `fn` (one warm-up call, then repeated for at least `min_s`)."
    fn(); sync()
    calls, t0 = 0, time.perf_counter()
    while True:
        fn(); sync(); calls += 1
        dt = time.perf_counter() - t0
        if dt >= min_s: return calls * n_images / dt


def pgc_maps(cls, model, layer, x, targets, **attrs):
    with cls(model=model, target_layers=[layer]) as cam:
        for k, v in attrs.items(): setattr(cam, k, v)
        return cam(input_tensor=x, targets=[ClassifierOutputTarget(int(t)) for t in targets])


results = []
def record(**r):
    r.update(device=device_name, size=size, torch=torch.__version__)
    results.append(r); print(json.dumps(r), flush=True)


for arch in models:
    torch.manual_seed(0)
    model = timm.create_model(arch, num_classes=ncls).to(dev).eval()
    name, layer = get_layer(model, default_layer(model))
    x = torch.randn(bs, 3, size, size, device=dev)
    t = torch.arange(bs, device=dev) % ncls
    if 'gradcam' in args.methods:
        ours = compute_cams(model, x, targets=t, method='gradcam', layer=name, align=False).maps[:, 0]
        ref = torch.from_numpy(pgc_maps(GradCAM, model, layer, x, t)).to(dev)
        diff = (ours - ref).abs().max().item()
        v = rate(lambda: compute_cams(model, x, targets=t, method='gradcam', layer=name), bs)
        p = rate(lambda: pgc_maps(GradCAM, model, layer, x, t), bs)
        p1 = rate(lambda: [pgc_maps(GradCAM, model, layer, x[i:i + 1], t[i:i + 1]) for i in range(bs)], bs)
        record(method='gradcam', model=arch, layer=name, setting=f'fp32, batch {bs}', vatt_img_s=round(v, 1),
               pgc_img_s=round(p, 1), ratio=round(v / p, 2), pgc_one_at_a_time_img_s=round(p1, 1), max_diff=diff)
        if big_bs and dev.type == 'cuda':
            mb = timm.create_model(arch, num_classes=ncls).to(dev).eval().to(torch.bfloat16)
            xb = torch.randn(big_bs, 3, size, size, device=dev, dtype=torch.bfloat16)
            tb = torch.arange(big_bs, device=dev) % ncls
            v = rate(lambda: compute_cams(mb, xb, targets=tb, method='gradcam', layer=name), big_bs)
            record(method='gradcam', model=arch, layer=name, setting=f'vatt bf16 batch {big_bs} vs pgc fp32 batch {bs}',
                   vatt_img_s=round(v, 1), pgc_img_s=round(p, 1), ratio=round(v / p, 2), max_diff=None)
            del mb, xb
    if 'scorecam' in args.methods:
        xs, ts = x[:sc_n], t[:sc_n]
        ours = compute_cams(model, xs, targets=ts, method='scorecam', layer=name, align=False).maps[:, 0]
        ref = torch.from_numpy(pgc_maps(ScoreCAM, model, layer, xs, ts)).to(dev)
        diff = (ours - ref).abs().max().item()
        v = rate(lambda: compute_cams(model, xs, targets=ts, method='scorecam', layer=name), sc_n)
        p = rate(lambda: pgc_maps(ScoreCAM, model, layer, xs, ts), sc_n)
        record(method='scorecam', model=arch, layer=name, setting=f'fp32 model, {sc_n} images; pgc batch 16 masks',
               vatt_img_s=round(v, 2), pgc_img_s=round(p, 2), ratio=round(v / p, 2), max_diff=diff)
    del model; torch.cuda.empty_cache() if dev.type == 'cuda' else None

print(json.dumps(dict(bench='cam_speed', quick=args.quick, results=results)))

"""vatt's CAMs equal pytorch-grad-cam's on the same model, layer, input and per-image targets (max |diff| <= 1e-4, fp32).

Random weights are enough: the definitions, not the training, are under test."""
import gc, pytest, torch, timm
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, XGradCAM, HiResCAM, LayerCAM, EigenCAM, ScoreCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection
import numpy as np
from pytorch_grad_cam.utils.image import scale_cam_image
from vatt.cam import compute_map, get_layer, default_layer, hook_count, capture, to_nchw, eigencam
from vatt.core import VattError

PGC = dict(gradcam=GradCAM, gradcampp=GradCAMPlusPlus, xgradcam=XGradCAM, hirescam=HiResCAM, layercam=LayerCAM,
           eigencam=EigenCAM, scorecam=ScoreCAM)
MODELS = {  # name: (timm arch, input size, pgc reshape_transform)
    'resnet': ('resnet10t', (96, 128), None),
    'convnext': ('convnext_atto', (96, 128), None),
    'coatnet': ('coatnet_nano_rw_224', (224, 224), None),
    'vit': ('vit_tiny_patch16_224', (224, 224), lambda t: t[:, 1:].reshape(t.shape[0], 14, 14, t.shape[2]).permute(0, 3, 1, 2)),
}
_cache = {}


def _model(key):
    if key not in _cache:
        torch.manual_seed(0)
        arch, hw, rt = MODELS[key]
        _cache[key] = (timm.create_model(arch, num_classes=6).eval(), torch.randn(3, 3, *hw), rt)
    return _cache[key]


@pytest.mark.parametrize('key', list(MODELS))
@pytest.mark.parametrize('method', list(PGC))
def test_equal_to_pytorch_grad_cam(key, method):
    if method == 'scorecam' and key == 'coatnet': pytest.skip('768 channels x 224 px: covered by resnet, convnext and vit')
    model, x, rt = _model(key)
    targets = [4, 0, 2]  # one class per image, not the predicted one
    name, layer = get_layer(model, default_layer(model))
    with PGC[method](model=model, target_layers=[layer], reshape_transform=rt) as pgc:
        if method == 'scorecam': pgc.batch_size = 64
        ref = torch.from_numpy(pgc(input_tensor=x, targets=[ClassifierOutputTarget(t) for t in targets]))
    # align=False: plain resizing as pgc does; vatt's default also moves each map to where its cells look (rf_offset)
    ours = compute_map(model, x, method, name, targets=targets, align=False).maps[:, 0]
    assert ours.shape == ref.shape
    diff = (ours - ref).abs().max().item()
    if key == 'coatnet' and method == 'hirescam':
        # on purpose: Σ_c G·A vanishes at every position (a per-position LayerNorm follows), so the map is
        # rounding noise; pgc scales the noise up to [0, 1], vatt returns zeros
        assert ours.abs().max() == 0 and ref.max() > 0.99, 'expected zeros from vatt, scaled noise from pgc'
    elif method == 'eigencam':  # the principal component's sign is arbitrary: pgc's map is ours, or pgc's pipeline on -projection
        with capture(model, [layer]) as acts, torch.no_grad(): model(x)
        proj = get_2d_projection(to_nchw(acts[0], model, x.shape[-2:]).numpy())
        flipped = torch.from_numpy(pgc_pipeline(-proj, x.shape[-2:]))
        assert torch.from_numpy(pgc_pipeline(proj, x.shape[-2:])).sub(ref).abs().max() <= 1e-5  # the pipeline is pgc's
        for o, r, f in zip(ours, ref, flipped):
            assert min((o - r).abs().max(), (o - f).abs().max()) <= 1e-4, f'{key} eigencam: neither sign matches'
    else: assert diff <= 1e-4, f'{key} {method}: max |diff| {diff}'
    assert hook_count(model) == 0


def pgc_pipeline(raw, hw):
    "pytorch-grad-cam's post-processing of one layer's raw maps (B, h, w): ReLU, scale, resize, aggregate."
    return scale_cam_image(np.maximum(scale_cam_image(np.maximum(raw, 0), (hw[1], hw[0]))[:, None].mean(1), 0))


@pytest.mark.parametrize('key', list(MODELS))
def test_eigencam_projection_equal_up_to_sign(key):
    "Eigen-CAM's projection equals pgc's up to the sign of the principal component; vatt's sign follows the activations."
    model, x, rt = _model(key)
    name, layer = get_layer(model, default_layer(model))
    with capture(model, [layer]) as acts, torch.no_grad(): model(x)
    A = to_nchw(acts[0], model, x.shape[-2:])
    ours, ref = eigencam(A), torch.from_numpy(get_2d_projection(A.numpy()))
    for o, r, a in zip(ours, ref, A):
        assert min((o - r).abs().max(), (o + r).abs().max()) <= 1e-4 * r.abs().max()
        total = a.sum(0)
        assert (o * (total - total.mean())).sum() >= 0  # vatt's sign agrees with the activations


def test_hirescam_vanishes_before_layernorm():
    "The reason for the coatnet/hirescam difference: Σ_c G·A is rounding noise at every position."
    model, x, _ = _model('coatnet')
    name, layer = get_layer(model, default_layer(model))
    xg = x.clone().requires_grad_(True)
    with capture(model, [layer]) as acts: out = model(xg)
    G, = torch.autograd.grad(out[:, 4].sum(), acts[0])
    raw, terms = (G * acts[0]).sum(1), (G * acts[0]).abs().sum(1)
    assert raw.abs().max() <= 1e-5 * terms.max()


def test_top_k_batched_equals_one_target_at_a_time():
    model, x, _ = _model('resnet')
    r = compute_map(model, x, k=3)
    for j in range(3):
        single = compute_map(model, x, targets=r.targets[:, j]).maps[:, 0]
        assert (single - r.maps[:, j]).abs().max() <= 1e-6


def test_no_hooks_left_and_no_growth_after_100_calls():
    model, x, _ = _model('resnet')
    model.train()
    def n_tensors(): gc.collect(); return sum(1 for o in gc.get_objects() if torch.is_tensor(o))
    compute_map(model, x[:1]); base = n_tensors()
    for i in range(100):
        if i % 3 == 0:
            with pytest.raises(VattError): compute_map(model, x[:1], targets=[1, 2])  # raises after the forward pass
        else: compute_map(model, x[:1], 'gradcampp' if i % 2 else 'gradcam', k=2)
    assert hook_count(model) == 0 and model.training
    assert n_tensors() <= base + 5
    model.eval()

"""The attention vatt captures is the attention each timm block applies: softmax(attn) @ v through the module's own
projection reproduces the module's output (max |diff| <= 1e-5, fp32) for every supported block type; capture leaves
the model as it was; rollout and the position mapping match hand-computed cases; bad input gets a clear VattError.

Random weights are enough (and a 'sharpened' copy, qkv weights x6, for peaked attention as in trained models)."""
import copy, dataclasses, pytest, torch, timm
from timm.layers import set_fused_attn, use_fused_attn
from timm.models.maxxvit import MaxxVit, MaxxVitCfg, MaxxVitTransformerCfg
from vatt.attention import (attention_layers, has_attention, capture_attention, attention_output, reproduction_error,
                            attention_method, rollout, received, from_query, token_positions, peak_position)
from vatt.cam import hook_count, compute_maps
from vatt.core import VattError


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models on a shared CPU
    yield
    torch.set_num_threads(n)


def tiny_maxxvit(block_type, **tcfg):
    cfg = MaxxVitCfg(embed_dim=(32, 64), depths=(1, 1), block_type=block_type, stem_width=16,
                     transformer_cfg=MaxxVitTransformerCfg(dim_head=16, **tcfg))
    return MaxxVit(cfg, img_size=64, num_classes=4)


MODELS = {  # name: (factory, input (H, W))
    'vit': (lambda: timm.create_model('vit_tiny_patch16_224', img_size=(48, 64), depth=3, num_classes=4, dynamic_img_size=True), (48, 64)),
    'vit_registers': (lambda: timm.create_model('vit_tiny_patch16_224', img_size=(48, 64), depth=2, reg_tokens=4, num_classes=4), (48, 64)),
    'vit_no_class_token': (lambda: timm.create_model('vit_tiny_patch16_224', img_size=(48, 64), depth=2, class_token=False,
                                                     global_pool='avg', num_classes=4), (48, 64)),
    'vit_qk_norm_scale_norm': (lambda: timm.create_model('vit_tiny_patch16_224', img_size=(48, 64), depth=2, qk_norm=True,
                                                         scale_attn_norm=True, num_classes=4), (48, 64)),
    'deit_distilled': (lambda: timm.create_model('deit_tiny_distilled_patch16_224', img_size=(48, 64), depth=2, num_classes=4), (48, 64)),
    'coatnet': (lambda: timm.create_model('coatnet_nano_rw_224', img_size=64, num_classes=4), (64, 64)),
    'coatnet_rmlp': (lambda: timm.create_model('coatnet_rmlp_nano_rw_224', img_size=64, num_classes=4), (64, 64)),
    'maxvit': (lambda: timm.create_model('maxvit_rmlp_pico_rw_256', img_size=128, num_classes=4), (128, 128)),
    'maxvit_nano': (lambda: timm.create_model('maxvit_nano_rw_256', img_size=64, num_classes=4), (64, 64)),
    'maxvit_nchw': (lambda: tiny_maxxvit(('M', 'M'), use_nchw_attn=True), (64, 64)),
    'maxvit_parallel': (lambda: tiny_maxxvit(('PM', 'PM')), (64, 64)),
    'coat_tf_layout': (lambda: tiny_maxxvit(('C', 'T'), head_first=False, rel_pos_type='bias_tf'), (64, 64)),
    'maxvit_tf_layout_mlp': (lambda: tiny_maxxvit(('M', 'M'), head_first=False, rel_pos_type='mlp'), (64, 64)),
}
_cache = {}


def _model(key):
    if key not in _cache:
        torch.manual_seed(0)
        factory, hw = MODELS[key]
        _cache[key] = (factory().eval(), torch.randn(2, 3, *hw))
    return _cache[key]


def sharpened(model, f=6.):
    m = copy.deepcopy(model)
    with torch.no_grad():
        for _, a in attention_layers(m): a.qkv.weight.mul_(f)
    return m


@pytest.mark.parametrize('sharp', [False, True], ids=['random', 'sharpened'])
@pytest.mark.parametrize('key', list(MODELS))
def test_captured_attention_reproduces_output(key, sharp):
    model, x = _model(key)
    if sharp: model = sharpened(model)
    errs = reproduction_error(model, x)
    assert errs and all(e <= 1e-5 for e in errs.values()), errs
    with torch.no_grad(), capture_attention(model) as recs: model(x)
    assert len(recs) == len(attention_layers(model))
    for r in recs: torch.testing.assert_close(r.attn.sum(-1), torch.ones_like(r.attn[..., 0]))  # softmax rows


def test_gated_attention_outside_a_vit():
    from timm.layers import Attention
    torch.manual_seed(0)
    model = torch.nn.Sequential(Attention(64, num_heads=4, gated=True, scale_norm=True, qk_norm=True, norm_layer=torch.nn.LayerNorm)).eval()
    x = torch.randn(2, 10, 64)
    assert reproduction_error(model, x)['Attention'] <= 1e-5
    with torch.no_grad(), capture_attention(model) as recs: model(x)
    assert recs[0].grid == (1, 10) and not recs[0].cls and recs[0].gate is not None


def test_reproduction_catches_wrong_attention():
    model, x = _model('coatnet')
    model = sharpened(model)
    with torch.no_grad(), capture_attention(model) as recs: model(x)
    r = recs[5]
    for bad in (r.attn.roll(1, dims=1), r.attn.roll(1, dims=2), r.attn.mean(1, keepdim=True).expand_as(r.attn)):
        assert (attention_output(dataclasses.replace(r, attn=bad)) - r.out).abs().max() > 1e-2


@pytest.mark.parametrize('key', ['vit', 'coatnet', 'maxvit'])
def test_capture_leaves_model_as_it_was(key):
    model, x = _model(key)
    with torch.no_grad():
        fused = model(x)
        for _, m in attention_layers(model): m.fused_attn = False
        unfused = model(x)
        for _, m in attention_layers(model): m.fused_attn = True
        model.train()
        with capture_attention(model): captured = model(x)
        assert model.training
        model.eval()
    assert torch.equal(captured, unfused) and torch.allclose(captured, fused, atol=1e-4)
    assert hook_count(model) == 0 and all(m.fused_attn for _, m in attention_layers(model))
    with pytest.raises(Exception), capture_attention(model): model(x[:, :2])  # the forward pass fails
    assert hook_count(model) == 0 and all(m.fused_attn for _, m in attention_layers(model)) and not model.training


def test_prefix_tokens_and_grids():
    with torch.no_grad():
        for key, n_pre, cls in [('vit', 1, True), ('vit_registers', 5, True), ('vit_no_class_token', 0, False), ('deit_distilled', 2, True)]:
            model, x = _model(key)
            with capture_attention(model) as recs: model(x)
            assert recs[0].grid == (3, 4) and recs[0].cls == cls
            assert recs[0].pos[0, :n_pre].tolist() == [-1] * n_pre and recs[0].pos[0, n_pre:].tolist() == list(range(12))
        model, _ = _model('vit')
        with capture_attention(model) as recs: model(torch.randn(1, 3, 64, 80))  # dynamic_img_size: any size
        assert recs[0].grid == (4, 5) and (attention_output(recs[0]) - recs[0].out).abs().max() <= 1e-5


def test_maxvit_windows_back_on_the_image():
    model, x = _model('maxvit')
    with torch.no_grad(), capture_attention(model) as recs: model(x)
    win, grd = recs[0], recs[1]
    assert win.grid == (32, 32) and win.pos.shape == (64, 16)
    assert sorted(win.pos.flatten().tolist()) == list(range(32 * 32))  # every cell in exactly one window
    torch.testing.assert_close(received(win).sum((-2, -1)), torch.full((2, win.heads), 64.))
    q = from_query(win, torch.tensor([[5, 6], [31, 0]]))
    assert (q[0] > 0).nonzero()[:, 1:].unique(dim=0).tolist() == [[y, x] for y in range(4, 8) for x in range(4, 8)]
    torch.testing.assert_close(q[0, :, 4:8, 4:8].flatten(1), win.attn[9, :, 6])  # window (1, 1), token (1, 2)
    torch.testing.assert_close(q[1, :, 28:32, 0:4].flatten(1), win.attn[64 + 7 * 8, :, 12])  # image 1, window (7, 0), token (3, 0)
    g = from_query(grd, torch.tensor([[5, 6], [0, 0]]))
    assert (g[0, 0] > 0).nonzero().tolist() == [[y, x] for y in range(5, 32, 8) for x in range(6, 32, 8)]


def test_token_positions():
    from timm.models.maxxvit import window_partition, grid_partition
    assert token_positions((2, 3), n_prefix=2).tolist() == [[-1, -1, 0, 1, 2, 3, 4, 5]]
    assert token_positions((4, 4), window_partition, (2, 2)).tolist()[3] == [10, 11, 14, 15]
    assert token_positions((4, 4), grid_partition, (2, 2)).tolist()[3] == [5, 7, 13, 15]


def test_rollout_hand_computed():
    I = torch.eye(3)
    A1, A2 = I.clone(), I.clone()
    A1[0], A2[0] = torch.tensor([0., 1., 0.]), torch.tensor([0., 0., 1.])
    R = rollout([A1[None, None], A2[None, None]])
    torch.testing.assert_close(R[0, 0], torch.tensor([.25, .25, .5]))
    H2 = torch.stack([A1, A2])[None]
    torch.testing.assert_close(rollout([H2])[0, 0], torch.tensor([.5, .25, .25]))
    torch.testing.assert_close(rollout([H2], 'max')[0, 0], torch.full((3,), 1 / 3))
    torch.testing.assert_close(rollout([H2], 'min')[0, 0], torch.tensor([1., 0., 0.]))
    A = torch.tensor([[0, .7, .3], [.1, .9, 0], [0, .4, .6]])
    torch.testing.assert_close(rollout([A[None, None]], discard_ratio=0.5)[0],
                               torch.tensor([[.5, .35, .15], [0, 1, 0], [0, .2, .8]]))


def test_rollout_on_a_vit_is_the_class_row():
    model, x = _model('vit')
    res = compute_maps(model, x, 'rollout', size=(3, 4))['rollout', 'rollout']
    with torch.no_grad(), capture_attention(model) as recs: model(x)
    R = rollout([r.attn for r in recs])
    expect = R[:, 0, 1:].reshape(2, 3, 4)
    lo, hi = expect.flatten(1).min(1)[0][:, None, None], expect.flatten(1).max(1)[0][:, None, None]
    torch.testing.assert_close(res.maps[:, 0], (expect - lo) / (hi - lo), atol=1e-5, rtol=1e-4)


def test_class_specific_maps_follow_the_gradient():
    model, x = _model('vit')
    res, = compute_maps(model, x[:1], 'grad_cls', targets=2).values()  # the last attention layer
    with capture_attention(model) as recs: y = model(x[:1])
    A = recs[-1].attn
    g, = torch.autograd.grad(y[0, 2], A)
    torch.testing.assert_close(res.heads[0], (A * g).clamp(min=0)[0, :, 0, 1:].reshape(3, 3, 4))
    model, x = _model('coatnet')
    a, b = (compute_maps(model, x, 'grad_received', targets=t, attn_layers='all') for t in (0, 3))
    assert not all(torch.allclose(a[k].maps, b[k].maps) for k in a) and all(a[k].targets[:, 0].tolist() == [0, 0] for k in a)


@pytest.mark.parametrize('key,method,n_layers', [('vit', 'auto', 3), ('vit', 'rollout', 1), ('vit_no_class_token', 'auto', 2),
                                                 ('vit_no_class_token', 'grad_rollout', 1), ('coatnet', 'auto', 9),
                                                 ('maxvit', 'grad_query', 22), ('maxvit_nchw', 'received', 4)])
def test_compute_attention_shapes(key, method, n_layers):
    model, x = _model(key)
    method = attention_method(model) if method == 'auto' else method
    res = compute_maps(model, x, method, query=(10, 20), size=(32, 40), attn_layers='all')
    assert len(res) == n_layers and all(r.maps.shape == (2, 1, 32, 40) for r in res.values())
    assert all(r.maps.min() >= 0 and r.maps.max() <= 1 for r in res.values()) and hook_count(model) == 0
    last = list(res.values())[-1]
    if last.heads is not None: assert last.head_maps().shape[-2:] == (32, 40)


def test_peak_position():
    m = torch.zeros(2, 5, 7)
    m[0, 1, 6] = 1; m[1, 4, 0] = 1
    assert peak_position(m).tolist() == [[1, 6], [4, 0]]


def test_no_attention_points_to_cams():
    model = timm.create_model('resnet10t', num_classes=4).eval()
    assert not has_attention(model)
    with pytest.raises(VattError, match='CAM methods'): compute_maps(model, torch.randn(1, 3, 64, 64), 'received')


def test_coatnet_size_not_built_for():
    model, _ = _model('coatnet')
    with pytest.raises(VattError, match=r'built for a 4x4 feature map \(inputs of 64x64 px\).*img_size=\(H, W\)'):
        compute_maps(model, torch.randn(1, 3, 96, 96), 'received')
    model, _ = _model('maxvit')
    with pytest.raises(VattError, match='built for 128x128'): compute_maps(model, torch.randn(1, 3, 96, 96), 'received')
    assert hook_count(model) == 0


def test_fused_attention_forced():
    was = use_fused_attn()
    set_fused_attn(True)
    try: model = timm.create_model('vit_tiny_patch16_224', img_size=(48, 64), depth=2, num_classes=4).eval()
    finally: set_fused_attn(was)
    assert all(m.fused_attn for _, m in attention_layers(model))
    assert reproduction_error(model, torch.randn(2, 3, 48, 64))['Attention'] <= 1e-5
    assert all(m.fused_attn for _, m in attention_layers(model))


def test_fused_kernel_that_cannot_be_switched_off():
    model, x = _model('vit')
    blk = model.blocks[0].attn
    orig = type(blk).forward
    def always_fused(self, x, attn_mask=None, is_causal=False):  # what a scripted/compiled module would do
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        return self.proj(torch.nn.functional.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, N, C))
    blk.forward = always_fused.__get__(blk)
    try:
        with pytest.raises(VattError, match='fused kernel'): compute_maps(model, x, 'cls', attn_layers='all')
    finally: del blk.forward
    assert hook_count(model) == 0 and type(blk).forward is orig


def test_bad_arguments():
    model, x = _model('coatnet')
    for kw, msg in [(dict(methods='gradcam+'), 'unknown map method'), (dict(methods='query'), r'query=\(y, x\)'),
                    (dict(methods='rollout'), 'same tokens in every layer'), (dict(methods='cls'), 'no class token'),
                    (dict(methods='received', attn_layers=['nope']), 'no attention layer named'),
                    (dict(methods='received', head_fusion='median'), 'head_fusion')]:
        with pytest.raises(VattError, match=msg): compute_maps(model, x, **kw)
    assert hook_count(model) == 0


def test_learner_vit_attention_and_figure(tmp_path):
    from vatt.data import image_dls
    from vatt.drawn import make_inspection
    from vatt.learner import make_learner
    from vatt.explain import attention_figure
    from vatt.plots import save_fig
    root = make_inspection(tmp_path/'insp', n_per_class=2, size=(48, 64))
    learn = make_learner(image_dls(root, size=(48, 64), bs=4), 'vit_tiny_patch16_224', pretrained=False, img_size=(48, 64), depth=2)
    items = sorted((root/'spot').glob('*.png'))[:2]
    res = learn.explain(items, 'rollout', k=1)
    assert res.maps.shape == (2, 1, 48, 64) and res.images.shape == (2, 48, 64, 3)
    fig = save_fig(attention_figure(learn, items), tmp_path/'attn.png')
    assert len(fig.axes) == 2 * (1 + 2 + 1) and (tmp_path/'attn.png').exists() and hook_count(learn.model) == 0


def test_fused_attention_forced_by_environment():
    import os, subprocess, sys, textwrap
    code = textwrap.dedent('''
        import torch, timm
        from vatt.attention import attention_layers, reproduction_error
        torch.set_num_threads(1)
        m = timm.create_model('vit_tiny_patch16_224', img_size=(32, 32), depth=2, num_classes=3).eval()
        assert all(a.fused_attn for _, a in attention_layers(m))
        assert reproduction_error(m, torch.randn(1, 3, 32, 32))['Attention'] <= 1e-5
        assert all(a.fused_attn for _, a in attention_layers(m))
        print('captured')''')
    env = {**os.environ, 'TIMM_FUSED_ATTN': '2'}  # 2: fused attention even where timm calls it experimental
    r = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and 'captured' in r.stdout, r.stderr[-2000:]

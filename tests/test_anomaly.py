"Anomaly maps from good images only (vatt.anomaly, issue 17): masks, search, threshold, whole images, layout, metrics."
import numpy as np, pytest, torch, torch.nn.functional as F, cv2
from vatt.anomaly import (SHAPES, ALL_FILLS, draw_anomaly, nn_search, greedy_coreset, fit_knn, calibrate, AnomalyModel, score_large,
                          read_mvtec, mvtec_masks, is_mvtec, auroc, aupro, anomaly_metrics, split_normal, fit_learned)
from vatt.defects import DefectNet
from vatt.core import VattError

def _smooth(*shape, seed=0):
    "Random images with some spatial correlation (normalised scale)."
    g = torch.Generator().manual_seed(seed)
    return F.avg_pool2d(torch.randn(*shape, generator=g), 3, 1, 1) * 2

@pytest.mark.parametrize('shape', list(SHAPES))
@pytest.mark.parametrize('fill', list(ALL_FILLS))
@pytest.mark.parametrize('soft', [0., 1.])
def test_synthetic_masks_exact(shape, fill, soft):
    g = torch.Generator().manual_seed(3)
    for _ in range(3):
        x, o = _smooth(3, 64, 64, seed=1)[0:3], _smooth(3, 64, 64, seed=2)
        y, m = draw_anomaly(x, o, g, shapes=(shape,), fills=(fill,), soft=soft)
        assert m.any(), 'a draw must change something'
        assert torch.equal(m, (y != x).any(0)), 'the mask is exactly the changed pixels'
        assert torch.equal(y[:, ~m], x[:, ~m])

def test_nn_search_equals_cdist():
    g = torch.Generator().manual_seed(0)
    q, bank = torch.randn(1000, 32, generator=g), torch.randn(257, 32, generator=g)
    d, j = nn_search(q, bank, k=3, chunk=100)
    bf = torch.cdist(q, bank)
    v, i = bf.topk(3, 1, largest=False)
    torch.testing.assert_close(d, v, rtol=1e-5, atol=1e-5)
    assert torch.equal(j, i)
    d1, j1 = nn_search(q, bank)
    assert torch.equal(j1[:, 0], bf.argmin(1))

def test_coreset_is_farthest_first():
    pts = torch.tensor([[0., 0], [0.1, 0], [10, 0], [0, 10], [10.1, 0]])
    sel = greedy_coreset(pts, 3, proj=0, seed=0).tolist()
    assert len(set(sel)) == 3
    # from any start the three far corners (one of {0, 1}, one of {2, 4}, and 3) are kept
    assert 3 in sel and len({0, 1} & set(sel)) == 1 and len({2, 4} & set(sel)) == 1

def _texture(n, h=64, w=64, seed=0):
    "Good images of one texture: stripes at a random phase with a little noise."
    g = torch.Generator().manual_seed(seed)
    xs = torch.arange(w).float()[None, None, None, :] + torch.arange(h).float()[None, None, :, None] * 0.5
    ph = torch.rand(n, 1, 1, 1, generator=g) * 6.28
    return torch.sin(xs / 3 + ph).expand(n, 3, h, w) + 0.1 * torch.randn(n, 3, h, w, generator=g)

def test_threshold_normal_below_defect_above():
    x = _texture(14)
    tr, ho = split_normal(12, held_out=0.25, seed=0)
    m = calibrate(fit_knn(x[tr], 'resnet18', share=0.1), x[ho], frr=0.01)
    assert float(m.frr) == pytest.approx(0.01) and not torch.isnan(m.threshold)
    d = x[13].clone(); d[:, 20:36, 20:36] = torch.tensor([2.5, -2.5, 2.5])[:, None, None]
    s = m.score(torch.stack([x[12], d]))
    assert s[0] < m.threshold < s[1]
    logits, amap = m(torch.stack([x[12], d]))
    assert logits.argmax(1).tolist() == [0, 1] and amap.shape == (2, 1, 64, 64)
    assert amap[1, 0, 20:36, 20:36].mean() > 1.3 * amap[1, 0, 48:].mean()
    iy, ix = divmod(int(amap[1, 0].argmax()), 64)
    assert 12 <= iy < 44 and 12 <= ix < 44, 'the map peaks at the drawn defect'

@pytest.mark.parametrize('method', ['knn', 'learned', 'both'])
def test_whole_image_equals_crops_away_from_borders(method):
    torch.manual_seed(0)
    knn = lambda: fit_knn(_smooth(2, 3, 96, 96, seed=5), 'resnet18', share=0.05)
    learned = lambda: AnomalyModel('learned', DefectNet('resnet18', n_classes=1, head='encoder', seg='binary').eval()).eval()
    m = dict(knn=knn, learned=learned, both=lambda: AnomalyModel('both', torch.nn.ModuleList([learned(), knn()])).eval())[method]()
    big = _smooth(1, 3, 768, 1024, seed=6)
    _, whole = m.raw(big)
    assert whole.shape == (1, 1, 768, 1024)
    y0, x0, h, w, e = 128, 256, 384, 512, 64
    _, crop = m.raw(big[..., y0:y0 + h, x0:x0 + w])
    torch.testing.assert_close(crop[0, 0, e:-e, e:-e], whole[0, 0, y0 + e:y0 + h - e, x0 + e:x0 + w - e], rtol=1e-4, atol=1e-4 * float(whole.abs().max()))

def test_bands_have_no_seams():
    m = fit_knn(_smooth(2, 3, 96, 96, seed=5), 'resnet18', share=0.05)
    x = _smooth(1, 3, 1300, 96, seed=7)
    _, whole = m.raw(x)
    _, banded = score_large(m, x, band=256, margin=128)
    torch.testing.assert_close(banded, whole[0, 0], rtol=1e-4, atol=1e-4 * float(whole.abs().max()))

def test_mvtec_layout(tmp_path):
    p = tmp_path/'bottle'
    for d in ('train/good', 'test/good', 'test/broken_large', 'test/contamination', 'ground_truth/broken_large', 'ground_truth/contamination'):
        (p/d).mkdir(parents=True)
    img = np.full((16, 20, 3), 128, np.uint8)
    for f in ('train/good/000.png', 'train/good/001.png', 'train/good/002.png', 'test/good/000.png', 'test/broken_large/000.png',
              'test/broken_large/001.png', 'test/contamination/000.png'): cv2.imwrite(str(p/f), img)
    mk = np.zeros((16, 20), np.uint8); mk[2:5, 3:9] = 255
    cv2.imwrite(str(p/'ground_truth/broken_large/000_mask.png'), mk)
    cv2.imwrite(str(p/'ground_truth/broken_large/001_mask.png'), mk)
    cv2.imwrite(str(p/'ground_truth/contamination/000_mask.png'), mk[:, ::-1].copy())
    assert is_mvtec(p) and not is_mvtec(tmp_path)
    mv = read_mvtec(p)
    assert [q.name for q in mv['train']] == ['000.png', '001.png', '002.png']
    assert [(q.name, t) for q, t, _ in mv['test']] == [('000.png', 'broken_large'), ('001.png', 'broken_large'), ('000.png', 'contamination'), ('000.png', 'good')]
    ms = mvtec_masks(mv['test'])
    assert [int(m.sum()) for m in ms] == [18, 18, 18, 0] and ms[0].shape == (16, 20)
    assert ms[2][2, 20 - 4] and not ms[2][2, 3]
    with pytest.raises(VattError, match='MVTec AD layout'): read_mvtec(tmp_path)

def test_auroc_and_aupro():
    from sklearn.metrics import roc_auc_score
    r = np.random.default_rng(0)
    s, y = r.normal(size=2000).round(1), r.random(2000) < 0.2
    s = s + y
    assert auroc(s, y) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    # AUPRO: two regions, one found fully and one not at all (below every normal pixel) -> PRO 0.5 at every FPR
    mask = np.zeros((20, 20), bool); mask[2:4, 2:4] = True; mask[10:18, 10:18] = True
    amap = np.where(mask, -1.0, 0.0); amap[2:4, 2:4] = 5
    assert aupro([amap], [mask]) == pytest.approx(0.5, abs=0.02)
    # a small region counts as much as a big one: found big region only -> also 0.5
    amap2 = np.where(mask, -1.0, 0.0); amap2[10:18, 10:18] = 5
    assert aupro([amap2], [mask]) == pytest.approx(0.5, abs=0.02)
    res = anomaly_metrics([0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1], [amap] * 4, [mask] * 4, threshold=0.5)
    assert res['image_auroc'] == 1 and res['recall'] == 1 and res['false_reject_rate'] == 0

def test_too_few_good_images():
    with pytest.raises(VattError, match='at least'): fit_knn(_smooth(1, 3, 64, 64), 'resnet18')
    with pytest.raises(VattError, match='at least'): split_normal(2)
    with pytest.raises(VattError, match='at least'): fit_learned(_smooth(2, 3, 64, 64), 'resnet18', steps=1)

def test_learner_serves_anomaly_map(tmp_path):
    "train(path, normal=...) gives a Learner whose get_maps/explain serve 'anomaly_map', and CAMs are refused with the method named."
    import vatt.explain  # noqa: F401 (learn.get_maps, learn.explain)
    from vatt.learner import train
    from vatt.drawn import make_surfaces
    good = make_surfaces(tmp_path/'good', n_per_class=10, size=(64, 96), seed=0, classes=('ok',), photos=('brick',))
    learn = train(good, normal='ok', anomaly='knn')
    res = learn.get_maps(methods=['anomaly_map'])
    (key, maps), = res.items()
    assert key == ('anomaly_map', 'knn') and maps.maps.shape == (2, 1, 64, 96) and 0 <= float(maps.maps.min()) <= float(maps.maps.max()) < 1
    with pytest.raises(VattError, match="'anomaly_map'"): learn.get_maps(methods=['gradcam'])
    with pytest.raises(VattError, match='not used'): train(good, normal='ok', masks='dataset')
    with pytest.raises(VattError, match=r"the folders are \['ok'\]"): train(good, normal='bad')

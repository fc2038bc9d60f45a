"Masks are exactly the changed pixels; unreadable and odd images are reported, skipped or converted."
import warnings
import numpy as np
from PIL import Image
from vatt.data import image_dls, load_mask
from vatt.drawn import make_inspection, CLASSES, _part_surface


def _clean_render(seed, h, w):
    "The defect-free image drawn from the same random stream as the saved one, independently of the renderer."
    rng = np.random.default_rng(seed)
    grey, _ = _part_surface(rng, h, w)
    tint = rng.uniform(0.93, 1.0, 3).astype(np.float32)
    return np.clip(np.round(grey[..., None] * tint), 0, 255).astype(np.uint8)


def test_masks_are_the_changed_pixels(tmp_path):
    w, h = 120, 80
    root = make_inspection(tmp_path/'d', n_per_class=6, size=(h, w), seed=3)
    for ci, c in enumerate(CLASSES):
        for i in range(6):
            f = root/c/f'{c}_{i:04d}.png'
            saved = np.array(Image.open(f).convert('RGB'))
            changed = (saved != _clean_render([3, ci, i], h, w)).any(-1)
            mask = load_mask(f)
            assert np.array_equal(mask, changed), (f, mask.sum(), changed.sum())
            assert (mask.sum() > 0) == (c != 'pass')


def test_large_non_square_small_defects(tmp_path):
    root = make_inspection(tmp_path/'big', n_per_class=1, size=(640, 1024), defect_size=(0.03, 0.06))
    for c in CLASSES[1:]:
        m = load_mask(root/c/f'{c}_0000.png')
        assert m.shape == (640, 1024) and 0 < m.mean() < 0.01


def test_bad_and_odd_images_are_reported_skipped_or_converted(tmp_path):
    root = make_inspection(tmp_path/'d', n_per_class=8, size=(48, 64))
    (root/'spot'/'empty.png').write_bytes(b'')
    (root/'spot'/'notes.jpg').write_text('this is not a jpeg')
    raw = (root/'pass'/'pass_0000.png').read_bytes()
    (root/'pass'/'cut.png').write_bytes(raw[:len(raw) // 3])
    img = Image.open(root/'pass'/'pass_0001.png')
    img.convert('L').save(root/'pass'/'grey.png'); img.convert('RGBA').save(root/'pass'/'rgba.png')
    img.convert('P').save(root/'pass'/'palette.png')
    Image.fromarray((np.asarray(img.convert('L')).astype(np.uint16) * 257)).save(root/'pass'/'deep16.png')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        dls = image_dls(root, size=(48, 64), bs=4)
    msg = ' '.join(str(x.message) for x in w)
    assert sorted(p.name for p in dls.skipped) == ['cut.png', 'empty.png', 'notes.jpg']
    for name in ('cut.png', 'empty.png', 'notes.jpg'): assert name in msg
    names = {p.name for p in dls.train_ds.items + dls.valid_ds.items}
    assert {'grey.png', 'rgba.png', 'palette.png', 'deep16.png'} <= names
    for dl in (dls.train, dls.valid):  # a full pass over every batch: nothing crashes mid-epoch
        for xb, yb in dl: assert xb.shape[1:] == (3, 48, 64) and not xb.isnan().any()


def _surface_cover(root):
    "Per photo, the photo pixels the crops of the set at `root` read: each crop's quadrilateral, widened by the 2 px cubic interpolation reaches (3 with rounding)."
    import json, cv2
    from vatt.drawn import surface_photo
    cover = {}
    for note in json.loads((root/'dataset.json').read_text())['images'].values():
        m = cover.setdefault(note['photo'], np.zeros(surface_photo(note['photo']).shape, np.uint8))
        cv2.fillPoly(m, [np.round(np.array(note['crop'])).astype(np.int32)], 1)
    return {k: cv2.dilate(m, np.ones((7, 7), np.uint8)).astype(bool) for k, m in cover.items()}


def test_surface_splits_share_no_pixel(tmp_path):
    "No crop of one split of the real-surface set overlaps a crop of another; 'heldout' draws from photos no other split sees."
    from vatt.drawn import make_surfaces, SURFACE_PHOTOS
    splits = ('train', 'valid', 'tune', 'test', 'heldout')
    covers = {s: _surface_cover(make_surfaces(tmp_path/s, n_per_class=5, size=(64, 80), split=s)) for s in splits}
    for s in ('train', 'valid', 'tune', 'test'): assert set(covers[s]) <= set(SURFACE_PHOTOS), covers[s].keys()
    assert not set(covers['heldout']) & set(SURFACE_PHOTOS), covers['heldout'].keys()
    for i, a in enumerate(splits):
        for b in splits[i + 1:]:
            for photo in set(covers[a]) & set(covers[b]):
                shared = (covers[a][photo] & covers[b][photo]).sum()
                assert shared == 0, f'{a} and {b} crops share {shared} pixels of {photo}'

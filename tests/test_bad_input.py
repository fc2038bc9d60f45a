"""Bad input and interrupted runs (issue 13): each case gets a clear one-line error naming the fix, or correct
behaviour with a warning, and a run never leaves a folder whose files disagree. Tiny models, in-process `main`."""
import json, pickle, pytest, torch
import numpy as np
from PIL import Image
import vatt.report
from vatt.cli import main
from vatt.drawn import make_inspection
from vatt.cam import compute_map
from vatt.core import VattError

TINY = ['--arch', 'resnet10t', '--epochs', '1', '--size', '64', '48']


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    "A tiny demo run: its folder holds model.pkl, the report and the data set with masks."
    out = tmp_path_factory.mktemp('demo')/'run'
    torch.set_num_threads(1)
    assert main(['demo', '--out', str(out), '--n', '10', '--bs', '8', *TINY]) == 0
    return out


def err(capsys):
    "What the last command wrote on stderr, and that it is no traceback."
    e = capsys.readouterr().err
    assert 'Traceback' not in e
    return e


# High
def test_more_best_worst_images_than_a_batch(tmp_path, capsys):
    "Case 1: the best and worst images come from every batch, not the first one only."
    assert main(['demo', '--out', str(tmp_path/'o'), '--n', '8', '--bs', '4', *TINY]) == 0
    assert (tmp_path/'o'/'best_worst.png').stat().st_size > 1000


def test_explain_with_masks_in_small_batches(demo, tmp_path):
    "Case 1, vatt explain --masks of a model trained with another batch size."
    assert main(['explain', str(demo/'model.pkl'), str(demo/'data'), '--masks', str(demo/'data'/'masks'), '--bs', '3', '--out', str(tmp_path/'ex')]) == 0
    assert json.loads((tmp_path/'ex'/'metrics.json').read_text())['cam']['images'] > 3


def test_exactly_one_defect_image(demo, tmp_path):
    "Case 2: a boxes CSV with one row."
    f = sorted((demo/'data'/'spot').glob('*.png'))[0]
    (tmp_path/'boxes.csv').write_text(f'file,x0,y0,x1,y1\nspot/{f.name},10,10,20,20\n')
    assert main(['explain', str(demo/'model.pkl'), str(demo/'data'), '--boxes', str(tmp_path/'boxes.csv'), '--out', str(tmp_path/'ex')]) == 0
    assert json.loads((tmp_path/'ex'/'metrics.json').read_text())['cam']['images'] == 1


def test_failed_run_keeps_the_previous_model_and_report(demo, tmp_path, monkeypatch, capsys):
    "Case 3: a run that fails after training leaves the earlier model and report as they were, and nothing half-written."
    out = tmp_path/'o'
    assert main(['train', str(demo/'data'), '--no-pretrained', '--out', str(out), *TINY]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    def boom(*a, **k): raise VattError('the report failed')
    monkeypatch.setattr(vatt.report, 'report_model', boom)
    assert main(['train', str(demo/'data'), '--no-pretrained', '--out', str(out), *TINY]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ['o']  # no temporary folder left


def test_second_run_replaces_the_first_whole(demo, tmp_path, capsys):
    "Case 3: a finished run replaces the previous report, says so, and leaves none of its files behind."
    out = tmp_path/'o'
    assert main(['train', str(demo/'data'), '--no-pretrained', '--out', str(out), *TINY]) == 0
    (out/'attention.png').write_bytes(b'from another model')
    capsys.readouterr()
    assert main(['train', str(demo/'data'), '--no-pretrained', '--out', str(out), *TINY]) == 0
    assert 'replacing the previous report' in err(capsys) and not (out/'attention.png').exists()


def test_demo_does_not_mix_old_data(tmp_path):
    "Case 4: --n 8 then --n 4 into the same folder trains on 4 per class."
    out = tmp_path/'o'
    assert main(['demo', '--out', str(out), '--n', '8', *TINY]) == 0
    assert main(['demo', '--out', str(out), '--n', '4', *TINY]) == 0
    assert len(list((out/'data'/'spot').glob('*.png'))) == 4
    assert json.loads((out/'data'/'dataset.json').read_text())['counts']['spot'] == 4


# Medium
def test_one_class_only(tmp_path, capsys):
    "Case 5."
    root = make_inspection(tmp_path/'d', n_per_class=6, size=(48, 64), classes=('spot',))
    assert main(['train', str(root), '--no-pretrained', '--out', str(tmp_path/'o'), *TINY]) == 2
    assert 'only one class' in err(capsys) and not (tmp_path/'o').exists()


@pytest.mark.parametrize('argv,msg', [(['--lr', '-1'], '--lr -1.0: the learning rate must be positive'), (['--size', '0', '0'], '--size 0 0'),
                                      (['--bs', '0'], '--bs 0'), (['--epochs', '0'], '--epochs 0')])
def test_arguments_checked(tmp_path, capsys, argv, msg):
    "Case 6: nothing trained, nothing written."
    assert main(['demo', '--out', str(tmp_path/'o'), '--n', '4', *argv]) == 2
    assert msg in err(capsys) and not (tmp_path/'o').exists()


@pytest.mark.parametrize('content', ['text', 'pickle'])
def test_not_a_model(tmp_path, capsys, content):
    "Case 7: a model.pkl holding text, or another pickle."
    f = tmp_path/'model.pkl'
    if content == 'text': f.write_text('not a model')
    else: f.write_bytes(pickle.dumps({'weights': [1, 2, 3]}))
    (tmp_path/'imgs').mkdir()
    assert main(['explain', str(f), str(tmp_path/'imgs'), '--out', str(tmp_path/'o')]) == 2  # an --out apart from the images
    assert 'give the model.pkl that vatt train or vatt demo wrote' in err(capsys)


def test_size_a_model_would_crop(demo, tmp_path, capsys):
    "Case 8: a ViT at 70x50 would drop the right 6 columns and bottom 2 rows; it is named before training."
    assert main(['train', str(demo/'data'), '--no-pretrained', '--arch', 'vit_tiny_patch16_224', '--size', '70', '50', '--out', str(tmp_path/'o')]) == 2
    assert 'ignore the last 2 row(s) and 6 column(s)' in err(capsys)


# Low
def test_class_with_one_image(tmp_path, capsys):
    "Case 9: a warning, and training goes on."
    root = make_inspection(tmp_path/'d', n_per_class=6, size=(48, 64), classes=('pass', 'spot'))
    for f in sorted((root/'spot').glob('*.png'))[1:]: f.unlink()
    assert main(['train', str(root), '--no-pretrained', '--out', str(tmp_path/'o'), *TINY]) == 0
    assert 'single image and so no validation image: spot' in err(capsys)


def test_masks_of_another_size(demo, tmp_path, capsys):
    "Case 10: masks of another aspect are stretched, with a warning."
    masks = tmp_path/'m'/'spot'; masks.mkdir(parents=True)
    f = sorted((demo/'data'/'spot').glob('*.png'))[0]
    Image.fromarray(np.full((30, 30), 255, np.uint8)).save(masks/f.name)
    assert main(['explain', str(demo/'model.pkl'), str(demo/'data'), '--masks', str(tmp_path/'m'), '--out', str(tmp_path/'ex')]) == 0
    assert 'differ in size from their images' in err(capsys)


def test_box_rows_for_missing_files(demo, tmp_path, capsys):
    "Case 11: rows naming files not in the folder are reported."
    f = sorted((demo/'data'/'spot').glob('*.png'))[0]
    (tmp_path/'boxes.csv').write_text(f'file,x0,y0,x1,y1\nspot/{f.name},10,10,20,20\nspot/gone.png,1,1,5,5\n')
    assert main(['explain', str(demo/'model.pkl'), str(demo/'data'), '--boxes', str(tmp_path/'boxes.csv'), '--out', str(tmp_path/'ex')]) == 0
    assert 'gone.png' in err(capsys)


def test_ctrl_c(demo, tmp_path, monkeypatch, capsys):
    "Case 12: one line, status 130, the previous contents intact."
    out = tmp_path/'o'
    assert main(['train', str(demo/'data'), '--no-pretrained', '--out', str(out), *TINY]) == 0
    before = sorted(p.name for p in out.iterdir())
    def interrupt(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(vatt.report, 'train', interrupt)
    capsys.readouterr()
    assert main(['train', str(demo/'data'), '--no-pretrained', '--out', str(out), *TINY]) == 130
    e = err(capsys)
    assert e.count('\n') == 1 and 'interrupted' in e and sorted(p.name for p in out.iterdir()) == before
    assert [p.name for p in tmp_path.iterdir()] == ['o']


def test_images_without_class_folders(tmp_path, capsys):
    "Case 13: say what layout is expected; the output folder is not created."
    (tmp_path/'flat').mkdir()
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(tmp_path/'flat'/'a.png')
    assert main(['train', str(tmp_path/'flat'), '--out', str(tmp_path/'o')]) == 2
    assert 'one folder per class' in err(capsys) and not (tmp_path/'o').exists()


def test_mask_hint_names_the_option(demo, tmp_path, capsys):
    "Case 13: masks named unlike the images point to --mask-suffix."
    (tmp_path/'m').mkdir(); Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path/'m'/'other.png')
    assert main(['explain', str(demo/'model.pkl'), str(demo/'data'), '--masks', str(tmp_path/'m'), '--out', str(tmp_path/'ex')]) == 2
    assert '--mask-suffix' in err(capsys)


def test_empty_batch_and_float_targets():
    "Case 13: an empty batch, and targets that are not whole class numbers, are clear errors."
    import timm
    model = timm.create_model('resnet10t', num_classes=3).eval()
    with pytest.raises(VattError, match='empty batch'): compute_map(model, torch.zeros(0, 3, 32, 32))
    with pytest.raises(VattError, match='whole class numbers'): compute_map(model, torch.zeros(2, 3, 32, 32), targets=torch.tensor([0.5, 1.0]))


def test_kill_leaves_nothing_half_written(tmp_path):
    "Case 12, the command itself: SIGTERM (a kill, a CI timeout) ends like Ctrl-C, with no temporary folder left behind."
    import os, signal, subprocess, sys, time
    env = {**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '1'}
    p = subprocess.Popen([sys.executable, '-m', 'vatt.cli', 'demo', '--out', str(tmp_path/'o'), '--n', '40', *TINY, '--epochs', '50'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    t0 = time.time()
    while time.time() - t0 < 120 and not any(tmp_path.glob('.o.part-*/data/dataset.json')): time.sleep(0.5)  # training has begun
    time.sleep(2); p.send_signal(signal.SIGTERM)
    out, err_ = p.communicate(timeout=120)
    assert p.returncode == 130 and 'interrupted' in err_ and 'Traceback' not in err_, err_[-2000:]
    assert list(tmp_path.iterdir()) == []


# Issue 21: outputs apart from inputs, masks that match nothing, loops, labels, numbers. Each test below failed on the code
# before the fix. `copy_demo` gives a test its own copy of the shared tiny demo run when the test could harm it.
import os, shutil, subprocess, sys
from pathlib import Path
import pandas as pd


def copy_demo(demo, dest):
    shutil.copytree(demo, dest)
    return dest


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob('*')) if p.is_file()}


def small_data(demo, dest, n=2):
    "A data folder of `n` images of each of the demo's classes, without masks: a short explain."
    for c in ('pass', 'scratch_x', 'scratch_y', 'spot'):
        (dest/c).mkdir(parents=True)
        for f in sorted((demo/'data'/c).glob('*.png'))[:n]: shutil.copy(f, dest/c/f.name)
    return dest


def some_images(demo, dest, n=4, classes=('spot', 'pass')):
    "A flat folder of `n` images per class of the demo, for predict."
    dest.mkdir(parents=True)
    for c in classes:
        for f in sorted((demo/'data'/c).glob('*.png'))[:n]: shutil.copy(f, dest/f.name)
    return dest


## Loses data
def test_out_holding_the_training_data(demo, tmp_path, capsys):
    "Loses data 1: train DATA --out a folder that holds DATA is refused, both paths named; the data stays."
    d = copy_demo(demo, tmp_path/'demo2')
    before = snapshot(d/'data')
    assert main(['train', str(d/'data'), '--out', str(d), '--no-pretrained', *TINY]) == 2
    e = err(capsys)
    assert str(d.resolve()) in e and str((d/'data').resolve()) in e and snapshot(d/'data') == before


def test_out_holding_the_model(demo, tmp_path, capsys):
    "Loses data 2: explain M DATA --out the folder holding M and DATA is refused; model and data stay."
    d = copy_demo(demo, tmp_path/'demo3')
    assert main(['explain', str(d/'model.pkl'), str(d/'data'), '--out', str(d)]) == 2
    assert 'model' in err(capsys) and (d/'model.pkl').is_file() and len(list((d/'data'/'spot').glob('*.png'))) == 10


def test_cam_into_the_input_folder(demo, tmp_path, capsys):
    "Loses data 3: predict --cam INPUT would overwrite the input images with overlays: refused."
    inp = some_images(demo, tmp_path/'inp')
    before = snapshot(inp)
    assert main(['predict', str(demo/'model.pkl'), str(inp), '--csv', str(tmp_path/'p.csv'), '--cam', str(inp)]) == 2
    assert '--cam' in err(capsys) and snapshot(inp) == before


def test_cam_into_a_folder_of_other_files(demo, tmp_path, capsys):
    "Loses data 4: --cam into a folder of the user's files is refused (as --out is); a new folder is written whole."
    inp = some_images(demo, tmp_path/'inp')
    cams = tmp_path/'a'; cams.mkdir(); (cams/'a_0.png').write_bytes(b'my file')
    assert main(['predict', str(demo/'model.pkl'), str(inp), '--csv', str(tmp_path/'p.csv'), '--cam', str(cams)]) == 2
    assert 'files vatt did not write' in err(capsys) and (cams/'a_0.png').read_bytes() == b'my file' and len(list(cams.iterdir())) == 1
    assert main(['predict', str(demo/'model.pkl'), str(inp), '--csv', str(tmp_path/'p.csv'), '--cam', str(tmp_path/'new')]) == 0
    assert len(list((tmp_path/'new').glob('*.png'))) == 8 and sorted(p.name for p in tmp_path.iterdir()) == ['a', 'inp', 'new', 'p.csv']


def test_same_name_two_extensions_two_overlays(demo, tmp_path):
    "Loses data 5: x.jpg and x.png give two CSV rows and two overlays."
    inp = tmp_path/'inp'; inp.mkdir()
    f = sorted((demo/'data'/'spot').glob('*.png'))[0]
    shutil.copy(f, inp/'x.png'); Image.open(f).save(inp/'x.jpg', quality=95)
    assert main(['predict', str(demo/'model.pkl'), str(inp), '--csv', str(tmp_path/'p.csv'), '--cam', str(tmp_path/'cams')]) == 0
    assert len(pd.read_csv(tmp_path/'p.csv')) == 2 and len(list((tmp_path/'cams').glob('x*.png'))) == 2


def test_second_concurrent_run_refused(demo, tmp_path, capsys):
    "Loses data 6: a run into an --out that another running vatt is writing (its lock beside --out) is refused."
    out = tmp_path/'conc'
    other = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        (tmp_path/'.conc.lock').write_text(str(other.pid))
        assert main(['train', str(demo/'data'), '--no-pretrained', '--out', str(out), *TINY]) == 2
        assert f'process {other.pid}' in err(capsys) and not out.exists()
    finally: other.kill(); other.wait()


def test_csv_over_an_input_image(demo, tmp_path, capsys):
    "Loses data 7: --csv naming an input image is refused; the image stays."
    inp = some_images(demo, tmp_path/'coll')
    x = sorted(inp.glob('*.png'))[0]; before = x.read_bytes()
    assert main(['predict', str(demo/'model.pkl'), str(inp), '--csv', str(x)]) == 2
    assert '--csv' in err(capsys) and x.read_bytes() == before


## Wrong without a word
def _suffixed_masks(demo, dest):
    "The demo's masks named <image>_mask.png, as MVTec AD names them."
    for f in (demo/'data'/'masks').rglob('*.png'):
        (dest/f.parent.name).mkdir(parents=True, exist_ok=True); shutil.copy(f, dest/f.parent.name/f'{f.stem}_mask.png')
    return dest


def test_train_masks_matching_no_image(demo, tmp_path, capsys):
    "Wrong 1: train --masks whose names match no image is an error pointing to --mask-suffix (train has it, as explain)."
    mk = _suffixed_masks(demo, tmp_path/'mk')
    assert main(['train', str(demo/'data'), '--masks', str(mk), '--no-pretrained', '--out', str(tmp_path/'o'), *TINY]) == 2
    assert '--mask-suffix' in err(capsys) and not (tmp_path/'o').exists()


def test_train_with_mask_suffix(demo, tmp_path, capsys):
    "Wrong 1: with --mask-suffix the masks are used (the decoder sees defect pixels); the recipe's crop is made to fit, said once."
    mk = _suffixed_masks(demo, tmp_path/'mk')
    assert main(['train', str(demo/'data'), '--masks', str(mk), '--mask-suffix', '_mask', '--classes', 'pass', 'spot', '--no-pretrained', '--out', str(tmp_path/'o'), *TINY]) == 0
    run = json.loads((tmp_path/'o'/'metrics.json').read_text())['run']
    assert run['decoder'] and run['crop'] == [48, 48] and err(capsys).count('crops do not fit') == 1


def test_transpose_keeps_scratch_x_and_y_apart(demo, tmp_path):
    "Wrong 2: the small-defect recipe on the demo's scratches never turns a scratch_x crop into a scratch_y one."
    from fastai.callback.core import Callback
    from vatt.learner import train
    seen = []
    class Look(Callback):
        order = 61  # after MaskCrop
        def before_batch(self):
            if self.training: seen.extend(zip(self.yb[0].tolist(), self.yb[1].cpu()))
    learn = train(data=demo/'data', masks='dataset', classes=['pass', 'scratch_x', 'scratch_y'], size=(48, 64), crop=(32, 32),
                  epochs=3, bs=8, pretrained=False, cbs=[Look()], seed=0)
    vocab = list(learn.dls.vocab)
    wrong = n = 0
    for y, m in seen:
        d = m == 1
        if vocab[y] not in ('scratch_x', 'scratch_y') or not d.any(): continue
        n += 1
        wide = d.any(0).sum() > d.any(1).sum()  # longer along x than along y
        wrong += wide != (vocab[y] == 'scratch_x')
    assert n >= 30 and wrong == 0, (n, wrong)


def test_symlink_loop_walked_once(demo, tmp_path):
    "Wrong 3: a link back up (loop/a/loop -> ..) is walked once: 8 images, 8 rows."
    inp = tmp_path/'loop'
    some_images(demo, inp/'a', n=4, classes=('spot',)); some_images(demo, inp/'b', n=4, classes=('pass',))
    (inp/'a'/'loop').symlink_to('..')
    assert main(['predict', str(demo/'model.pkl'), str(inp), '--csv', str(tmp_path/'p.csv')]) == 0
    assert len(pd.read_csv(tmp_path/'p.csv')) == 8


def test_images_deeper_than_a_class_folder(demo, tmp_path, capsys):
    "Wrong 4: nested/a/sub1/*.png would make classes sub1, sub2 and lose a: an error saying so."
    nested = tmp_path/'nested'
    some_images(demo, nested/'a'/'sub1', n=3, classes=('spot',)); some_images(demo, nested/'a'/'sub2', n=3, classes=('pass',))
    some_images(demo, nested/'b', n=3, classes=('scratch_x',))
    assert main(['train', str(nested), '--no-pretrained', '--out', str(tmp_path/'o'), *TINY]) == 2
    assert 'deeper than' in err(capsys) and not (tmp_path/'o').exists()


def test_lr_inf(tmp_path, capsys):
    "Wrong 5: --lr inf (or nan) is refused before anything is written."
    assert main(['demo', '--out', str(tmp_path/'o'), '--n', '4', '--lr', 'inf']) == 2
    assert 'finite' in err(capsys) and not (tmp_path/'o').exists()


def test_exif_orientation(demo, tmp_path, capsys):
    "Wrong 6: a JPEG stored on its side with EXIF orientation 6 is used upright, its (upright) mask lines up without a word."
    from vatt.data import open_rgb
    f = sorted((demo/'data'/'spot').glob('*.png'))[0]
    up = Image.open(f).convert('RGB')
    data = small_data(demo, tmp_path/'d'); (tmp_path/'m'/'spot').mkdir(parents=True)
    exif = Image.Exif(); exif[0x0112] = 6  # "turn 90° clockwise to show"
    up.transpose(Image.Transpose.ROTATE_90).save(data/'spot'/'x.jpg', exif=exif, quality=100)
    shutil.copy(demo/'data'/'masks'/'spot'/f.name, tmp_path/'m'/'spot'/'x.png')
    assert np.abs(np.asarray(open_rgb(data/'spot'/'x.jpg'), np.float32) - np.asarray(up, np.float32)).mean() < 4
    assert main(['explain', str(demo/'model.pkl'), str(data), '--masks', str(tmp_path/'m'), '--out', str(tmp_path/'ex')]) == 0
    assert 'differ in size' not in err(capsys)


@pytest.mark.parametrize('kind,msg', [('noise', 'grey levels'), ('full', 'nearly the whole image')])
def test_grey_and_full_masks(demo, tmp_path, capsys, kind, msg):
    "Wrong 7: grey-level noise masks and all-255 masks are cut at half their maximum: a warning says so."
    m = tmp_path/'m'/'spot'; m.mkdir(parents=True)
    data = small_data(demo, tmp_path/'d')
    for f in sorted((data/'spot').glob('*.png')):
        a = np.random.default_rng(0).integers(0, 256, (48, 64)) if kind == 'noise' else np.full((48, 64), 255)
        Image.fromarray(a.astype(np.uint8)).save(m/f.name)
    assert main(['explain', str(demo/'model.pkl'), str(data), '--masks', str(tmp_path/'m'), '--out', str(tmp_path/'ex')]) == 0
    assert msg in err(capsys)


## Tracebacks
@pytest.mark.parametrize('content', [b'', b'not an image', 'truncated'])
def test_explain_one_unreadable_image(demo, tmp_path, capsys, content):
    "Traceback 1: explain M one/zero.png (empty, text, truncated): an error naming the file."
    f = tmp_path/('x.jpg' if content == b'not an image' else 'x.png')
    if content == 'truncated': f.write_bytes((sorted((demo/'data'/'spot').glob('*.png'))[0]).read_bytes()[:300])
    else: f.write_bytes(content)
    assert main(['explain', str(demo/'model.pkl'), str(f), '--out', str(tmp_path/'o')]) == 2
    assert str(f) in err(capsys)


def test_size_one(tmp_path, capsys):
    "Traceback 2: --size 1 1 is refused before training."
    assert main(['demo', '--out', str(tmp_path/'o'), '--n', '4', '--size', '1', '1']) == 2
    assert '--size 1 1' in err(capsys) and not (tmp_path/'o').exists()


def test_out_in_a_folder_that_cannot_be_written(tmp_path, capsys):
    "Traceback 3: an --out inside a folder that cannot be written is an error naming the folder."
    ro = tmp_path/'ro'; ro.mkdir(); ro.chmod(0o555)
    if os.geteuid() == 0: ro = Path('/sys')  # root writes anywhere, but not into /sys
    try:
        assert main(['demo', '--out', str(ro/'o'), '--n', '4', *TINY]) == 2
        assert str(ro) in err(capsys)
    finally: (tmp_path/'ro').chmod(0o755)


def test_out_under_a_file(tmp_path, capsys):
    "Traceback 3: an --out whose parent is a file is an error saying so."
    (tmp_path/'f').write_text('x')
    assert main(['demo', '--out', str(tmp_path/'f'/'o'), '--n', '4', *TINY]) == 2
    assert 'is a file' in err(capsys)


def test_negative_seed(tmp_path, capsys):
    "Traceback 4: vatt demo --seed -1."
    assert main(['demo', '--out', str(tmp_path/'o'), '--n', '4', '--seed', '-1']) == 2
    assert '--seed -1' in err(capsys) and not (tmp_path/'o').exists()


## Other
def test_crop_option(demo, tmp_path, capsys):
    "Other 1: --crop W H with masks at a size below the recipe's crop; a crop that does not fit is refused first."
    assert main(['train', str(demo/'data'), '--masks', 'dataset', '--crop', '96', '96', '--no-pretrained', '--out', str(tmp_path/'o'), *TINY]) == 2
    assert 'does not fit' in err(capsys)
    assert main(['train', str(demo/'data'), '--masks', 'dataset', '--crop', '32', '32', '--classes', 'pass', 'spot', '--no-pretrained', '--out', str(tmp_path/'o'), *TINY]) == 0
    assert json.loads((tmp_path/'o'/'metrics.json').read_text())['run']['crop'] == [32, 32]


def test_every_class_one_image(tmp_path, monkeypatch, capsys):
    "Other 2: every class with a single image is refused before any training."
    from fastai.learner import Learner
    root = make_inspection(tmp_path/'d', n_per_class=1, size=(48, 64), classes=('pass', 'spot'))
    def trained(*a, **k): raise AssertionError('trained')
    monkeypatch.setattr(Learner, 'fit_one_cycle', trained)
    assert main(['train', str(root), '--no-pretrained', '--out', str(tmp_path/'o'), *TINY]) == 2
    assert 'every class has a single image' in err(capsys)


def test_killed_run_folders_swept(demo, tmp_path):
    "Other 3: the .NAME.part-<pid>-… folder a SIGKILLed run left is swept by the next run into NAME."
    gone = subprocess.Popen([sys.executable, '-c', 'pass']); gone.wait()
    left = tmp_path/f'.ex.part-{gone.pid}-abc'; left.mkdir(); (left/'metrics.json').write_text('{}')
    assert main(['explain', str(demo/'model.pkl'), str(small_data(demo, tmp_path/'d')), '--out', str(tmp_path/'ex')]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ['d', 'ex']


def test_train_masks_of_another_size(demo, tmp_path, capsys):
    "Other 4: train --masks with masks twice the image size says they are stretched (as explain does)."
    from vatt.data import read_mask
    for f in (demo/'data'/'masks').rglob('*.png'):
        (tmp_path/'m'/f.parent.name).mkdir(parents=True, exist_ok=True)
        Image.fromarray(read_mask(f).astype(np.uint8) * 255).resize((128, 96), Image.NEAREST).save(tmp_path/'m'/f.parent.name/f.name)
    assert main(['train', str(demo/'data'), '--masks', str(tmp_path/'m'), '--crop', '32', '32', '--classes', 'pass', 'spot', '--no-pretrained', '--out', str(tmp_path/'o'), *TINY]) == 0
    assert 'differ in size' in err(capsys)


def test_report_folder_readable(demo, tmp_path):
    "Other 5: report folders are 0755, not mkdtemp's 0700."
    assert main(['explain', str(demo/'model.pkl'), str(small_data(demo, tmp_path/'d')), '--out', str(tmp_path/'ex')]) == 0
    assert (tmp_path/'ex').stat().st_mode & 0o777 == 0o755


def test_unknown_arch_said_before_anything(tmp_path, capsys):
    "Other 6 (cosmetic): no 'training foobar for 1 epochs' before the unknown-architecture error."
    root = make_inspection(tmp_path/'d', n_per_class=2, size=(48, 64), classes=('pass', 'spot'))
    assert main(['train', str(root), '--arch', 'foobar', '--epochs', '1', '--out', str(tmp_path/'o')]) == 2
    c = capsys.readouterr()
    assert 'training' not in c.out and 'unknown architecture' in c.err


def test_predict_warnings_once(demo, tmp_path, capsys):
    "Other 6 (cosmetic): predict's unreadable-files warning once; fastai's pickle warning once, saying what it means."
    inp = some_images(demo, tmp_path/'inp', n=2)
    (inp/'notes.png').write_text('not an image')
    assert main(['predict', str(demo/'model.pkl'), str(inp), '--csv', str(tmp_path/'p.csv')]) == 0
    e = err(capsys)
    assert e.count('unreadable') == 1 and e.count('pickle') == 1 and 'only model files' in e


def test_out_at_a_file(tmp_path, capsys):
    "Other 6 (cosmetic): --out naming a file says it is a file (not that it 'holds files')."
    (tmp_path/'f').write_text('x')
    assert main(['demo', '--out', str(tmp_path/'f'), '--n', '4', *TINY]) == 2
    assert 'is a file' in err(capsys)

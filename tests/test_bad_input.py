"""Bad input and interrupted runs (issue 13): each case gets a clear one-line error naming the fix, or correct
behaviour with a warning, and a run never leaves a folder whose files disagree. Tiny models, in-process `main`."""
import json, pickle, pytest, torch
import numpy as np
from PIL import Image
import vatt.report
from vatt.cli import main
from vatt.data import make_inspection
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
    assert main(['explain', str(f), str(tmp_path), '--out', str(tmp_path/'o')]) == 2
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

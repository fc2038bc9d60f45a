"The tutorials run as Kaggle kernels: simulated kernels install vatt from the wheels dataset, read only their input, write only to the working folder, and stop with a clear error when their data is not attached."
import json, os, stat, subprocess, sys, textwrap
from pathlib import Path
import pytest
import vatt.kaggle
from vatt.core import VattError
from vatt.kaggle import find_data, scale_name, paddy_ok, pets_ok
from vatt._standin import make_paddy_standin, make_pets_standin, make_mvtec_standin
from kaggle_sim import ROOT, pushlib, kaggle_image, dry_run_wheels, mount_wheels, kernel_env

TUTORIALS = {'paddy': '13_tutorial_paddy.ipynb', 'cats': '14_tutorial_cats.ipynb', 'inspection': '15_tutorial_inspection.ipynb',
             'mvtec': '15a_tutorial_mvtec.ipynb'}


# --- data and scale resolution --------------------------------------------------------------------------------

@pytest.fixture
def off_kaggle(monkeypatch, tmp_path):
    for k in ('KAGGLE_KERNEL_RUN_TYPE', 'VATT_SCALE', 'VATT_DATA_PADDY_DISEASE_CLASSIFICATION'): monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv('VATT_DATA_HOME', str(tmp_path/'cache'))
    monkeypatch.setenv('IN_TEST', '1')
    return tmp_path


def test_given_folder_wins_and_a_wrong_one_is_an_error(off_kaggle, monkeypatch):
    real = make_paddy_standin(off_kaggle/'mine', n_per_class=1, size=(40, 40), n_test=0)
    assert find_data('paddy-disease-classification', path=real, check=paddy_ok).source == 'given'
    monkeypatch.setenv('VATT_DATA_PADDY_DISEASE_CLASSIFICATION', str(real))
    assert find_data('paddy-disease-classification', check=paddy_ok).path == real
    monkeypatch.setenv('VATT_DATA_PADDY_DISEASE_CLASSIFICATION', str(off_kaggle))
    with pytest.raises(VattError, match='train_images'): find_data('paddy-disease-classification', check=paddy_ok, layout='train_images/<label>/*.jpg')


def test_download_only_when_the_network_allows(off_kaggle, monkeypatch, capsys):
    calls = []
    def download(dest): calls.append(dest); make_paddy_standin(dest, n_per_class=1, size=(40, 40), n_test=0)
    standin = lambda dest: make_paddy_standin(dest, n_per_class=1, size=(40, 40), n_test=0)
    monkeypatch.setattr(vatt.kaggle, 'hub_reachable', lambda host: False)
    d = find_data('paddy-disease-classification', check=paddy_ok, download=download, standin=standin)
    assert d.standin and not calls and 'cannot be reached' in capsys.readouterr().out
    monkeypatch.setattr(vatt.kaggle, 'hub_reachable', lambda host: True)
    d = find_data('paddy-disease-classification', check=paddy_ok, download=download, standin=standin)
    assert d.source == 'downloaded' and calls == [off_kaggle/'cache'/'paddy-disease-classification']
    calls.clear()
    assert find_data('paddy-disease-classification', check=paddy_ok, download=download).source == 'downloaded' and not calls  # kept


def test_on_kaggle_missing_data_is_an_error_never_a_standin(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('KAGGLE_KERNEL_RUN_TYPE', 'Batch')
    monkeypatch.setenv('VATT_KAGGLE_INPUT', str(tmp_path/'input'))
    monkeypatch.setenv('VATT_KAGGLE_WORKING', str(tmp_path/'working'))
    drawn = []
    with pytest.raises(VattError, match='dataset_sources') as e:
        find_data('someone/pets', 'dataset', check=pets_ok, standin=drawn.append)
    assert 'https://www.kaggle.com/datasets/someone/pets' in str(e.value) and not drawn and 'STAND-IN' not in capsys.readouterr().out
    with pytest.raises(VattError, match='https://www.kaggle.com/competitions/paddy-disease-classification'):
        find_data('paddy-disease-classification', check=paddy_ok, standin=drawn.append)
    make_pets_standin(tmp_path/'input'/'datasets'/'someone'/'pets', n_per_breed=1, size=(32, 32))
    assert find_data('someone/pets', 'dataset', check=pets_ok).source == 'kaggle'


def test_off_kaggle_the_standin_is_announced_and_written_to_a_work_folder(off_kaggle, capsys):
    d = find_data('someone/the-oxfordiiit-pet-dataset', 'dataset', check=pets_ok, standin=dict(n_per_breed=1, size=(32, 32)))
    out = capsys.readouterr().out
    assert d.standin and 'STAND-IN' in out and pets_ok(d.path) and not d.path.is_relative_to(ROOT)


def test_the_kaggle_notebook_keeps_the_users_scale(tmp_path):
    "nbs/12_kaggle.ipynb once deleted VATT_SCALE; its own check now fails if any cell leaves a user's setting changed."
    env = {k: v for k, v in os.environ.items() if k not in ('KAGGLE_KERNEL_RUN_TYPE',)}
    env.update(VATT_SCALE='small', PYTHONPATH=os.pathsep.join([str(ROOT), env.get('PYTHONPATH', '')]))
    r = subprocess.run([sys.executable, '-c', RUN, str(ROOT/'nbs'/'12_kaggle.ipynb')], cwd=ROOT/'nbs', env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_scale(monkeypatch):
    monkeypatch.setenv('VATT_SCALE', 'huge')
    with pytest.raises(VattError, match='small'): scale_name()
    monkeypatch.delenv('VATT_SCALE')
    monkeypatch.setenv('IN_TEST', '1')
    assert scale_name() == 'small'


# --- each tutorial in a simulated Kaggle kernel ---------------------------------------------------------------

SKIP = {'.git', '__pycache__', '.pytest_cache', '.ipynb_checkpoints'}

def snapshot(root:Path) -> dict:
    "Every file under `root` with its size and modification time (caches left out)."
    res = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP]
        for f in filenames:
            st = os.stat(os.path.join(dirpath, f))
            res[os.path.relpath(os.path.join(dirpath, f), root)] = (st.st_size, st.st_mtime_ns)
    return res

def make_read_only(root:Path):
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for f in filenames: os.chmod(os.path.join(dirpath, f), stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.chmod(dirpath, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)

def make_writable(root:Path):
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for f in filenames: os.chmod(os.path.join(dirpath, f), 0o644)

INPUTS = {'paddy': ('paddy-disease-classification', lambda d: make_paddy_standin(d, n_per_class=4, size=(72, 96))),
          'cats': ('the-oxfordiiit-pet-dataset', lambda d: make_pets_standin(d, n_per_breed=4, size=(72, 72))),
          'inspection': (None, None),
          'mvtec': ('mvtec-ad', lambda d: make_mvtec_standin(d, n_train=12, n_test=3, size=(96, 128)))}
MISSING = {'paddy': ['https://www.kaggle.com/competitions/paddy-disease-classification', 'competition_sources'],
           'cats': ['https://www.kaggle.com/datasets/tanlikesmath/the-oxfordiiit-pet-dataset', 'dataset_sources'],
           'mvtec': ['https://www.kaggle.com/datasets/ipythonx/mvtec-ad', 'dataset_sources']}

RUN = textwrap.dedent('''
    import sys
    from nbdev.test import test_nb
    ok, t = test_nb(sys.argv[1], skip_flags=['slow', 'cuda'], profile=False)
    print(f'notebook ok={ok} in {t:.1f}s')
    sys.exit(0 if ok else 1)
''')

@pytest.fixture(scope='session')
def wheels(tmp_path_factory):
    "The wheels dataset as `kaggle/push.py --dry-run` builds it (once per session)."
    return dry_run_wheels(tmp_path_factory.mktemp('dry_run'))

def run_in_simulated_kernel(nb_src:Path, tmp_path:Path, slug=None, make=None, wheels=None, python=None, owner=None):
    "Run notebook `nb_src` as a Kaggle batch kernel: read-only input (the data, vatt's wheels), separate working folder, harmless cwd; return the run and what changed outside the working folder."
    inp, work, cwd = tmp_path/'input', tmp_path/'working', tmp_path/'cwd'
    for d in (inp, work, cwd): d.mkdir(parents=True)
    if make: make(inp/slug)
    if wheels: mount_wheels(wheels, inp, owner)
    nb = cwd/nb_src.name
    nb.write_text(nb_src.read_text())
    make_read_only(inp)
    watched = dict(input=inp, repo=ROOT, cwd=cwd)
    before = {k: snapshot(p) for k, p in watched.items()}
    try: r = subprocess.run([str(python or sys.executable), '-c', RUN, str(nb)], cwd=cwd, env=kernel_env(inp, work, tmp_path),
                            capture_output=True, text=True, timeout=600)
    finally: make_writable(inp)
    changes = {}
    for k, p in watched.items():
        after = snapshot(p)
        diff = sorted({f for f in set(after) | set(before[k]) if after.get(f) != before[k].get(f)})
        if diff: changes[k] = diff
    return r, changes, work


def test_the_simulation_catches_writes_outside_the_working_folder(tmp_path):
    src = tmp_path/'writer.ipynb'
    code = "import os; from pathlib import Path\nPath(os.environ['VATT_KAGGLE_INPUT'], 'd', 'x.txt').write_text('1'); Path('y.txt').write_text('2')"
    src.write_text(json.dumps(dict(nbformat=4, nbformat_minor=5, metadata={}, cells=[
        dict(cell_type='code', id='a1', metadata={}, outputs=[], execution_count=None, source=code)])))
    r, changes, _ = run_in_simulated_kernel(src, tmp_path/'run', 'd', lambda d: d.mkdir())
    assert r.returncode == 0, r.stderr[-3000:]
    assert changes == {'input': ['d/x.txt'], 'cwd': ['y.txt']}


@pytest.mark.parametrize('name', sorted(TUTORIALS))
def test_tutorial_in_simulated_kaggle_kernel(name, tmp_path, wheels):
    """The whole notebook on a simulated Kaggle image that has vatt's dependencies but not vatt (nor fastkaggle): its first
    cell installs vatt from the wheels dataset that `push.py --dry-run` built, with pip's index disabled, and the
    notebook then runs on that installed vatt (nothing of this checkout is on its path)."""
    slug, make = INPUTS[name]
    py = kaggle_image(tmp_path/'image')
    probe = subprocess.run([str(py), '-c', 'import importlib.util as u; print([bool(u.find_spec(m)) for m in ("torch", "fastai", "timm", "vatt", "fastkaggle")])'],
                           capture_output=True, text=True, cwd=tmp_path, env=kernel_env(tmp_path, tmp_path, tmp_path))
    assert probe.stdout.strip() == '[True, True, True, False, False]', probe.stdout + probe.stderr
    owner = 'someone' if name == 'cats' else None  # the old /kaggle/input/<slug> mount, and the newer datasets/<owner>/<slug>
    r, changes, work = run_in_simulated_kernel(ROOT/'nbs'/TUTORIALS[name], tmp_path/'run', slug, make, wheels=wheels, python=py, owner=owner)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-6000:]
    assert changes == {}, f'the notebook wrote outside the working folder: {changes}'
    installed = list((tmp_path/'image'/'env').rglob('site-packages/vatt/kaggle.py'))
    assert installed and installed[0].read_bytes() == (ROOT/'vatt'/'kaggle.py').read_bytes(), 'the install cell did not install this vatt into the image'
    summary = json.loads((work/name/'summary.json').read_text())
    assert summary['scale'] == 'small' and summary['tutorial'] == name and summary['gpu'] == 'cpu' and summary['results']
    assert summary['versions']['vatt'] == pushlib.read_manifest(wheels)['version'] and summary['versions']['torch']
    # no weights attached and no hub: every model says it started from random weights, here and in the kernel's first lines
    assert summary['weights'] and summary['pretrained'] is False and all(n.startswith('random') for n in summary['weights'].values())
    assert not list(work.rglob('*.jpg')), 'intermediate images belong in the scratch folder, not the kernel output'
    if slug: assert summary['data'] == 'kaggle' and Path(summary['data_path']).is_relative_to(tmp_path/'run'/'input')
    else: assert summary['data'] == 'embedded'
    assert list((work/name).rglob('*.csv')) or list((work/name).rglob('*.png'))
    if name == 'paddy':
        sub = (work/'submission.csv').read_text().splitlines()  # at the top of the working folder, as Kaggle takes it
        sample = (tmp_path/'run'/'input'/slug/'sample_submission.csv').read_text().splitlines()
        assert sub[0] == 'image_id,label' and [l.split(',')[0] for l in sub] == [l.split(',')[0] for l in sample]
        assert all(l.split(',')[1] for l in sub[1:]) and summary['submission']['rows'] == len(sample) - 1
    if name == 'cats': assert summary['study_split'] == 'official'


@pytest.mark.parametrize('name', sorted(MISSING))
def test_tutorial_without_its_data_fails_naming_what_to_attach(name, tmp_path, wheels):
    py = kaggle_image(tmp_path/'image')
    r, changes, work = run_in_simulated_kernel(ROOT/'nbs'/TUTORIALS[name], tmp_path/'run', wheels=wheels, python=py)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and 'VattError' in out and all(m in out for m in MISSING[name]), out[-4000:]
    assert 'STAND-IN' not in out and not (work/'standin').exists() and changes == {}

"The tutorials run as Kaggle kernels: simulated kernels read only their input and write only to the working folder; metadata and pushing are checked."
import json, os, stat, subprocess, sys, textwrap
from pathlib import Path
import pytest
import vatt.kaggle
from vatt.core import VattError
from vatt.kaggle import (check_metadata, prepare_kernel, push_kernel, find_data, scale_name, make_paddy_standin, make_pets_standin,
                         paddy_ok, KERNEL_FIELDS)

ROOT = Path(__file__).resolve().parent.parent
KAGGLE = ROOT/'kaggle'
METAS = sorted(KAGGLE.glob('*/kernel-metadata.json'))
# Kaggle's kernel-metadata.json fields (https://github.com/Kaggle/kaggle-api/wiki/Kernel-Metadata)
FIELDS = {'id', 'title', 'code_file', 'language', 'kernel_type', 'is_private', 'enable_gpu', 'enable_internet',
          'dataset_sources', 'competition_sources', 'kernel_sources', 'model_sources', 'machine_shape'}
TUTORIALS = {'paddy': '13_tutorial_paddy.ipynb', 'cats': '14_tutorial_cats.ipynb', 'inspection': '15_tutorial_inspection.ipynb'}


# --- metadata -------------------------------------------------------------------------------------------------

def test_one_metadata_file_per_tutorial():
    assert {m.parent.name: json.loads(m.read_text())['code_file'] for m in METAS} == TUTORIALS
    assert set(KERNEL_FIELDS) == FIELDS


@pytest.mark.parametrize('meta_file', METAS, ids=lambda p: p.parent.name)
def test_metadata_matches_kaggle_field_list(meta_file):
    meta = json.loads(meta_file.read_text())
    assert set(meta) == FIELDS
    assert meta['machine_shape'] == 'NvidiaTeslaT4' and meta['enable_gpu'] is True
    assert meta['language'] == 'python' and meta['kernel_type'] == 'notebook'
    assert all(isinstance(meta[k], bool) for k in ('is_private', 'enable_gpu', 'enable_internet'))
    assert all(isinstance(meta[k], list) for k in ('dataset_sources', 'competition_sources', 'kernel_sources', 'model_sources'))
    assert (ROOT/'nbs'/meta['code_file']).is_file()
    assert meta['enable_internet'] is True  # pip installs vatt from the repository and timm fetches pretrained weights
    assert check_metadata(meta_file, ROOT/'nbs') == []


def test_metadata_sources():
    meta = {m.parent.name: json.loads(m.read_text()) for m in METAS}
    assert meta['paddy']['competition_sources'] == ['paddy-disease-classification']
    assert len(meta['cats']['dataset_sources']) == 1 and not meta['cats']['competition_sources']
    assert not meta['inspection']['dataset_sources'] and not meta['inspection']['competition_sources']
    for name, m in meta.items():  # the notebook asks find_data for the very source the kernel attaches
        src = (ROOT/'nbs'/m['code_file']).read_text()
        assert all(f"find_data('{s}'" in src for s in m['dataset_sources'] + m['competition_sources'])


def test_check_metadata_names_each_problem():
    meta = json.loads(METAS[0].read_text())
    bad = {**meta, 'machine_shape': 'NvidiaTeslaP100', 'enable_gpu': False, 'code_file': 'missing.ipynb', 'extra': 1}
    problems = check_metadata(bad, ROOT/'nbs')
    assert len(problems) == 4 and any('NvidiaTeslaT4' in p for p in problems) and any('missing.ipynb' in p for p in problems)


# --- pushing --------------------------------------------------------------------------------------------------

def test_push_script_dry_run_prepares_the_kernel_folder(tmp_path):
    r = subprocess.run([sys.executable, str(KAGGLE/'push.py'), 'paddy', '--dry-run', '--user', 'someone', '--out', str(tmp_path)],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    folder = tmp_path/'paddy'
    assert sorted(p.name for p in folder.iterdir()) == ['13_tutorial_paddy.ipynb', 'kernel-metadata.json']
    meta = json.loads((folder/'kernel-metadata.json').read_text())
    assert meta['id'].startswith('someone/') and check_metadata(meta, folder) == []
    nb, src = json.loads((folder/meta['code_file']).read_text()), json.loads((ROOT/'nbs'/meta['code_file']).read_text())
    first = ''.join(nb['cells'][0]['source'])
    assert 'pip' in first and 'git+https://' in first and "os.environ.get('KAGGLE_KERNEL_RUN_TYPE')" in first
    assert nb['cells'][1:] == src['cells']


def test_push_with_wheels_installs_offline(tmp_path):
    folder = prepare_kernel(KAGGLE/'cats'/'kernel-metadata.json', ROOT/'nbs', tmp_path/'k', wheels='someone/vatt-wheels')
    meta = json.loads((folder/'kernel-metadata.json').read_text())
    assert 'someone/vatt-wheels' in meta['dataset_sources'] and len(meta['dataset_sources']) == 2
    first = ''.join(json.loads((folder/meta['code_file']).read_text())['cells'][0]['source'])
    assert '--no-index' in first and '/kaggle/input/vatt-wheels' in first


def test_internet_off_kernel_needs_wheels(tmp_path):
    meta = json.loads((KAGGLE/'paddy'/'kernel-metadata.json').read_text())
    (tmp_path/'kernel-metadata.json').write_text(json.dumps({**meta, 'enable_internet': False}))
    with pytest.raises(VattError, match='wheels'): prepare_kernel(tmp_path/'kernel-metadata.json', ROOT/'nbs', tmp_path/'k')


def test_push_calls_the_kaggle_api_only_without_dry_run(tmp_path, monkeypatch):
    import fastkaggle
    pushed = []
    class Api:
        def kernels_push(self, folder): pushed.append(folder)
    monkeypatch.setattr(fastkaggle, 'import_kaggle', lambda: Api())
    push_kernel(KAGGLE/'inspection'/'kernel-metadata.json', ROOT/'nbs', tmp_path/'a', dry_run=True)
    assert pushed == []
    folder = push_kernel(KAGGLE/'inspection'/'kernel-metadata.json', ROOT/'nbs', tmp_path/'b')
    assert pushed == [str(folder)] and (folder/'kernel-metadata.json').exists()


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


def test_standin_is_announced_and_written_to_the_working_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('KAGGLE_KERNEL_RUN_TYPE', 'Batch')
    monkeypatch.setenv('VATT_KAGGLE_INPUT', str(tmp_path/'input'))
    monkeypatch.setenv('VATT_KAGGLE_WORKING', str(tmp_path/'working'))
    d = find_data('someone/pets', 'dataset', check=lambda p: (p/'images').is_dir(),
                  standin=lambda dest: make_pets_standin(dest, n_per_breed=1, size=(40, 40), dogs=()))
    out = capsys.readouterr().out
    assert d.standin and d.path.is_relative_to(tmp_path/'working') and 'STAND-IN' in out and 'dataset_sources' in out
    (tmp_path/'input'/'datasets'/'someone'/'pets'/'images').mkdir(parents=True)
    assert find_data('someone/pets', 'dataset', check=lambda p: (p/'images').is_dir()).source == 'kaggle'


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
          'inspection': (None, None)}

RUN = textwrap.dedent('''
    import sys
    from nbdev.test import test_nb
    ok, t = test_nb(sys.argv[1], skip_flags=['slow', 'cuda'], profile=False)
    print(f'notebook ok={ok} in {t:.1f}s')
    sys.exit(0 if ok else 1)
''')

def run_in_simulated_kernel(nb_src:Path, tmp_path:Path, slug=None, make=None):
    "Run notebook `nb_src` as a Kaggle batch kernel: read-only input, separate working folder, harmless cwd; return the run and what changed outside the working folder."
    inp, work, cwd = tmp_path/'input', tmp_path/'working', tmp_path/'cwd'
    for d in (inp, work, cwd): d.mkdir(parents=True)
    if make: make(inp/slug)
    nb = cwd/nb_src.name
    nb.write_text(nb_src.read_text())
    make_read_only(inp)
    watched = dict(input=inp, repo=ROOT, cwd=cwd)
    before = {k: snapshot(p) for k, p in watched.items()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(('VATT_', 'KAGGLE_', 'IN_TEST'))}
    env.update(KAGGLE_KERNEL_RUN_TYPE='Batch', VATT_KAGGLE_INPUT=str(inp), VATT_KAGGLE_WORKING=str(work), VATT_SCALE='small',
               VATT_DATA_HOME=str(tmp_path/'no-cache'), HF_HUB_OFFLINE='1', MPLBACKEND='Agg',
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get('PYTHONPATH', '')]))
    try: r = subprocess.run([sys.executable, '-c', RUN, str(nb)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
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
def test_tutorial_in_simulated_kaggle_kernel(name, tmp_path):
    slug, make = INPUTS[name]
    r, changes, work = run_in_simulated_kernel(ROOT/'nbs'/TUTORIALS[name], tmp_path, slug, make)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-6000:]
    assert changes == {}, f'the notebook wrote outside the working folder: {changes}'
    summary = json.loads((work/name/'summary.json').read_text())
    assert summary['scale'] == 'small'
    if slug: assert summary['data'] == 'kaggle' and Path(summary['data_path']).is_relative_to(tmp_path/'input')
    else: assert summary['data'] == 'embedded'
    assert list((work/name).rglob('*.csv')) or list((work/name).rglob('*.png'))


def test_missing_kaggle_credentials_is_a_clear_error(tmp_path, monkeypatch):
    import fastkaggle
    monkeypatch.setattr(fastkaggle, 'import_kaggle', lambda: sys.exit(1))  # the kaggle client exits without credentials
    with pytest.raises(VattError, match='kaggle.json'):
        push_kernel(KAGGLE/'inspection'/'kernel-metadata.json', ROOT/'nbs', tmp_path/'k')

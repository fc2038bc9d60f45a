"""kaggle/: metadata, the install cell, the wheels dataset, and pushing through Kaggle's real API client with its HTTP
layer (requests.Session.send) stubbed, so the requests Kaggle would receive are the ones asserted."""
import inspect, io, json, re, shutil, subprocess, sys, time, zipfile
from pathlib import Path
from contextlib import redirect_stdout, redirect_stderr
import pytest, requests
from kaggle_sim import ROOT, pushlib, kaggle_image, kernel_env

P = pushlib
KAGGLE = ROOT/'kaggle'
METAS = sorted(KAGGLE.glob('*/kernel-metadata.json'))
TUTORIALS = {'paddy': '13_tutorial_paddy.ipynb', 'cats': '14_tutorial_cats.ipynb', 'inspection': '15_tutorial_inspection.ipynb',
             'mvtec': '15a_tutorial_mvtec.ipynb'}
sys.path.insert(0, str(KAGGLE))
import push  # noqa: E402  kaggle/push.py


# --- metadata -------------------------------------------------------------------------------------------------

def test_fields_are_those_the_kaggle_client_reads_and_writes():
    from kaggle.api.kaggle_api_extended import KaggleApi
    read = set(re.findall(r'meta_data(?:, |\.get\()"(\w+)"', inspect.getsource(KaggleApi.kernels_push)))
    written = set(re.findall(r'data\["(\w+)"\] =', inspect.getsource(KaggleApi.kernels_pull)))
    assert {'machine_shape', 'enable_tpu', 'id_no', 'docker_image', 'keywords'} <= read | written  # the parse found them
    assert read | written <= set(P.KERNEL_FIELDS), (read | written) - set(P.KERNEL_FIELDS)

def test_check_metadata_accepts_every_field_the_api_documents():
    meta = dict(id='someone/vatt-demo-kernel', id_no=12345, title='vatt demo kernel', code_file='x.ipynb', language='python',
                kernel_type='notebook', is_private=True, enable_gpu=True, enable_tpu=False, enable_internet=False,
                dataset_sources=['someone/vatt-wheels'], competition_sources=[], kernel_sources=[], model_sources=[], keywords=['gpu'],
                docker_image='gcr.io/kaggle-gpu-images/python:v150', docker_image_pinning_type='original', machine_shape='NvidiaTeslaT4')
    assert set(meta) == set(P.KERNEL_FIELDS)
    assert P.check_metadata(meta) == []
    pulled = {k: meta[k] for k in ('id_no', 'code_file', 'language', 'kernel_type')}  # what `kernels pull -m` may give: no id
    assert P.check_metadata(pulled, tutorial=False) == []

def test_check_metadata_names_each_problem():
    meta = json.loads(METAS[0].read_text())
    bad = {**meta, 'machine_shape': 'NvidiaTeslaP100', 'enable_gpu': False, 'code_file': 'missing.ipynb', 'extra': 1, 'enable_tpu': 'no',
           'dataset_sources': []}
    problems = P.check_metadata(bad, ROOT/'nbs')
    assert len(problems) == 6, problems
    for word in ('NvidiaTeslaT4', 'missing.ipynb', "'extra'", 'enable_tpu', 'enable_gpu', 'vatt-wheels'): assert any(word in p for p in problems), word

@pytest.mark.parametrize('meta_file', METAS, ids=lambda p: p.parent.name)
def test_tutorial_metadata(meta_file):
    meta = json.loads(meta_file.read_text())
    assert P.check_metadata(meta_file, ROOT/'nbs') == []
    assert meta['machine_shape'] == 'NvidiaTeslaT4' and meta['enable_gpu'] is True and 'vatt-dev/vatt-wheels' in meta['dataset_sources']
    src = (ROOT/'nbs'/meta['code_file']).read_text()  # the notebook asks find_data for the very source the kernel attaches
    assert all(f"find_data('{s}'" in src for s in meta['dataset_sources'] + meta['competition_sources'] if not s.endswith('/vatt-wheels'))

def test_one_metadata_file_per_tutorial():
    assert {m.parent.name: json.loads(m.read_text())['code_file'] for m in METAS} == TUTORIALS
    assert json.loads((KAGGLE/'paddy'/'kernel-metadata.json').read_text())['competition_sources'] == ['paddy-disease-classification']


# --- the install cell -----------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', sorted(TUTORIALS))
def test_every_tutorial_starts_with_the_install_cell(name):
    nb = json.loads((ROOT/'nbs'/TUTORIALS[name]).read_text())
    assert P.install_cell_problems(nb) == []
    assert '--no-index' in P.INSTALL_CELL and "os.environ.get('KAGGLE_KERNEL_RUN_TYPE')" in P.INSTALL_CELL
    other = {**nb, 'cells': [{**nb['cells'][0], 'source': P.INSTALL_CELL + '\n# edited'}] + nb['cells'][1:]}
    assert P.install_cell_problems(other) and P.install_cell_problems({**nb, 'cells': nb['cells'][1:]})

def test_install_cell_does_nothing_off_kaggle(monkeypatch):
    monkeypatch.delenv('KAGGLE_KERNEL_RUN_TYPE', raising=False)
    ns, t0 = {}, time.perf_counter()
    exec(P.INSTALL_CELL, ns)
    assert time.perf_counter() - t0 < 0.5 and '_pip' not in ns and '_wheels' not in ns


def test_install_cell_fails_loudly(tmp_path):
    py = kaggle_image(tmp_path/'image')
    inp, work = tmp_path/'input', tmp_path/'working'
    inp.mkdir(); work.mkdir()
    run = lambda: subprocess.run([str(py), '-c', P.INSTALL_CELL], cwd=tmp_path, env=kernel_env(inp, work, tmp_path), capture_output=True, text=True, timeout=300)
    r = run()  # nothing attached
    assert r.returncode != 0 and "vatt's wheels are not attached" in r.stderr and 'vatt-wheels' in r.stderr
    (inp/'vatt-wheels').mkdir()  # a wheel whose dependency the image lacks: pip's own message comes through
    def wheel(version, requires='not-on-any-kaggle-image'):
        with zipfile.ZipFile(inp/'vatt-wheels'/f'vatt-{version}-py3-none-any.whl', 'w') as z:
            z.writestr('vatt/__init__.py', '')
            z.writestr(f'vatt-{version}.dist-info/METADATA', f'Metadata-Version: 2.1\nName: vatt\nVersion: {version}\nRequires-Dist: {requires}\n')
            z.writestr(f'vatt-{version}.dist-info/WHEEL', 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n')
            z.writestr(f'vatt-{version}.dist-info/RECORD', '')
    wheel('0.0.1+gaaaa')
    (inp/'vatt-wheels'/'MANIFEST-0.json').write_text(json.dumps(dict(version='0.0.1+gaaaa')))
    r = run()
    assert r.returncode != 0 and 'pip could not install vatt 0.0.1+gaaaa' in r.stderr and 'not-on-any-kaggle-image' in r.stderr
    # a manifest naming a version the dataset does not hold (an old wheel left beside a new manifest): never the old one
    (inp/'vatt-wheels'/'MANIFEST-0.json').write_text(json.dumps(dict(version='0.0.1+gbbbb')))
    r = run()
    assert r.returncode != 0 and 'vatt 0.0.1+gbbbb' in r.stderr and 'vatt==0.0.1+gbbbb' in r.stderr


# --- the dry run ----------------------------------------------------------------------------------------------

def test_push_dry_run_prepares_the_wheels_dataset_and_the_kernel(tmp_path):
    egg_info = sorted(ROOT.glob('*.egg-info'))  # an editable install (pip install -e) leaves one; the build must add none
    r = subprocess.run([sys.executable, str(KAGGLE/'push.py'), 'paddy', '--dry-run', '--user', 'someone', '--out', str(tmp_path)],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    folder, wheels = tmp_path/'paddy', tmp_path/P.WHEELS
    assert sorted(p.name for p in folder.iterdir()) == ['13_tutorial_paddy.ipynb', 'kernel-metadata.json']
    meta = json.loads((folder/'kernel-metadata.json').read_text())
    assert meta['id'] == 'someone/vatt-paddy-convnext-resnet-coatnet' and P.check_metadata(meta, folder) == []
    assert meta['dataset_sources'] == ['someone/vatt-wheels'] and meta['machine_shape'] == 'NvidiaTeslaT4'
    assert (folder/meta['code_file']).read_bytes() == (ROOT/'nbs'/meta['code_file']).read_bytes()  # the very notebook of nbs/
    names = sorted(p.name for p in wheels.iterdir())
    version = P.read_manifest(wheels)['version']  # the wheel's version names the commit it was built from
    sha = subprocess.run(['git', '-C', str(ROOT), 'rev-parse', '--short=10', 'HEAD'], capture_output=True, text=True).stdout.strip()
    assert re.fullmatch(rf'0\.0\.1\+g{sha}(\.d[0-9a-f]{{8}})?', version), version
    assert [n for n in names if n.endswith('.whl')] == [f'vatt-{version}-py3-none-any.whl'] and 'dataset-metadata.json' in names
    ds = json.loads((wheels/'dataset-metadata.json').read_text())
    assert ds['id'] == 'someone/vatt-wheels' and len(ds['licenses']) == 1 and 6 <= len(ds['title']) <= 50
    with zipfile.ZipFile(wheels/f'vatt-{version}-py3-none-any.whl') as z:  # the wheel holds this checkout's modules
        assert z.read('vatt/kaggle.py') == (ROOT/'vatt'/'kaggle.py').read_bytes() and 'vatt/_standin.py' in z.namelist()
        assert f'__version__ = "{version}"' in z.read('vatt/__init__.py').decode() and f'Version: {version}' in z.read(f'vatt-{version}.dist-info/METADATA').decode()
    assert not (ROOT/'build').exists() and sorted(ROOT.glob('*.egg-info')) == egg_info  # built from a copy: the checkout is left as it was
    again = P.build_wheels(tmp_path/'again', 'someone')  # the manifest names the content, so an unchanged build uploads nothing
    assert sorted(p.name for p in again.glob('MANIFEST-*')) == sorted(p.name for p in wheels.glob('MANIFEST-*'))

def test_old_clients_are_refused():
    for old in ('1.7.4.5', '1.8.3'):
        with pytest.raises(P.PushError, match='machine_shape'): P.check_client(old)
    assert P.check_client('1.8.4') == '1.8.4' and P.check_client('2.0.1') == '2.0.1'
    P.check_client()  # the installed one (pyproject pins kaggle>=1.8.4)


# --- pushing, through the real client with its HTTP layer stubbed ---------------------------------------------

SLUG = 'vatt-paddy-convnext-resnet-coatnet'

def save_reply(slug=SLUG, **kw):
    "SaveKernel's answer as Kaggle sends it (kagglesdk ApiSaveKernelResponse; `ref` is the kernel's path, /code/<user>/<slug>)."
    return (200, {**dict(ref=f'/code/someone/{slug}', url=f'https://www.kaggle.com/code/someone/{slug}', versionNumber=3, error='',
                         invalidTags=[], invalidDatasetSources=[], invalidCompetitionSources=[], invalidKernelSources=[],
                         invalidModelSources=[], kernelId=71234567), **kw})

def log_of(*lines):
    "A kernel log as Kaggle keeps it: a JSON list of {stream_name, time, data}, one entry per line of output."
    return '[' + '\n,'.join(json.dumps(dict(stream_name='stdout', time=1.5 + i, data=l + '\n')) for i, l in enumerate(lines)) + ']'

class FakeKaggle:
    """Kaggle's HTTP API at requests.Session.send: records every request, answers each endpoint from `replies` with the JSON
    Kaggle sends (camelCase fields; a status is the enum's camelCase name: 'queued', 'running', 'complete', 'error',
    'cancelAcknowledged'). `statuses` are answered one per GetKernelSessionStatus call, the last one repeated."""
    def __init__(self, statuses=('running',), summary=None, log=None, **replies):
        self.calls, self.created, self.statuses = [], set(), list(statuses)
        self.summary = summary
        self.replies = dict(ListDatasetFiles=(404, dict(code=404, message='Not found')),
                            StartBlobUpload=(200, dict(token='blob-token', createUrl='https://uploads.test/blob')),
                            CreateDataset=(200, dict(ref='someone/vatt-wheels', url='https://www.kaggle.com/datasets/someone/vatt-wheels', status='ok')),
                            CreateDatasetVersion=(200, dict(ref='someone/vatt-wheels', url='u', status='ok')),
                            SaveKernel=save_reply(),
                            GetKernel=(200, dict(metadata=dict(ref=f'someone/{SLUG}', id=71234567, title='vatt paddy convnext resnet coatnet',
                                                               language='python', kernelType='notebook', enableGpu=True, enableInternet=False,
                                                               machineShape='NvidiaTeslaT4'),
                                                 blob=dict(source='{}', language='python', kernelType='notebook', slug=SLUG))),
                            ListKernelSessionOutput=(200, dict(files=[dict(url='https://storage.test/out/paddy/summary.json', fileName='paddy/summary.json')],
                                                               log=log or log_of('epoch 1 done', 'all cells ran'), nextPageToken='')))
        self.replies.update(replies)

    def send(self, session, request, **kw):
        name = request.url.split('?')[0].rstrip('/').rsplit('/', 1)[-1]
        body = request.body
        if request.method == 'POST' and body: body = json.loads(body)
        elif hasattr(body, 'read'): body = body.read()
        self.calls.append((request.method, name, body, dict(request.headers)))
        if request.method == 'PUT': status, payload = 200, {}
        elif request.method == 'GET' and 'storage.test' in request.url:  # an output file, from its signed URL
            status, payload = (200, self.summary) if self.summary is not None else (404, dict(message='gone'))
        elif name == 'GetDatasetStatus':
            status, payload = (200, dict(status='ready')) if body.get('datasetSlug') in self.created else (404, dict(code=404, message='Not found'))
        elif name == 'GetKernelSessionStatus':
            status, payload = 200, (self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0])
            payload = payload if isinstance(payload, dict) else dict(status=payload)
        else:
            status, payload = self.replies[name]
            if name == 'CreateDataset': self.created.add(body['slug'])
            if name == 'CreateDatasetVersion': self.created.add(body.get('datasetSlug') or 'vatt-wheels')
        r = requests.Response()
        r.status_code, r._content, r.url, r.request = status, json.dumps(payload).encode(), request.url, request
        r.headers['Content-Type'] = 'application/json'
        if 'storage.test' in request.url:  # streamed by the client's download_file
            r.raw, r._content, r._content_consumed = io.BytesIO(r._content), False, False
            r.headers['Content-Length'] = str(len(r.raw.getvalue()))
        return r

    def bodies(self, name): return [c[2] for c in self.calls if c[1] == name]

@pytest.fixture(scope='module')
def built_wheels(tmp_path_factory):
    "The wheels dataset built once for all push tests (building it takes seconds; what it holds is tested above)."
    return P.build_wheels(tmp_path_factory.mktemp('wheels')/P.WHEELS, 'someone')

@pytest.fixture
def kaggle_http(monkeypatch, tmp_path, built_wheels):
    "Install a FakeKaggle at requests' boundary, with made-up credentials; returns a function that runs push.py."
    monkeypatch.setenv('HOME', str(tmp_path/'home'))
    monkeypatch.setenv('KAGGLE_CONFIG_DIR', str(tmp_path/'home'))
    monkeypatch.setenv('KAGGLE_USERNAME', 'someone'); monkeypatch.setenv('KAGGLE_KEY', 'not-a-real-key')
    for k in ('KAGGLE_API_TOKEN', 'KAGGLE_KERNEL_RUN_TYPE'): monkeypatch.delenv(k, raising=False)
    def build(dest, user, extra=()):
        assert user == 'someone' and not extra
        shutil.rmtree(dest, ignore_errors=True); shutil.copytree(built_wheels, dest)
        return Path(dest)
    monkeypatch.setattr(P, 'build_wheels', build)
    fake = {}
    def install(**replies):
        fake['k'] = FakeKaggle(**replies)
        monkeypatch.setattr(requests.Session, 'send', lambda self, request, **kw: fake['k'].send(self, request, **kw))
        return fake['k']
    def run(*args):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err): rc = push.main([*args, '--out', str(tmp_path/'build'), '--poll', '0'])
        return rc, out.getvalue(), err.getvalue()
    return install, run

def test_push_asks_for_the_t4_and_reports_what_kaggle_runs_it_on(kaggle_http):
    install, run = kaggle_http
    k = install()
    rc, out, err = run('paddy')
    assert rc == 0, out + err
    (save,) = k.bodies('SaveKernel')
    assert save['machineShape'] == 'NvidiaTeslaT4' and save['enableGpu'] is True
    assert save['slug'] == 'someone/vatt-paddy-convnext-resnet-coatnet'
    assert save['datasetDataSources'] == ['someone/vatt-wheels'] and save['competitionDataSources'] == ['paddy-disease-classification']
    sent = json.loads(save['text'])  # the notebook Kaggle receives starts with the install cell of nbs/
    assert sent['cells'][0]['source'] == P.INSTALL_CELL
    (created,) = k.bodies('CreateDataset')
    assert created['slug'] == 'vatt-wheels' and created['ownerSlug'] == 'someone' and created['isPrivate'] is True
    uploads = [c for c in k.calls if c[0] == 'PUT']
    assert any(isinstance(c[2], bytes) and c[2][:2] == b'PK' for c in uploads)  # a wheel (a zip) went up
    assert {b['name'] for b in k.bodies('StartBlobUpload')} >= {f'vatt-{P.wheel_version()}-py3-none-any.whl'}
    # status and pull by the metadata's id: Kaggle's ref (/code/someone/<slug>) is refused by kernels_status
    assert k.bodies('GetKernelSessionStatus') == [dict(userName='someone', kernelSlug=SLUG)]
    assert k.bodies('GetKernel') == [dict(userName='someone', kernelSlug=SLUG)]
    assert "machine_shape 'NvidiaTeslaT4'" in out and 'status running' in out and f'pushed someone/{SLUG} version 3' in out

def test_kernel_report_takes_the_metadata_id_not_the_pushs_ref(kaggle_http, tmp_path):
    "The old push passed SaveKernel's ref to kernel_report; Kaggle's ref is /code/<user>/<slug>, which the client refuses."
    install, run = kaggle_http
    install()
    api = P.kaggle_api()
    ref = P.push_kernel(api, P.prepare_kernel(KAGGLE/'paddy'/'kernel-metadata.json', ROOT/'nbs', tmp_path/'k', user='someone'))['ref']
    assert ref == f'/code/someone/{SLUG}'
    with pytest.raises(ValueError): api.kernels_status(ref)
    assert P.kernel_report(api, P.kernel_id(tmp_path/'k'))['status'] == 'running'

def test_push_error_exits_non_zero_with_kaggles_message(kaggle_http):
    install, run = kaggle_http
    install(SaveKernel=save_reply(ref='', url='', versionNumber=None, kernelId=0, error='Notebook cannot be saved: phone verification required'))
    rc, out, err = run('inspection')
    assert rc == 1 and 'Kaggle refused the kernel: Notebook cannot be saved: phone verification required' in err and 'pushed' not in out

def test_a_dropped_competition_fails_and_says_to_join(kaggle_http):
    install, run = kaggle_http
    install(SaveKernel=save_reply(invalidCompetitionSources=['paddy-disease-classification']))
    rc, out, err = run('paddy')
    assert rc == 1 and 'https://www.kaggle.com/competitions/paddy-disease-classification' in err

def test_an_http_error_fails_with_its_message(kaggle_http):
    install, run = kaggle_http
    install(SaveKernel=(403, dict(code=403, message='Permission denied')))
    rc, out, err = run('cats')
    assert rc == 1 and 'HTTP 403' in err and 'Permission denied' in err

def test_another_accelerator_is_reported_as_a_failure(kaggle_http):
    install, run = kaggle_http
    k = install()
    k.replies['GetKernel'][1]['metadata']['machineShape'] = 'NvidiaTeslaP100'
    rc, out, err = run('inspection')
    assert rc == 1 and "'NvidiaTeslaP100', not the NvidiaTeslaT4" in err

def test_a_dataset_refused_by_kaggle_stops_before_the_kernel(kaggle_http):
    install, run = kaggle_http
    k = install(CreateDataset=(200, dict(error='The license is invalid')))
    rc, out, err = run('inspection')
    assert rc == 1 and 'The license is invalid' in err and not k.bodies('SaveKernel')

def test_unchanged_wheels_are_not_uploaded_again(kaggle_http, built_wheels):
    install, run = kaggle_http
    manifest = next(built_wheels.glob('MANIFEST-*')).name
    k = install(ListDatasetFiles=(200, dict(datasetFiles=[dict(name='vatt-0.0.1-py3-none-any.whl'), dict(name=manifest)])))
    rc, out, err = run('inspection')
    assert rc == 0, err
    assert not k.bodies('CreateDataset') and not k.bodies('CreateDatasetVersion') and not k.bodies('StartBlobUpload')
    assert 'wheels dataset: unchanged' in out and k.bodies('SaveKernel')

def test_changed_wheels_make_a_new_version(kaggle_http):
    install, run = kaggle_http
    k = install(ListDatasetFiles=(200, dict(datasetFiles=[dict(name='MANIFEST-0000000000000000.json')])))
    rc, out, err = run('inspection')
    assert rc == 0, err
    assert len(k.bodies('CreateDatasetVersion')) == 1 and not k.bodies('CreateDataset') and 'new version' in out

def test_missing_credentials_are_a_clear_error(kaggle_http, monkeypatch):
    install, run = kaggle_http
    install()
    monkeypatch.delenv('KAGGLE_USERNAME'); monkeypatch.delenv('KAGGLE_KEY')
    rc, out, err = run('inspection')
    assert rc == 1 and 'kaggle.json' in err


# --- waiting for the run -------------------------------------------------------------------------------------

def run_summary(**kw):
    "A summary.json as a tutorial writes it on a Kaggle T4."
    return {**dict(tutorial='paddy', gpu='Tesla T4', versions=dict(vatt=P.wheel_version(), torch='2.10.0', fastai='2.8.7'),
                   weights={'resnet26d': 'pretrained: /kaggle/input/x/resnet26d.bt_in1k/model.safetensors'}, results=dict(best_error_rate=0.03)), **kw}

def test_wait_follows_the_run_to_its_end_and_fetches_its_summary(kaggle_http, tmp_path):
    install, run = kaggle_http
    # right after a push Kaggle may still report the previous run's end: it is not taken for this run's
    k = install(statuses=['complete', 'complete', 'queued', 'running', 'complete'], summary=run_summary())
    rc, out, err = run('paddy', '--wait')
    assert rc == 0, out + err
    assert len(k.bodies('GetKernelSessionStatus')) == 5 and all(b == dict(userName='someone', kernelSlug=SLUG) for b in k.bodies('GetKernelSessionStatus'))
    assert k.bodies('ListKernelSessionOutput')[0]['userName'] == 'someone'
    got = json.loads((tmp_path/'build'/'paddy'/'output'/'paddy'/'summary.json').read_text())
    assert got == run_summary() and 'run on Tesla T4' in out and 'pretrained: /kaggle/input' in out

def test_a_failed_run_exits_non_zero_with_the_logs_last_lines(kaggle_http):
    install, run = kaggle_http
    install(statuses=['running', dict(status='error', failureMessage='Your notebook tried to allocate more memory than is available.')],
            log=log_of('cell 1 ok', 'Traceback (most recent call last):', "RuntimeError: pip could not install vatt"))
    rc, out, err = run('paddy', '--wait')
    assert rc == 1 and 'the run ended as error' in err and 'more memory than is available' in err
    assert 'RuntimeError: pip could not install vatt' in err and 'Traceback' in err

@pytest.mark.parametrize('summary,words', [(None, 'no summary.json'),
                                           (run_summary(versions=dict(vatt='0.0.1+gold')), 'vatt 0.0.1+gold, not the'),
                                           (run_summary(gpu='Tesla P100-PCIE-16GB'), "'Tesla P100-PCIE-16GB', not the NvidiaTeslaT4")])
def test_a_run_that_is_not_what_was_pushed_fails(kaggle_http, summary, words):
    install, run = kaggle_http
    install(statuses=['running', 'complete'], summary=summary,
            **({} if summary else dict(ListKernelSessionOutput=(200, dict(files=[], log=log_of('done'), nextPageToken='')))))
    rc, out, err = run('paddy', '--wait')
    assert rc == 1 and words in err, out + err

def test_log_tail_reads_kaggles_log():
    assert P.log_tail(log_of('a', 'b', 'c'), 2) == 'b\nc' and P.log_tail('plain\ntext', 1) == 'text'

def test_weights_are_fetched_uploaded_and_attached_where_kaggle_weights_finds_them(kaggle_http, tmp_path, monkeypatch):
    from vatt.learner import kaggle_weights
    fetched = []
    def download(repo, dest):  # the hub, stubbed: a file where hf_hub_download would put it
        fetched.append(repo); (Path(dest)/'model.safetensors').write_bytes(repo.encode())
    monkeypatch.setattr(P, '_hub_download', download)
    install, run = kaggle_http
    k = install()
    rc, out, err = run('paddy', '--weights')
    assert rc == 0, out + err
    assert fetched == ['timm/resnet26d.bt_in1k', 'timm/convnext_small.fb_in22k', 'timm/coatnet_0_rw_224.sw_in1k']
    slugs = ['resnet26d-bt-in1k', 'convnext-small-fb-in22k', 'coatnet-0-rw-224-sw-in1k']
    assert sorted(b['slug'] for b in k.bodies('CreateDataset')) == sorted(['vatt-wheels', *slugs])
    (save,) = k.bodies('SaveKernel')
    assert save['datasetDataSources'] == ['someone/vatt-wheels', *[f'someone/{s}' for s in slugs]] and save['enableInternet'] is False
    # mounted as Kaggle mounts datasets, each model finds its own file
    root = tmp_path/'build'/'weights'
    for arch, s in zip(P.ARCHS['paddy'], slugs): assert kaggle_weights(arch, root) == str(root/s/'model.safetensors')
    fetched.clear()
    assert run('paddy', '--weights', '--dry-run', '--user', 'someone')[0] == 0 and not fetched  # fetched once, kept

"""Everything `kaggle/push.py` does, importable and tested (tests/test_kaggle_push.py); not part of the vatt package.

- `check_metadata`: a kernel-metadata.json against the fields Kaggle's client reads, and the tutorials' own rules;
- `INSTALL_CELL`: the first cell of every tutorial notebook, the same in `nbs/` and in the pushed kernel;
- `build_wheels`: the Kaggle dataset `<user>/vatt-wheels` (vatt's wheel, built from this checkout), as a folder;
- `prepare_kernel`: the folder `kernels_push` uploads (the notebook copied byte for byte, the metadata's owner set);
- `push_wheels`, `push_kernel`, `kernel_report`: the API calls, each failing loudly with Kaggle's own message.
"""
from __future__ import annotations
import hashlib, inspect, json, re, shutil, subprocess, sys, tempfile, time, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT/'kaggle'
MIN_CLIENT = (1, 8, 4)  # the first kaggle client whose kernels_push sends machine_shape (1.8.3 only reads it back in kernels_pull)
ACCELERATOR = 'NvidiaTeslaT4'  # enable_gpu alone has given P100s, which current torch builds no longer support
WHEELS = 'vatt-wheels'  # slug of the dataset of wheels; its owner is the user who pushes
PLACEHOLDER = 'vatt-dev'  # the owner written in the repository's metadata files, replaced by the pushing user

# Every field Kaggle's client reads from kernel-metadata.json (kernels_push in kaggle 1.8.4 … 2.x; kernels_pull writes
# id_no, enable_tpu and docker_image back), so a file that `kaggle kernels pull -m` wrote is accepted as it is.
KERNEL_FIELDS = ('id', 'id_no', 'title', 'code_file', 'language', 'kernel_type', 'is_private', 'enable_gpu', 'enable_tpu',
                 'enable_internet', 'dataset_sources', 'competition_sources', 'kernel_sources', 'model_sources', 'keywords',
                 'docker_image', 'docker_image_pinning_type', 'machine_shape')
_ALLOWED = dict(language=('python', 'r', 'rmarkdown'), kernel_type=('script', 'notebook'),
                docker_image_pinning_type=('original', 'latest'))
_FLAGS = ('is_private', 'enable_gpu', 'enable_tpu', 'enable_internet')
_LISTS = ('dataset_sources', 'competition_sources', 'kernel_sources', 'model_sources', 'keywords')

INSTALL_CELL = '''\
# On Kaggle: install vatt offline, from the dataset of wheels attached to this kernel (kaggle/push.py builds and
# attaches it; pip's index stays off, so it works with the kernel's internet switched off), exactly the version its
# manifest names, and check that this version is the one installed. Elsewhere: nothing.
import os, sys, json, subprocess, pathlib
if os.environ.get('KAGGLE_KERNEL_RUN_TYPE'):  # fastkaggle's `iskaggle` (fastkaggle itself is not on Kaggle's image)
    _input = pathlib.Path(os.environ.get('VATT_KAGGLE_INPUT', '/kaggle/input'))
    _found = sorted([*_input.glob('vatt-wheels/MANIFEST-*.json'), *_input.glob('datasets/*/vatt-wheels/MANIFEST-*.json')])
    if not _found: raise RuntimeError("vatt's wheels are not attached to this kernel: add your dataset <you>/vatt-wheels "
                                      "('Add Input'), or push the notebook with kaggle/push.py, which builds and attaches it")
    _want = json.loads(_found[0].read_text())['version']
    _pip = subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet', '--no-index', '--find-links', str(_found[0].parent), f'vatt=={_want}'],
                          capture_output=True, text=True)
    if _pip.returncode: raise RuntimeError(f'pip could not install vatt {_want} from {_found[0].parent}:\\n{_pip.stdout[-4000:]}{_pip.stderr[-4000:]}')
    import importlib, importlib.metadata; importlib.invalidate_caches()  # so that the next cell imports the vatt just installed
    _got = importlib.metadata.version('vatt')
    if _got != _want: raise RuntimeError(f'vatt {_got} is installed, not the {_want} that {_found[0]} names: restart the kernel and run it again')
    print(f'vatt {_got} installed from {_found[0].parent}')'''


class PushError(Exception):
    "A problem that stops a push, with a message that says what to do."


# --- the kernel's metadata and notebook -------------------------------------------------------------------------

def _slug(title): return re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')

def check_metadata(meta:dict|str|Path, code_dir:str|Path|None=None, tutorial:bool=True) -> list[str]:
    "The problems of a kernel-metadata.json (empty when none): Kaggle's rules, and with `tutorial` those of a vatt GPU tutorial."
    if not isinstance(meta, dict):
        code_dir = code_dir if code_dir is not None else Path(meta).parent
        meta = json.loads(Path(meta).read_text())
    p = [f'unknown field {k!r} (Kaggle reads {", ".join(KERNEL_FIELDS)})' for k in meta if k not in KERNEL_FIELDS]
    p += [f'missing field {k!r}' for k in ('code_file', 'language', 'kernel_type') if k not in meta]
    if 'id' not in meta and 'id_no' not in meta: p.append("missing field 'id' (or 'id_no')")
    if 'id' in meta:
        if not re.fullmatch(r'[A-Za-z0-9_-]+/[a-z0-9-]{5,50}', str(meta['id'])): p.append(f"id {meta['id']!r} is not '<user>/<slug>' (lower-case slug, 5-50 characters)")
        elif 'title' in meta and _slug(str(meta['title'])) != meta['id'].split('/')[1]: p.append(f"title {meta['title']!r} does not give the slug of id {meta['id']!r}")
    if 'id_no' in meta and not (isinstance(meta['id_no'], int) or str(meta['id_no']).isdigit()): p.append(f"id_no {meta['id_no']!r} is not a number")
    if 'title' in meta and len(str(meta['title'])) < 5: p.append('title must be at least five characters')
    p += [f'{k} {meta[k]!r} is not one of {v}' for k, v in _ALLOWED.items() if meta.get(k) is not None and meta[k] not in v]
    p += [f'{k} must be true or false' for k in _FLAGS if k in meta and not isinstance(meta[k], bool)]
    p += [f'{k} must be a list of strings' for k in _LISTS if k in meta and not (isinstance(meta[k], list) and all(isinstance(s, str) for s in meta[k]))]
    if code_dir is not None and 'code_file' in meta and not (Path(code_dir)/meta['code_file']).is_file(): p.append(f"code_file {meta['code_file']} is not in {code_dir}")
    if tutorial:
        if meta.get('enable_gpu') is not True: p.append('enable_gpu must be true: the tutorials train on a GPU')
        if meta.get('machine_shape') != ACCELERATOR: p.append(f"machine_shape {meta.get('machine_shape')!r}: set {ACCELERATOR!r} (enable_gpu alone can give a P100 that current torch does not support)")
        if not any(s.split('/')[-1] == WHEELS for s in meta.get('dataset_sources', []) if isinstance(s, str)):
            p.append(f"dataset_sources must hold '<user>/{WHEELS}': the first cell installs vatt from it, offline")
        if meta.get('kernel_type') != 'notebook': p.append("kernel_type must be 'notebook'")
    return p

def install_cell_problems(nb:dict) -> list[str]:
    "Whether the notebook's first cell is `INSTALL_CELL`, unchanged."
    cells = nb.get('cells', [])
    if not cells or cells[0].get('cell_type') != 'code': return ['the first cell is not a code cell: it must be the install cell (kaggle/pushlib.py INSTALL_CELL)']
    src = cells[0]['source']
    if (''.join(src) if isinstance(src, list) else src) != INSTALL_CELL: return ['the first cell differs from the install cell in kaggle/pushlib.py (INSTALL_CELL): make them the same']
    return []

def _owned(meta:dict, user:str|None) -> dict:
    "The metadata with `user` as the kernel's and the wheels dataset's owner (the one rewrite a push cannot avoid)."
    meta = dict(meta)
    if user:
        meta['id'] = f"{user}/{meta['id'].split('/')[1]}"
        meta['dataset_sources'] = [f'{user}/{WHEELS}' if s.split('/')[-1] == WHEELS else s for s in meta.get('dataset_sources', [])]
    return meta

def prepare_kernel(meta_file:str|Path, nbs_path:str|Path, dest:str|Path, user:str|None=None,
                   internet:bool|None=None, datasets:tuple=()) -> Path:
    "The folder `kernels_push` uploads: the notebook copied unchanged, the metadata with `user` as owner and `datasets` attached too."
    meta = _owned(json.loads(Path(meta_file).read_text()), user)
    if internet is not None: meta['enable_internet'] = internet
    meta['dataset_sources'] = meta.get('dataset_sources', []) + [d for d in datasets if d not in meta.get('dataset_sources', [])]
    problems = check_metadata(meta, nbs_path)
    if not problems: problems = install_cell_problems(json.loads((Path(nbs_path)/meta['code_file']).read_text()))
    if problems: raise PushError(f'{meta_file}: ' + '; '.join(problems))
    dest = Path(dest)
    shutil.rmtree(dest, ignore_errors=True); dest.mkdir(parents=True)
    shutil.copyfile(Path(nbs_path)/meta['code_file'], dest/meta['code_file'])
    (dest/'kernel-metadata.json').write_text(json.dumps(meta, indent=2) + '\n')
    return dest


# --- the dataset of wheels --------------------------------------------------------------------------------------

def _content_hash(wheels:list[Path]) -> str:
    "A hash of what the wheels hold (file names and bytes), independent of the zip files' timestamps."
    h = hashlib.sha256()
    for w in sorted(wheels, key=lambda p: p.name):
        h.update(w.name.encode())
        with zipfile.ZipFile(w) as z:
            for n in sorted(z.namelist()): h.update(n.encode()); h.update(hashlib.sha256(z.read(n)).digest())
    return h.hexdigest()[:16]

def _pip(*args, **kw):
    r = subprocess.run([sys.executable, '-m', 'pip', *args], capture_output=True, text=True, **kw)
    if r.returncode: raise PushError(f"pip {' '.join(args)} failed:\n{r.stdout[-3000:]}{r.stderr[-3000:]}")
    return r

def _git(src, *args):
    r = subprocess.run(['git', '-C', str(src), *args], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None

def _sources_hash(src:Path) -> str:
    "A hash of what a wheel of `src` is built from (vatt/*.py, pyproject.toml)."
    h = hashlib.sha256()
    for f in sorted([*(Path(src)/'vatt').rglob('*.py'), Path(src)/'pyproject.toml']):
        if f.is_file(): h.update(str(f.relative_to(src)).encode()); h.update(f.read_bytes())
    return h.hexdigest()[:8]

def wheel_version(src:str|Path=ROOT) -> str:
    "vatt's version with the commit it is built from: `0.0.1+g<sha>`, `+g<sha>.d<hash>` when vatt/ or pyproject.toml differ from it."
    base = re.search(r'__version__\s*=\s*[\'"]([^\'"]+)', (Path(src)/'vatt'/'__init__.py').read_text()).group(1)
    sha = _git(src, 'rev-parse', '--short=10', 'HEAD')
    if not sha: return f'{base}+src.{_sources_hash(src)}'  # not a git checkout
    dirty = _git(src, 'status', '--porcelain', '--untracked-files=all', '--', 'vatt', 'pyproject.toml')
    return f'{base}+g{sha}' + (f'.d{_sources_hash(src)}' if dirty else '')

def build_wheels(dest:str|Path, # folder to write (emptied first)
                 user:str=PLACEHOLDER, # the dataset's owner
                 extra:tuple=(), # requirements whose wheels a Kaggle image lacks (downloaded with --no-deps)
                 src:str|Path=ROOT, # the checkout vatt's wheel is built from
                ) -> Path:
    "A folder laid out as the Kaggle dataset `<user>/vatt-wheels`: vatt's wheel, `extra` wheels, a manifest, dataset-metadata.json."
    dest = Path(dest)
    shutil.rmtree(dest, ignore_errors=True); dest.mkdir(parents=True)
    try: import setuptools; isolation = int(setuptools.__version__.split('.')[0]) < 64  # build offline with the installed setuptools
    except ImportError: isolation = True
    with tempfile.TemporaryDirectory() as tmp:  # build from a copy: setuptools writes build/ and *.egg-info next to the sources
        copy = Path(tmp)/'src'
        shutil.copytree(Path(src)/'vatt', copy/'vatt', ignore=shutil.ignore_patterns('__pycache__'))
        for f in ('pyproject.toml', 'README.md', 'LICENSE'):
            if (Path(src)/f).exists(): shutil.copy(Path(src)/f, copy/f)
        version = wheel_version(src)  # the copy's version names the commit, so a kernel can tell which vatt it installed
        init = copy/'vatt'/'__init__.py'
        init.write_text(re.sub(r'__version__\s*=\s*[\'"][^\'"]+[\'"]', f'__version__ = "{version}"', init.read_text()))
        _pip('wheel', '--quiet', '--no-deps', *([] if isolation else ['--no-build-isolation']), '-w', str(dest), str(copy))
    for req in extra: _pip('download', '--quiet', '--no-deps', '--only-binary=:all:', '-d', str(dest), req)
    wheels = sorted(dest.glob('*.whl'))
    if not any(w.name.startswith(f'vatt-{version}-') for w in wheels): raise PushError(f'no vatt {version} wheel was built into {dest}')
    digest = _content_hash(wheels)
    (dest/f'MANIFEST-{digest}.json').write_text(json.dumps(dict(version=version, wheels=[w.name for w in wheels], content=digest), indent=1) + '\n')
    (dest/'dataset-metadata.json').write_text(json.dumps(dict(title=WHEELS, id=f'{user}/{WHEELS}', licenses=[dict(name='apache-2.0')],
        subtitle="vatt's wheels, for installing it offline in Kaggle kernels"), indent=2) + '\n')
    return dest


# --- the dataset of pretrained weights ---------------------------------------------------------------------------

# the timm models each tutorial trains at full scale (what its kernel needs pretrained weights for)
ARCHS = {'paddy': ('resnet26d', 'convnext_small.fb_in22k', 'coatnet_0_rw_224'), 'cats': ('coatnet_0_rw_224',),
         'inspection': ('resnet50', 'vit_base_patch16_224'), 'mvtec': ()}  # mvtec: its anomaly detectors train from random weights

def _hub_download(repo:str, dest:Path) -> Path:
    "timm's `model.safetensors` of hub repository `repo` (e.g. 'timm/resnet26d.bt_in1k') into folder `dest`."
    from huggingface_hub import hf_hub_download
    return Path(hf_hub_download(repo, 'model.safetensors', local_dir=str(dest)))

def _dataset_folder(dest:Path, slug:str, title:str, subtitle:str, license:str) -> Path:
    "Write `dest`'s MANIFEST (its files and their content) and dataset-metadata.json, as `push_wheels` uploads a dataset."
    for m in dest.glob('MANIFEST-*.json'): m.unlink()
    files = sorted(p for p in dest.iterdir() if p.is_file() and p.name != 'dataset-metadata.json')
    h = hashlib.sha256()
    for f in files: h.update(f.name.encode()); h.update(hashlib.sha256(f.read_bytes()).digest())
    digest = h.hexdigest()[:16]
    (dest/f'MANIFEST-{digest}.json').write_text(json.dumps(dict(files=[f.name for f in files], content=digest), indent=1) + '\n')
    (dest/'dataset-metadata.json').write_text(json.dumps(dict(title=title, id=slug, licenses=[dict(name=license)], subtitle=subtitle), indent=2) + '\n')
    return dest

def build_weights(dest:str|Path, # folder to write into (kept: weights already there are not fetched again)
                  tutorial:str, # which tutorial's models
                  user:str=PLACEHOLDER, # the datasets' owner
                 ) -> list[Path]:
    """One dataset per model of `tutorial`, `<user>/<repo name as a slug>` holding timm's `model.safetensors` from the hub
    (fetched where there is network): mounted at `/kaggle/input/<slug>/`, where `vatt.learner.kaggle_weights` finds it.
    (A folder per model, not one dataset of folders: Kaggle's client skips a dataset's sub-folders.)"""
    import timm
    res = []
    for arch in ARCHS[tutorial]:
        repo = timm.models.get_pretrained_cfg(arch).hf_hub_id.split('@')[0]
        slug = re.sub(r'[^a-z0-9]+', '-', repo.split('/')[-1].lower()).strip('-')
        d = Path(dest)/slug; d.mkdir(parents=True, exist_ok=True)
        if not (d/'model.safetensors').is_file():
            try: _hub_download(repo, d)
            except Exception as e: raise PushError(f'could not fetch the weights of {arch} ({repo}) from the hub: {type(e).__name__}: {e}; '
                                                   f"put its model.safetensors in {d} by hand, or push without --weights") from e
        res.append(_dataset_folder(d, f'{user}/{slug}', slug, f"timm's pretrained {repo.split('/')[-1]}"[:80], 'other'))
    return res


# --- the API ----------------------------------------------------------------------------------------------------

def _vtuple(v:str) -> tuple: return tuple(int(x) for x in re.findall(r'\d+', v)[:3])

def check_client(version:str|None=None) -> str:
    "The installed kaggle client's version, or a `PushError` when it is missing or too old to send machine_shape."
    if version is None:
        from importlib.metadata import version as _v, PackageNotFoundError
        try: version = _v('kaggle')
        except PackageNotFoundError: raise PushError("the Kaggle API client is not installed: pip install 'kaggle>=1.8.4' (or pip install -e '.[kaggle]')") from None
    if _vtuple(version) < MIN_CLIENT:
        raise PushError(f"kaggle {version} does not send machine_shape when pushing a kernel, so it would run on the default "
                        f"accelerator instead of a T4: pip install -U 'kaggle>=1.8.4'")
    return version

def kaggle_api():
    "The kaggle client (checked), authenticated through fastkaggle, or a `PushError` saying how to get credentials."
    check_client()
    from fastkaggle import import_kaggle
    try: api = import_kaggle()
    except SystemExit: raise PushError('no Kaggle API credentials: create a token at https://www.kaggle.com/settings/api and save it '
                                       'as ~/.kaggle/kaggle.json (or set KAGGLE_USERNAME and KAGGLE_KEY)') from None
    if 'acc' not in inspect.signature(api.kernels_push).parameters: raise PushError("this kaggle client's kernels_push takes no accelerator: pip install -U 'kaggle>=1.8.4'")
    return api

def api_user(api) -> str|None:
    "The user the client is authenticated as."
    return api.get_config_value(api.CONFIG_NAME_USER)

def _field(r, snake, camel=None):
    "A response field (kagglesdk objects have snake_case properties, older ones camelCase)."
    v = getattr(r, snake, None)
    return getattr(r, camel, None) if v is None and camel else v

def _http_status(e): return getattr(getattr(e, 'response', None), 'status_code', None)

def remote_files(api, slug:str) -> list[str]|None:
    "The file names of dataset `slug` on Kaggle, or None when it does not exist (yet)."
    from requests.exceptions import HTTPError
    names, token = [], None
    while True:
        try: r = api.dataset_list_files(slug, page_token=token, page_size=200)
        except HTTPError as e:
            if _http_status(e) in (403, 404): return None
            raise PushError(f'Kaggle could not list the files of {slug}: {e}') from e
        if _field(r, 'error_message', 'errorMessage'): return None
        names += [f.name for f in (_field(r, 'files') or _field(r, 'dataset_files') or [])]
        token = _field(r, 'next_page_token', 'nextPageToken')
        if not token: return names

def read_manifest(folder:str|Path) -> dict:
    "The manifest of a dataset folder: for `build_wheels`'s, the vatt version, the wheels and the content hash."
    return json.loads(next(Path(folder).glob('MANIFEST-*.json')).read_text())

def push_wheels(api, folder:str|Path, wait:float=900, poll:float=10) -> str:
    "Create or version the dataset in `folder` (wheels, weights) unless Kaggle already has its manifest, and wait until it is ready."
    folder = Path(folder)
    slug = json.loads((folder/'dataset-metadata.json').read_text())['id']
    manifest = next(folder.glob('MANIFEST-*.json')).name
    names = remote_files(api, slug)
    if names is not None and manifest in names: return 'unchanged'
    if names is None: r, what = api.dataset_create_new(str(folder), public=False, quiet=True), 'created'
    else: r, what = api.dataset_create_version(str(folder), f'{slug.split("/")[1]} {manifest[9:-5]}', quiet=True), 'new version'
    if r is None or _field(r, 'error'): raise PushError(f"Kaggle refused the dataset {slug}: {_field(r, 'error') if r is not None else 'no response'}")
    t0 = time.monotonic()
    while (status := str(api.dataset_status(slug)).lower()) != 'ready':
        if status in ('failed', 'deleted') or 'error' in status: raise PushError(f'Kaggle could not process the dataset {slug} (status {status!r}): see https://www.kaggle.com/datasets/{slug}')
        if time.monotonic() - t0 > wait: raise PushError(f'the dataset {slug} is still {status!r} after {wait:.0f}s: push the kernel again when it is ready')
        time.sleep(poll)
    return what

def push_kernel(api, folder:str|Path, accelerator:str=ACCELERATOR) -> dict:
    "Push the kernel in `folder` on `accelerator`; a `PushError` with Kaggle's message when it refuses or drops a source."
    r = api.kernels_push(str(folder), acc=accelerator)
    if r is None: raise PushError('Kaggle returned no response to the push (see the client output above)')
    if _field(r, 'error'): raise PushError(f"Kaggle refused the kernel: {_field(r, 'error')}")
    dropped = {k: list(_field(r, f'invalid_{k}_sources', f'invalid{k.title()}Sources') or []) for k in ('dataset', 'competition', 'kernel', 'model')}
    if any(dropped.values()):
        hint = ''.join(f' Join https://www.kaggle.com/competitions/{c} (accept its rules) and push again.' for c in dropped['competition'])
        raise PushError('Kaggle saved the kernel but did not attach ' + '; '.join(f'{k} sources {v}' for k, v in dropped.items() if v) +
                        ', so its run cannot find its data.' + hint)
    return dict(ref=_field(r, 'ref'), url=_field(r, 'url'), version=_field(r, 'version_number', 'versionNumber'))

def kernel_id(folder:str|Path) -> str:
    "The `<user>/<slug>` of the kernel in `folder`, its metadata's `id`: what kernels_status/pull/output take (not the push's `/code/...` ref)."
    return json.loads((Path(folder)/'kernel-metadata.json').read_text())['id']

RUNNING, FAILED = ('queued', 'running', 'new_script'), ('error', 'cancel_requested', 'cancel_acknowledged')

def _status(api, kid) -> tuple[str, str]:
    "The kernel's status as lower-case snake_case ('running', 'complete', 'error', ...), and its failure message."
    s = api.kernels_status(kid)
    st = _field(s, 'status')
    st = getattr(st, 'name', None) or re.sub(r'(?<!^)(?=[A-Z])', '_', str(st)).replace('KernelWorkerStatus.', '')
    return st.lower(), _field(s, 'failure_message', 'failureMessage') or ''

def kernel_report(api, kid:str, wait:float=0, poll:float=15) -> dict:
    "The status of kernel `kid` (`<user>/<slug>`) and the machine shape Kaggle saved for it, waiting up to `wait` seconds for the run to start."
    t0 = time.monotonic()
    while True:
        status, failure = _status(api, kid)
        if status not in ('queued', 'new_script') or time.monotonic() - t0 >= wait: break
        time.sleep(poll)
    with tempfile.TemporaryDirectory() as d:
        api.kernels_pull(kid, path=d, metadata=True)
        meta = json.loads((Path(d)/'kernel-metadata.json').read_text())
    return dict(status=status, failure=failure, machine_shape=meta.get('machine_shape') or None,
                enable_gpu=meta.get('enable_gpu'), enable_internet=meta.get('enable_internet'))

def wait_for_run(api, kid:str, timeout:float=4*3600, poll:float=30, settle:float=120, seen:bool=False, say=print) -> tuple[str, str]:
    """Poll kernel `kid` until its run ends; its final status and failure message. Right after a push Kaggle may still report
    the previous run's end, so an ended status counts only once the new run was `seen` queued or running, or after `settle` seconds."""
    t0, last = time.monotonic(), None
    while True:
        status, failure = _status(api, kid)
        if status != last: say(f'{time.strftime("%H:%M:%S")} {kid}: {status}'); last = status
        if status in RUNNING: seen = True
        elif seen or time.monotonic() - t0 >= settle: return status, failure
        if time.monotonic() - t0 >= timeout: raise PushError(f'{kid} is still {status!r} after {timeout:.0f}s: `kaggle kernels status {kid}` follows it')
        time.sleep(poll)

def log_tail(log:str, n:int=30) -> str:
    "The last `n` lines of a kernel log (Kaggle's JSON list of {stream_name, time, data}, or plain text)."
    try: text = ''.join(e.get('data', '') for e in json.loads(log))
    except (ValueError, TypeError, AttributeError): text = log
    return '\n'.join(text.rstrip().splitlines()[-n:])

def fetch_results(api, kid:str, dest:str|Path) -> tuple[dict|None, str]:
    "The kernel's `summary.json` (None when its run wrote none) and its log, downloaded into `dest`."
    dest = Path(dest)
    shutil.rmtree(dest, ignore_errors=True); dest.mkdir(parents=True)
    note, get = '', lambda pattern: api.kernels_output(kid, path=str(dest), file_pattern=pattern, force=True, quiet=True)
    try: files = get(r'(^|/)summary\.json$')
    except Exception as e:  # an output that cannot be downloaded must not hide the run's log
        note, files = f'\n(its summary.json could not be downloaded: {type(e).__name__}: {e})', get(r'^(?!)')  # the log alone
    files = files[0] if isinstance(files, tuple) else files
    log = next((Path(f) for f in files if str(f).endswith('.log')), None)
    summaries = sorted(dest.rglob('summary.json'))
    return (json.loads(summaries[0].read_text()) if summaries else None), (log.read_text() if log and log.exists() else '') + note

def check_summary(summary:dict|None, version:str|None=None, accelerator:str=ACCELERATOR) -> list[str]:
    "What a finished run's summary.json shows wrong: missing, another vatt than the one uploaded, another GPU than asked for."
    if summary is None: return ['the run wrote no summary.json: see the log above']
    p, got = [], summary.get('versions', {}).get('vatt')
    if version and got != version:
        p.append(f'the run installed vatt {got}, not the {version} just uploaded: Kaggle had not processed the new wheels dataset '
                 f'version when the kernel started; push again')
    gpu, want = summary.get('gpu', 'cpu'), {'NvidiaTeslaT4': 'T4'}.get(accelerator, accelerator)
    if want not in str(gpu): p.append(f'the run was on {gpu!r}, not the {accelerator} it was asked for')
    return p

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
# attaches it; pip's index stays off, so it works with the kernel's internet switched off). Elsewhere: nothing.
import os, sys, subprocess, pathlib
if os.environ.get('KAGGLE_KERNEL_RUN_TYPE'):  # fastkaggle's `iskaggle` (fastkaggle itself is not on Kaggle's image)
    _input = pathlib.Path(os.environ.get('VATT_KAGGLE_INPUT', '/kaggle/input'))
    _wheels = sorted({w.parent for w in [*_input.glob('vatt-wheels/vatt-*.whl'), *_input.glob('datasets/*/vatt-wheels/vatt-*.whl')]})
    if not _wheels: raise RuntimeError("vatt's wheels are not attached to this kernel: add your dataset <you>/vatt-wheels "
                                       "('Add Input'), or push the notebook with kaggle/push.py, which builds and attaches it")
    _pip = subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet', '--no-index', '--find-links', str(_wheels[0]), 'vatt'],
                          capture_output=True, text=True)
    if _pip.returncode: raise RuntimeError(f'pip could not install vatt from {_wheels[0]}:\\n{_pip.stdout[-4000:]}{_pip.stderr[-4000:]}')
    import importlib; importlib.invalidate_caches()  # so that the next cell imports the vatt just installed'''


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
                   internet:bool|None=None) -> Path:
    "The folder `kernels_push` uploads: the notebook copied unchanged and the metadata with `user` as owner."
    meta = _owned(json.loads(Path(meta_file).read_text()), user)
    if internet is not None: meta['enable_internet'] = internet
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
        _pip('wheel', '--quiet', '--no-deps', *([] if isolation else ['--no-build-isolation']), '-w', str(dest), str(copy))
    for req in extra: _pip('download', '--quiet', '--no-deps', '--only-binary=:all:', '-d', str(dest), req)
    wheels = sorted(dest.glob('*.whl'))
    if not any(w.name.startswith('vatt-') for w in wheels): raise PushError(f'no vatt wheel was built into {dest}')
    digest = _content_hash(wheels)
    (dest/f'MANIFEST-{digest}.json').write_text(json.dumps(dict(wheels=[w.name for w in wheels], content=digest), indent=1) + '\n')
    (dest/'dataset-metadata.json').write_text(json.dumps(dict(title=WHEELS, id=f'{user}/{WHEELS}', licenses=[dict(name='apache-2.0')],
        subtitle="vatt's wheels, for installing it offline in Kaggle kernels"), indent=2) + '\n')
    return dest


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

def push_wheels(api, folder:str|Path, wait:float=900, poll:float=10) -> str:
    "Create or version the wheels dataset from `folder` unless Kaggle already has these wheels, and wait until it is ready."
    folder = Path(folder)
    slug = json.loads((folder/'dataset-metadata.json').read_text())['id']
    manifest = next(folder.glob('MANIFEST-*.json')).name
    names = remote_files(api, slug)
    if names is not None and manifest in names: return 'unchanged'
    if names is None: r, what = api.dataset_create_new(str(folder), public=False, quiet=True), 'created'
    else: r, what = api.dataset_create_version(str(folder), f'vatt wheels {manifest[9:-5]}', quiet=True), 'new version'
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

def kernel_report(api, ref:str, wait:float=0, poll:float=15) -> dict:
    "The kernel's status and the machine shape Kaggle reports for it, waiting up to `wait` seconds for the run to start."
    t0 = time.monotonic()
    while True:
        s = api.kernels_status(ref)
        status = getattr(_field(s, 'status'), 'name', str(_field(s, 'status'))).lower()
        if status not in ('queued', 'new_script') or time.monotonic() - t0 >= wait: break
        time.sleep(poll)
    with tempfile.TemporaryDirectory() as d:
        api.kernels_pull(ref, path=d, metadata=True)
        meta = json.loads((Path(d)/'kernel-metadata.json').read_text())
    return dict(status=status, failure=_field(s, 'failure_message', 'failureMessage'), machine_shape=meta.get('machine_shape') or None,
                enable_gpu=meta.get('enable_gpu'), enable_internet=meta.get('enable_internet'))

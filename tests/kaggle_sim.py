"""A simulated Kaggle kernel for the tests: an interpreter that has this environment's packages except vatt and
fastkaggle (as Kaggle's image: torch, fastai, timm … but neither of those), vatt's wheels dataset built as
`kaggle/push.py --dry-run` builds it and mounted as `/kaggle/input/...`, and the kernel's environment variables."""
import os, re, shutil, subprocess, sys, sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'kaggle'))
import pushlib  # noqa: E402

NOT_ON_KAGGLE = re.compile(r'vatt|^fastkaggle', re.I)  # site-packages entries a Kaggle image does not have

def kaggle_image(dest:Path) -> Path:
    "The python of a fresh environment that sees this one's packages, less vatt and fastkaggle; pip installs into it."
    dest = Path(dest)
    site = dest/'image-site'
    site.mkdir(parents=True)
    for lib in {sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib']}:
        for p in Path(lib).iterdir():
            if not NOT_ON_KAGGLE.search(p.name) and not (site/p.name).exists(): (site/p.name).symlink_to(p)
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(dest/'env')], check=True)
    py = dest/'env'/'bin'/'python'
    own = subprocess.run([str(py), '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], capture_output=True, text=True, check=True)
    Path(own.stdout.strip(), 'kaggle_image.pth').write_text(f'import site; site.addsitedir({str(site)!r})\n')
    return py

def dry_run_wheels(out:Path) -> Path:
    "The wheels dataset folder exactly as `kaggle/push.py <tutorial> --dry-run` leaves it."
    r = subprocess.run([sys.executable, str(ROOT/'kaggle'/'push.py'), 'inspection', '--dry-run', '--out', str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return Path(out)/pushlib.WHEELS

def mount_wheels(wheels:Path, input_root:Path, owner:str|None=None) -> Path:
    "The dataset's files (what Kaggle's client uploads: all but dataset-metadata.json) where a kernel sees them."
    dest = Path(input_root)/pushlib.WHEELS if owner is None else Path(input_root)/'datasets'/owner/pushlib.WHEELS
    dest.mkdir(parents=True)
    for f in wheels.iterdir():
        if f.name != 'dataset-metadata.json': shutil.copy(f, dest/f.name)
    return dest

def kernel_env(inp:Path, work:Path, tmp:Path, kaggle:bool=True) -> dict:
    "The environment of a kernel run: on Kaggle (unless `kaggle` is False), small scale, no pip index, nothing of ours on the path."
    # VIRTUAL_ENV too: IPython puts that venv's site-packages on sys.path (its "working in a virtualenv" warning), which would
    # show the kernel this environment's vatt
    env = {k: v for k, v in os.environ.items() if not k.startswith(('VATT_', 'KAGGLE_', 'IN_TEST', 'PIP_', 'PYTHONPATH', 'VIRTUAL_ENV'))}
    env.update(VATT_KAGGLE_INPUT=str(inp), VATT_KAGGLE_WORKING=str(work), VATT_KAGGLE_TEMP=str(Path(tmp)/'kaggle-temp'),
               VATT_SCALE='small', VATT_DATA_HOME=str(Path(tmp)/'no-cache'),
               HF_HUB_OFFLINE='1', MPLBACKEND='Agg', PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX='1', PIP_DISABLE_PIP_VERSION_CHECK='1')
    if kaggle: env['KAGGLE_KERNEL_RUN_TYPE'] = 'Batch'
    return env

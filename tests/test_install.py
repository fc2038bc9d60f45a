"""`pip install -e .` without extras must be enough for `import vatt.<anything>` and the command line (issue 16: `vatt demo`
failed on every fresh machine because `fastai.distributed` needs `accelerate`, which only the dev extra brought). The dev
venv has more installed, so the check runs with every module that vatt's declared dependencies do not bring blocked."""
import subprocess, sys
from pathlib import Path
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from check_install import dependency_closure, BlockUndeclared


def test_closure_follows_requirements_not_extras():
    deps = dependency_closure()
    assert {'vatt', 'torch', 'fastai', 'timm', 'fastcore', 'accelerate'} <= deps
    assert not {'pytest', 'nbdev', 'grad-cam', 'kaggle', 'ruff'} & deps  # dev and kaggle extras only
    assert {'pytest', 'nbdev'} <= dependency_closure(extras=('dev',))


def test_blocker_refuses_an_undeclared_module():
    import importlib, pytest
    sys.modules.pop('ruff', None)
    b = BlockUndeclared(dependency_closure())
    sys.meta_path.insert(0, b)
    try:
        with pytest.raises(ModuleNotFoundError, match='not declared'): importlib.import_module('ruff')
        importlib.import_module('fastcore')  # declared (through fastai)
    finally: sys.meta_path.remove(b)


def test_every_module_and_command_with_declared_dependencies_only():
    r = subprocess.run([sys.executable, str(HERE/'check_install.py'), '--only-declared'], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    assert 'imported' in r.stdout and 'predict' in r.stdout

"The library, tests and scripts import only what they use, and use only what they define or import (ruff's pyflakes rules)."
import shutil, subprocess
from pathlib import Path
import pytest
ROOT = Path(__file__).resolve().parent.parent


def test_no_unused_or_undefined_names():
    ruff = shutil.which('ruff') or pytest.skip('ruff is in the dev extra: pip install -e ".[dev]"')
    r = subprocess.run([ruff, 'check', '--select', 'F401,F811,F821,F841', '--output-format', 'concise', 'vatt', 'tests', 'bench', 'kaggle', 'tools'],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:]

"README.md is what index.ipynb says, and CI runs the README's test command."
import re, subprocess, sys
from pathlib import Path
ROOT = Path(__file__).resolve().parent.parent


def test_readme_is_current():
    assert subprocess.run([sys.executable, str(ROOT/'tools'/'make_readme.py'), '--check']).returncode == 0


def test_readme_gives_the_two_commands_and_ci_runs_the_second():
    readme = (ROOT/'README.md').read_text()
    lines = [l for l in readme.splitlines() if l.startswith('python3 -m venv')]
    assert len(lines) == 2 and lines[0].endswith('vatt demo')
    ci = (ROOT/'.ci'/'run').read_text()
    assert "grep -m1 -F 'nbdev-test && pytest' README.md" in ci
    # issue 16: CI runs the first command too, verbatim, in a fresh venv, before the test command installs any extra
    first = re.search(r"main=\$\(grep -m1 -E '(.+)' README.md\)", ci).group(1)
    assert re.fullmatch(first, lines[0]) and ci.index('eval "$main"') < ci.index('eval "$cmd"')
    assert 'pip install -e . &&' in lines[0] and '[' not in lines[0]  # no extras
    assert 'nbdev-test && pytest' in lines[1]

"Every module imports only modules of earlier notebooks: the import graph points down, so nbs/ reads in order."
import re
from pathlib import Path
ROOT = Path(__file__).resolve().parent.parent


def test_imports_point_down():
    order, imports = {}, {}
    for f in (ROOT/'vatt').glob('*.py'):
        src = f.read_text()
        nb = re.search(r'File to edit: \.\./nbs/(\w+)\.ipynb', src)
        if not nb: continue  # __init__, _modidx
        order[f.stem] = nb.group(1)
        # relative and absolute imports, at the top or inside functions (issue 20: the kaggle/_standin circle went through one)
        imports[f.stem] = set(re.findall(r'^\s*from \.(\w+) import', src, re.M)) | set(re.findall(r'^\s*(?:import|from) vatt\.(\w+)', src, re.M))
    assert {'core', 'plots', 'drawn', 'data', 'cam', 'defects', 'learner', 'attention', 'explain', 'metrics', 'evaluate', 'report', 'cli'} <= set(order)
    up = [(m, i) for m, deps in imports.items() for i in deps if i in order and order[i] >= order[m]]
    assert not up, f'imports that point up (or sideways): {up}'
    mutual = [(m, i) for m, deps in imports.items() for i in deps if m in imports.get(i, ())]
    assert not mutual, f'modules that import each other: {mutual}'

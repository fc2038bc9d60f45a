"""Write README.md from nbs/index.ipynb: markdown cells as they are, code cells as ```python blocks.

nbdev's own `nbdev-readme` renders through Quarto, which cannot be installed on machines without network;
this does the same for the parts index.ipynb uses. tests/test_readme.py checks that README.md is current."""
import json, sys
from pathlib import Path

def render(nb_path):
    cells = json.loads(Path(nb_path).read_text())['cells']
    out = []
    for c in cells:
        src = ''.join(c['source']).strip()
        if not src or src.startswith('#|'): continue
        out.append(src if c['cell_type'] == 'markdown' else f'```python\n{src}\n```')
    return '\n\n'.join(out) + '\n'

if __name__ == '__main__':
    root = Path(__file__).resolve().parent.parent
    text = render(root/'nbs'/'index.ipynb')
    if '--check' in sys.argv: sys.exit(0 if (root/'README.md').read_text() == text else 1)
    (root/'README.md').write_text(text)

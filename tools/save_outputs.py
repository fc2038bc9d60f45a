"""Run the library notebooks and keep the outputs that teach: figures, tables and printed results.

    python tools/save_outputs.py                 # the library notebooks (00 to 12a)
    python tools/save_outputs.py nbs/03_cam.ipynb

Cells flagged with `tst_flags` (slow, cuda, kaggle) are skipped, as in `nbdev-test`. Warnings, progress bars
and other stderr are dropped, long printouts are cut, and `nbdev-clean` is run afterwards. Tutorials are left
without outputs: here they run on stand-in data, and their figures would be mistaken for the real ones."""
import json, re, subprocess, sys
from pathlib import Path
from nbdev.config import get_config
from nbdev.test import test_nb

MAX_LINES = 40  # of one printed output
LIBRARY = re.compile(r'^(0\d|1[0-2])a?_(?!tutorial)')


def keep(out:dict) -> dict|None:
    "The output as it will be saved, or None to drop it."
    kind = out['output_type']
    if kind == 'stream':
        if out['name'] != 'stdout': return None
        lines = ''.join(out['text']).splitlines(keepends=True)
        if len(lines) > MAX_LINES: lines = lines[:MAX_LINES] + [f'… ({len(lines) - MAX_LINES} more lines)\n']
        return {**out, 'text': lines}
    if kind in ('display_data', 'execute_result'):
        data = out.get('data', {})
        if 'progress' in ''.join(data.get('text/html', '')): return None  # fastprogress bars
        if 'image/png' in data: return {**out, 'data': {k: v for k, v in data.items() if k in ('image/png', 'text/plain')}}
        return out
    return None


def save_outputs(fn:Path):
    "Execute `fn`, write its outputs back, then strip them to what `keep` keeps."
    ok, secs = test_nb(fn, skip_flags=get_config().tst_flags.split(), save=True)
    if not ok: sys.exit(f'{fn} failed; nothing of it was changed')
    nb = json.loads(fn.read_text())
    for c in nb['cells']:
        if c['cell_type'] == 'code': c['outputs'] = [o for o in map(keep, c.get('outputs', [])) if o is not None]
    fn.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    print(f'{fn.name}: {secs:.0f} s, {fn.stat().st_size // 1024} KB')


if __name__ == '__main__':
    nbs = [Path(a) for a in sys.argv[1:]] or sorted(p for p in Path(get_config().nbs_path).glob('*.ipynb') if LIBRARY.match(p.name))
    for fn in nbs: save_outputs(fn)
    subprocess.run(['nbdev-clean'], check=True)

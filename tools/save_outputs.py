"""Run the library notebooks and keep the outputs that teach: figures, tables and printed results.

    python tools/save_outputs.py                 # the library notebooks (00 to 12, with 04b and 11a)
    python tools/save_outputs.py nbs/03_cam.ipynb
    python tools/save_outputs.py --no-run          # only strip and shrink the outputs already saved

Cells flagged with `tst_flags` (slow, cuda, kaggle) are skipped, as in `nbdev-test`. Warnings, progress bars
and other stderr are dropped, long printouts are cut, figures are shrunk to at most `MAX_WIDTH` pixels wide in 256
colours, and `nbdev-clean` is run afterwards. Tutorials are left
without outputs: here they run on stand-in data, and their figures would be mistaken for the real ones."""
import base64, io, json, re, subprocess, sys
from pathlib import Path
from PIL import Image
from nbdev.config import get_config
from nbdev.test import test_nb

MAX_LINES = 40  # of one printed output
MAX_WIDTH = 900  # pixels of a saved figure
LIBRARY = re.compile(r'^(0\d|1[0-2])[a-z]?_(?!tutorial)')


def shrink_png(b64:str) -> str:
    "A figure at most `MAX_WIDTH` wide, in an adaptive 256-colour palette (base64 PNG in, base64 PNG out)."
    im = Image.open(io.BytesIO(base64.b64decode(b64))).convert('RGB')
    if im.width > MAX_WIDTH: im = im.resize((MAX_WIDTH, round(im.height * MAX_WIDTH / im.width)), Image.LANCZOS)
    buf = io.BytesIO(); im.quantize(256).save(buf, 'PNG', optimize=True)
    return b64 if len(buf.getvalue()) * 4 // 3 >= len(b64) else base64.b64encode(buf.getvalue()).decode() + '\n'


def as_terminal(text:str) -> list[str]:
    "The lines a terminal shows of `text`: each as its last carriage return left it, without progress bars or blank lines."
    lines = [line.rsplit('\r', 1)[-1].replace('\u2588', '').rstrip() for line in text.split('\n')]
    return [line + '\n' for line in lines if line.strip()]


def keep(out:dict) -> dict|None:
    "The output as it will be saved, or None to drop it."
    kind = out['output_type']
    if kind == 'stream':
        if out['name'] != 'stdout': return None
        lines = as_terminal(''.join(out['text']))
        if not lines: return None
        if len(lines) > MAX_LINES: lines = lines[:MAX_LINES] + [f'… ({len(lines) - MAX_LINES} more lines)\n']
        return {**out, 'text': lines}
    if kind in ('display_data', 'execute_result'):
        data = out.get('data', {})
        if 'progress' in ''.join(data.get('text/html', '')): return None  # fastprogress bars
        if 'image/png' in data:
            png = ''.join(data['image/png'])
            return {**out, 'data': {'image/png': shrink_png(png), **({'text/plain': data['text/plain']} if 'text/plain' in data else {})}}
        return out
    return None


def save_outputs(fn:Path, run:bool=True):
    "Execute `fn` (unless not `run`), write its outputs back, then strip them to what `keep` keeps."
    ok, _ = test_nb(fn, skip_flags=get_config().tst_flags.split(), save=True) if run else (True, 0)
    if not ok: sys.exit(f'{fn} failed; nothing of it was changed')
    nb = json.loads(fn.read_text())
    for c in nb['cells']:
        if c['cell_type'] == 'code': c['outputs'] = [o for o in map(keep, c.get('outputs', [])) if o is not None]
    fn.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    print(f'{fn.name}: {fn.stat().st_size // 1024} KB')


if __name__ == '__main__':
    run = '--no-run' not in sys.argv
    nbs = [Path(a) for a in sys.argv[1:] if a != '--no-run'] or sorted(p for p in Path(get_config().nbs_path).glob('*.ipynb') if LIBRARY.match(p.name))
    for fn in nbs: save_outputs(fn, run)
    subprocess.run(['nbdev-clean'], check=True)

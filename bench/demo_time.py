"""Wall time and validation accuracy of `vatt demo` with its defaults (the README's main job).

    python bench/demo_time.py            # the defaults: the target is accuracy >= 0.95 within 300 s on 2 CPU cores
    python bench/demo_time.py --quick    # a tiny setting, seconds

Prints the report's table of every CAM method at every candidate layer (pointing game, energy, IoU, AUROC; deletion
and insertion AUC at each method's best layer) and Grad-CAM aligned vs plain, then a final JSON line: wall seconds,
training seconds, accuracy, F1, each CAM method's pointing game at its best layer, device, cores."""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

ap = argparse.ArgumentParser(); ap.add_argument('--quick', action='store_true')
ap.add_argument('--out', default=None, help='keep the report in this folder (default: a temporary one)'); args = ap.parse_args()
extra = ['--n', '16', '--size', '64', '48', '--epochs', '1', '--arch', 'resnet10t'] if args.quick else []
with tempfile.TemporaryDirectory() as d:
    d = args.out or d
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, '-m', 'vatt.cli', 'demo', '--out', d, *extra], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode: sys.exit(r.stderr[-2000:])
    m = json.loads((Path(d)/'metrics.json').read_text())
env = m.get('environment', {})
cols = ('pointing', 'energy', 'iou_best_set', 'auroc', 'deletion', 'insertion')
print(f"{'method':10s} {'layer':22s} " + ' '.join(f'{c:>12s}' for c in cols))
for r in m.get('cam', {}).get('rows', []): print(f"{r['method']:10s} {r['layer']:22s} " + ' '.join(f'{r[c]:12.3f}' for c in cols))
for layer, a in m.get('cam', {}).get('alignment', {}).items(): print(f"Grad-CAM pointing at {layer}: aligned {a['aligned']:.3f}, plain {a['plain']:.3f}")
print(json.dumps(dict(bench='demo_time', quick=args.quick, wall_s=round(wall, 1), train_s=m['run']['train_seconds'],
                      accuracy=round(m['metrics']['accuracy'], 4), f1_weighted=round(m['metrics']['f1_weighted'], 4),
                      arch=m['run']['arch'], size=m['run']['size'], epochs=m['run']['epochs'],
                      device=', '.join(g['name'] for g in env.get('gpus', [])) or 'cpu', cpus=os.cpu_count(),
                      torch=env.get('torch'),
                      pointing_at_best_layer={k: (v['layer'], round(v['pointing'], 3)) for k, v in m.get('cam', {}).get('best', {}).items()})))

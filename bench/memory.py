"""Peak memory (RSS) of Score-CAM, the code of a base commit vs this tree's, each measurement in a fresh subprocess.

    python bench/memory.py                    # base: the merge-base with main; batches 1 2 4 (old) and 1 4 32 (new)
    python bench/memory.py --base main --old-batches 2 4 --new-batches 32

Score-CAM at resnet50's last stage (2048 channels, 7x7) on 224x224 inputs. The Score-CAM function is called
directly with activations of that shape and a stand-in model whose forward is cheap (a 32x32 average pool and a
1x1 convolution to 2048 channels, a linear head): the memory Score-CAM itself needs (upsampled masks, masked
images, scores) does not depend on how heavy the model is, and a real resnet50 would take hours on a CPU for 32
images x 2048 masks. The old code upsamples every channel of the whole batch at once (B x 2048 x 224 x 224 floats:
13 GB at batch 32, more than this machine has), so it is measured at smaller batches, where its growth shows;
the new code scores in chunks of masked images, so its peak should not depend on the batch. Prints one JSON line
per measurement (peak RSS in MB from `resource.getrusage(RUSAGE_SELF).ru_maxrss`, minus the RSS before the call)."""
import argparse, json, os, subprocess, sys, tempfile, resource, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(which, batch, old_dir):
    "In this (fresh) process: run Score-CAM once and print the peak RSS."
    import torch
    from torch import nn
    if which == 'old': sys.path.insert(0, old_dir); from vatt_old.cam import scorecam
    else: sys.path.insert(0, str(ROOT)); from vatt.cam import scorecam
    torch.manual_seed(0)
    model = nn.Sequential(nn.AvgPool2d(32), nn.Conv2d(3, 2048, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 10)).eval()
    x = torch.randn(batch, 3, 224, 224)
    A = torch.relu(torch.randn(batch, 2048, 7, 7))  # resnet50's last stage
    t = torch.zeros(batch, 1, dtype=torch.long)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    with torch.no_grad(): m = scorecam(model, x, A, t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(dict(code=which, batch=batch, channels=2048, size=224, peak_rss_mb=round(peak), added_mb=round(peak - before),
                          seconds=round(time.perf_counter() - t0, 1), maps=list(m.shape))), flush=True)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--base', default=None, help='git ref of the old code (default: the merge-base with main)')
    ap.add_argument('--old-batches', nargs='+', type=int, default=[1, 2, 4])
    ap.add_argument('--new-batches', nargs='+', type=int, default=[1, 4, 32])
    ap.add_argument('--one', nargs=3, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one: one(a.one[0], int(a.one[1]), a.one[2]); sys.exit()
    git = lambda *c: subprocess.run(['git', '-C', str(ROOT), *c], capture_output=True, text=True, check=True).stdout
    base = a.base or git('merge-base', 'HEAD', 'main').strip()
    old = Path(tempfile.mkdtemp())/'vatt_old'; old.mkdir()
    (old/'__init__.py').write_text('')
    for f in ('core.py', 'cam.py'): (old/f).write_text(git('show', f'{base}:vatt/{f}'))
    print(json.dumps(dict(base=base, head=git('rev-parse', 'HEAD').strip(), cpus=os.cpu_count())), flush=True)
    env = {**os.environ, 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1')}
    for which, batches in (('old', a.old_batches), ('new', a.new_batches)):
        for b in batches:
            r = subprocess.run([sys.executable, __file__, '--one', which, str(b), str(old.parent)], capture_output=True, text=True, env=env)
            print(r.stdout.strip() or json.dumps(dict(code=which, batch=b, failed=r.returncode, stderr=r.stderr.strip()[-300:])), flush=True)

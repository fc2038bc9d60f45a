"""Inference speed of the `learned` anomaly map (issue 17's goal: >= 10 images/s at 384x288 on 2 CPU cores): the
default layout against channels-last inputs (`AnomalyModel.channels_last`), interleaved in one run so that the load
of a shared machine falls on both alike. The maps of the two layouts are compared too.

    python bench/anomaly_speed.py --threads 1 2
    python bench/anomaly_speed.py --threads 1 2 --files '/tmp/vatt_bench_anomaly/test_288x384/*/*.png'   # + end to end from files
    python bench/anomaly_speed.py --quick      # checks the script, measures nothing

With `--files`, it also times `score_images` over those image files with the library's default layout: reading,
normalising, batching and scoring, the path `learn.predict_anomaly` and `vatt predict` take.
"""
import argparse, glob, json, time
import torch
from vatt.anomaly import AnomalyModel, score_images
from vatt.defects import DefectNet

def images_per_s(m, x, reps):
    "Images per second of `m.raw` on the batch `x`, the best of `reps` timed calls (after one warm-up)."
    with torch.inference_mode():
        m.raw(x)
        best = min(_timed(m, x) for _ in range(reps))
    return len(x) / best

def _timed(m, x):
    t0 = time.perf_counter(); m.raw(x)
    return time.perf_counter() - t0

def files_per_s(m, files):
    "Images per second of `score_images` over `files` (channels-last, the default), after one warm-up batch."
    m.channels_last = True
    list(score_images(m, files[:8]))
    t0 = time.perf_counter(); n = len(list(score_images(m, files)))
    return round(n / (time.perf_counter() - t0), 2)

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--size', type=int, nargs=2, default=[288, 384], help='(height, width)')
    p.add_argument('--bs', type=int, default=8); p.add_argument('--reps', type=int, default=3)
    p.add_argument('--threads', type=int, nargs='+', default=[1, 2]); p.add_argument('--arch', default='resnet18')
    p.add_argument('--files', default=None, help='a glob of image files to score end to end as well')
    p.add_argument('--quick', action='store_true')
    a = p.parse_args()
    if a.quick: a.size, a.bs, a.reps, a.threads = [64, 96], 2, 1, [1]
    torch.manual_seed(0)
    m = AnomalyModel('learned', DefectNet(a.arch, n_classes=1, head='encoder', seg='binary').eval()).eval()  # speed does not depend on training
    x = torch.randn(a.bs, 3, *a.size)
    with torch.inference_mode():
        m.channels_last = False; plain = m.raw(x)[1]
        m.channels_last = True; cl = m.raw(x)[1]
    out = dict(arch=a.arch, size=a.size, bs=a.bs, max_map_diff=float((plain - cl).abs().max()), date=time.strftime('%Y-%m-%d'), runs=[])
    for th in a.threads:
        torch.set_num_threads(th)
        r = dict(threads=th, default=[], channels_last=[])
        for _ in range(2):  # interleaved: default, channels-last, default, channels-last
            for layout in ('default', 'channels_last'):
                m.channels_last = layout == 'channels_last'
                r[layout].append(round(images_per_s(m, x, a.reps), 2))
        r['speedup'] = round(max(r['channels_last']) / max(r['default']), 2)
        if a.files: r['files_per_s'] = files_per_s(m, sorted(glob.glob(a.files)))
        out['runs'].append(r)
        print(r, flush=True)
    out['load'] = round(__import__('os').getloadavg()[0], 1)
    print(json.dumps(out))

if __name__ == '__main__': main()

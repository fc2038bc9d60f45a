"""Peak memory of scoring one 2048x2048 image on the CPU with each anomaly method (issue 17: within 4 GB).

    python bench/anomaly_memory.py --method knn     # or learned, both
Prints the process's peak resident memory before and after scoring (the model is fitted on 4 small images first).
"""
import argparse, json, resource, time
import torch, torch.nn.functional as F
from vatt.anomaly import fit_knn, AnomalyModel, score_large, calibrate
from vatt.defects import DefectNet

def peak_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

p = argparse.ArgumentParser(); p.add_argument('--method', default='knn'); p.add_argument('--side', type=int, default=2048)
p.add_argument('--threads', type=int, default=2); a = p.parse_args()
torch.set_num_threads(a.threads)
g = torch.Generator().manual_seed(0)
x = F.avg_pool2d(torch.randn(4, 3, 256, 256, generator=g), 3, 1, 1) * 2
knn = lambda: fit_knn(x, 'resnet18', share=0.05)
learned = lambda: AnomalyModel('learned', DefectNet('resnet18', n_classes=1, head='encoder', seg='binary').eval()).eval()  # untrained: the same memory
m = dict(knn=knn, learned=learned, both=lambda: AnomalyModel('both', torch.nn.ModuleList([learned(), knn()])).eval())[a.method]()
calibrate(m, x[:2])
big = F.avg_pool2d(torch.randn(1, 3, a.side, a.side, generator=g), 3, 1, 1) * 2
before = peak_mb(); t0 = time.time()
s, amap = score_large(m, big)
print(json.dumps(dict(method=a.method, side=a.side, map=list(amap.shape), peak_before_mb=round(before), peak_after_mb=round(peak_mb()),
                      seconds=round(time.time() - t0, 1), threads=a.threads)))

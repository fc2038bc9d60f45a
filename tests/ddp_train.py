"Trains a tiny model with vatt's `train`, under torch.distributed.run (DDP) or alone; prints one JSON line per process."
import json, sys, time
from pathlib import Path
import numpy as np, cv2, torch
from fastai.callback.core import Callback
from fastai.distributed import rank_distrib, num_distrib
from vatt.data import image_dls
from vatt.learner import train

class Probe(Callback):
    "Records what the training loop really ran: the model's wrapper and the batches each process saw."
    def before_train(self): self.wrapped, self.n_batches = type(self.learn.model).__name__, len(self.learn.dl)

def squares(root:Path, n:int=40):
    "Three classes of coloured squares on noise: learnable from scratch in a few epochs."
    rng = np.random.default_rng(0)
    for c, col in {'red': (40, 40, 200), 'green': (40, 200, 40), 'blue': (200, 40, 40)}.items():
        (root/c).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            img = rng.integers(0, 120, (32, 32, 3)).astype(np.uint8)
            x, y = rng.integers(0, 16, 2); img[y:y + 16, x:x + 16] = col
            cv2.imwrite(str(root/c/f'{i}.png'), img)

def run(root:Path) -> dict:
    "Train on `root` (DDP when launched in several processes); what happened, as a dict."
    ddp = num_distrib() > 1
    if not (root/'blue').exists(): raise SystemExit(f'no data at {root}: write it with squares() first')
    t0, probe = time.perf_counter(), Probe()
    dls = image_dls(root, size=(32, 32), bs=16, num_workers=0, verify=False)
    learn = train('resnet10t', dls, epochs=3, lr=1e-2, pretrained=False, precision='fp32', ddp=ddp, seed=0, cbs=[probe])
    return dict(rank=rank_distrib(), world=num_distrib(), ddp=ddp, wrapped=probe.wrapped, n_batches=probe.n_batches,
                acc=float(learn.validate()[1]), seconds=round(time.perf_counter() - t0, 1))

if __name__ == '__main__':
    torch.set_num_threads(1)
    print('\n' + json.dumps(run(Path(sys.argv[1]))), flush=True)
    if torch.distributed.is_initialized():  # leave gloo's threads no chance to outlive the interpreter (SIGABRT at exit)
        torch.distributed.barrier(); torch.distributed.destroy_process_group()

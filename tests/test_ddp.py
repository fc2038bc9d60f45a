"""Several devices without GPUs: `train(..., ddp=True)` in two processes (torch.distributed.run; gloo on the CPU)
trains a tiny model to the same accuracy band as one process, with the model really wrapped in DDP."""
import json, os, re, socket, subprocess, sys
import torch
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve().parent/'ddp_train.py'

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def test_ddp_on_two_cpu_processes_matches_one_process(tmp_path, monkeypatch):
    pytest.importorskip('accelerate')
    sys.path.insert(0, str(SCRIPT.parent))
    from ddp_train import squares, run
    squares(tmp_path/'data')
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]), 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc-per-node', '2', '--master-port', str(_free_port()),
                        str(SCRIPT), str(tmp_path/'data')], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    ranks = [json.loads(o) for o in re.findall(r'\{"rank": [^{}]*\}', r.stdout)]
    for k in ('WORLD_SIZE', 'RANK', 'LOCAL_RANK'): monkeypatch.delenv(k, raising=False)
    threads = torch.get_num_threads(); torch.set_num_threads(1)
    try: one = run(tmp_path/'data')  # the same training in this one process
    finally: torch.set_num_threads(threads)
    assert sorted(o['rank'] for o in ranks) == [0, 1] and all(o['world'] == 2 and o['ddp'] for o in ranks), ranks
    assert all(o['wrapped'] == 'DistributedDataParallel' for o in ranks) and one['wrapped'] != 'DistributedDataParallel'
    assert all(abs(o['n_batches'] - one['n_batches'] / 2) <= 1 for o in ranks)  # each process trained on its half
    assert one['acc'] >= 0.9 and all(abs(o['acc'] - one['acc']) <= 0.1 for o in ranks), (one, ranks)

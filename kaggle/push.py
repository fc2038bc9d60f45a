#!/usr/bin/env python3
"""Push one vatt tutorial to Kaggle as a GPU (T4) kernel.

    python kaggle/push.py paddy --dry-run          # only prepare kaggle/build/paddy/ and show it
    python kaggle/push.py paddy --user YOUR_NAME   # push (needs ~/.kaggle/kaggle.json or KAGGLE_USERNAME/KAGGLE_KEY)
    python kaggle/push.py paddy --wheels YOUR_NAME/vatt-wheels   # internet-off kernel: install from a wheels dataset
"""
import argparse, sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing vatt
from vatt.kaggle import push_kernel, REPO_PIP


def main(argv=None):
    names = sorted(p.parent.name for p in HERE.glob('*/kernel-metadata.json'))
    ap = argparse.ArgumentParser(description='Push a vatt tutorial notebook to Kaggle as a kernel.')
    ap.add_argument('tutorial', choices=names, help='which tutorial (a folder of kaggle/)')
    ap.add_argument('--dry-run', action='store_true', help='prepare the folder, push nothing')
    ap.add_argument('--user', help="Kaggle user that owns the kernel (default: the owner in the metadata's id)")
    ap.add_argument('--wheels', help="'owner/dataset' holding vatt's wheels, for kernels without internet")
    ap.add_argument('--pip', default=REPO_PIP, help='pip requirement that installs vatt when online')
    ap.add_argument('--out', default=str(HERE/'build'), help='where the prepared kernel folders go')
    a = ap.parse_args(argv)
    folder = push_kernel(HERE/a.tutorial/'kernel-metadata.json', HERE.parent/'nbs', Path(a.out)/a.tutorial,
                         dry_run=a.dry_run, user=a.user, wheels=a.wheels, spec=a.pip)
    print(f"{'prepared' if a.dry_run else 'pushed'} {folder}: " + ', '.join(sorted(p.name for p in folder.iterdir())))
    return folder


if __name__ == '__main__': main()

#!/usr/bin/env python3
"""Push one vatt tutorial to Kaggle as a T4 kernel that installs vatt offline.

    python kaggle/push.py paddy                 # build + upload the wheels dataset if it changed, push on a T4, report
    python kaggle/push.py paddy --dry-run       # only prepare kaggle/build/vatt-wheels/ and kaggle/build/paddy/
    python kaggle/push.py paddy --no-internet   # the kernel's internet off (the install needs none; timm's weights do)

Needs Kaggle API credentials (~/.kaggle/kaggle.json, or KAGGLE_USERNAME and KAGGLE_KEY) and kaggle>=1.8.4
(pip install -e '.[kaggle]'). Exits non-zero, with Kaggle's message, when anything is refused.
"""
import argparse, sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import pushlib as P


def main(argv=None) -> int:
    names = sorted(p.parent.name for p in HERE.glob('*/kernel-metadata.json'))
    ap = argparse.ArgumentParser(description='Push a vatt tutorial notebook to Kaggle as a T4 kernel that installs vatt offline.')
    ap.add_argument('tutorial', choices=names, help='which tutorial (a folder of kaggle/)')
    ap.add_argument('--dry-run', action='store_true', help='prepare the folders, call no API')
    ap.add_argument('--user', help='Kaggle user that owns the kernel and the wheels dataset (default: the authenticated one)')
    ap.add_argument('--no-internet', action='store_true', help="switch the kernel's internet off (pretrained weights then need a dataset)")
    ap.add_argument('--with', dest='extra', action='append', default=[], metavar='REQ',
                    help='also put the wheel of REQ in the dataset (for a package the Kaggle image lacks); repeatable')
    ap.add_argument('--skip-wheels', action='store_true', help='do not build or upload the wheels dataset (it is up to date on Kaggle)')
    ap.add_argument('--wait', type=float, default=120, help='seconds to wait for the run to leave the queue before reporting (default 120)')
    ap.add_argument('--out', default=str(HERE/'build'), help='where the prepared folders go')
    a = ap.parse_args(argv)
    out = Path(a.out)
    try:
        api = None if a.dry_run else P.kaggle_api()
        user = a.user or (P.api_user(api) if api else None)
        if api and not user: raise P.PushError('no Kaggle user name: pass --user or put "username" in ~/.kaggle/kaggle.json')
        wheels = None
        if not a.skip_wheels:
            wheels = P.build_wheels(out/P.WHEELS, user or P.PLACEHOLDER, extra=tuple(a.extra))
            print(f"wheels dataset {user or P.PLACEHOLDER}/{P.WHEELS}: {', '.join(sorted(p.name for p in wheels.iterdir()))}")
        folder = P.prepare_kernel(HERE/a.tutorial/'kernel-metadata.json', HERE.parent/'nbs', out/a.tutorial, user=user,
                                  internet=False if a.no_internet else None)
        print(f"kernel folder {folder}: {', '.join(sorted(p.name for p in folder.iterdir()))}")
        if a.dry_run: return 0
        if wheels is not None: print(f'wheels dataset: {P.push_wheels(api, wheels)}')
        res = P.push_kernel(api, folder, P.ACCELERATOR)
        print(f"pushed {res['ref']} version {res['version']} asking for {P.ACCELERATOR}: {res['url']}")
        rep = P.kernel_report(api, res['ref'], wait=a.wait)
        shape = rep['machine_shape']
        print(f"status {rep['status']}; Kaggle reports machine_shape {shape!r}" + (f"; failure: {rep['failure']}" if rep['failure'] else ''))
        if rep['status'] in ('error', 'cancel_requested', 'cancel_acknowledged'): raise P.PushError(f"the run ended as {rep['status']}: {rep['failure'] or 'see the kernel log'}")
        if shape and shape != P.ACCELERATOR: raise P.PushError(f'Kaggle runs the kernel on {shape!r}, not the {P.ACCELERATOR} it was asked for')
        if not shape: print(f'(Kaggle does not say yet what the run is on: `kaggle kernels pull -m {res["ref"]}` shows its machine_shape once it runs)')
        return 0
    except P.PushError as e:
        print(f'push failed: {e}', file=sys.stderr)
        return 1
    except Exception as e:  # Kaggle's HTTP errors (401 bad key, 403 phone not verified, ...) carry its message
        if type(e).__name__ != 'HTTPError': raise
        code = getattr(getattr(e, 'response', None), 'status_code', '?')
        print(f'push failed: Kaggle answered HTTP {code}: {e}', file=sys.stderr)
        return 1


if __name__ == '__main__': sys.exit(main())

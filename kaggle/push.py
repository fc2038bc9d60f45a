#!/usr/bin/env python3
"""Push one vatt tutorial to Kaggle as a T4 kernel that installs vatt offline.

    python kaggle/push.py paddy                 # build + upload the wheels dataset if it changed, push on a T4, report
    python kaggle/push.py paddy --dry-run       # only prepare kaggle/build/vatt-wheels/ and kaggle/build/paddy/
    python kaggle/push.py paddy --wait          # ... and wait for the run: non-zero on a failed run, its summary.json fetched
    python kaggle/push.py paddy --weights       # ... with the models' pretrained weights fetched here and attached as datasets
    python kaggle/push.py paddy --internet      # the kernel's internet on (default off: weights come from attached sources)

Needs Kaggle API credentials (~/.kaggle/kaggle.json, or KAGGLE_USERNAME and KAGGLE_KEY) and kaggle>=1.8.4
(pip install -e '.[kaggle]'). Exits non-zero, with Kaggle's message, when anything is refused or (with --wait) the run fails.
"""
import argparse, json, sys
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
    net = ap.add_mutually_exclusive_group()
    net.add_argument('--internet', dest='internet', action='store_true', default=None, help="switch the kernel's internet on (default: the metadata's, off)")
    net.add_argument('--no-internet', dest='internet', action='store_false', help="switch the kernel's internet off")
    ap.add_argument('--with', dest='extra', action='append', default=[], metavar='REQ',
                    help='also put the wheel of REQ in the dataset (for a package the Kaggle image lacks); repeatable')
    ap.add_argument('--weights', action='store_true',
                    help="fetch the tutorial's pretrained weights from the hub (here, where there is network), upload each as a dataset and attach them")
    ap.add_argument('--skip-wheels', action='store_true', help='do not build or upload the wheels dataset (it is up to date on Kaggle)')
    ap.add_argument('--wait', action='store_true', help="wait until the run ends: exit non-zero when it fails (with the log's last lines), fetch its summary.json")
    ap.add_argument('--timeout', type=float, default=4*3600, help='with --wait: give up after this many seconds (default 4 h)')
    ap.add_argument('--poll', type=float, default=30, help='seconds between status checks (default 30)')
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
        weights = P.build_weights(out/'weights', a.tutorial, user or P.PLACEHOLDER) if a.weights else []
        for w in weights: print(f"weights dataset {json.loads((w/'dataset-metadata.json').read_text())['id']}: {', '.join(sorted(p.name for p in w.iterdir()))}")
        folder = P.prepare_kernel(HERE/a.tutorial/'kernel-metadata.json', HERE.parent/'nbs', out/a.tutorial, user=user,
                                  internet=a.internet, datasets=tuple(json.loads((w/'dataset-metadata.json').read_text())['id'] for w in weights))
        print(f"kernel folder {folder}: {', '.join(sorted(p.name for p in folder.iterdir()))}")
        if a.dry_run: return 0
        if wheels is not None: print(f'wheels dataset: {P.push_wheels(api, wheels)}')
        for w in weights: print(f'weights dataset {w.name}: {P.push_wheels(api, w)}')
        res = P.push_kernel(api, folder, P.ACCELERATOR)
        kid = P.kernel_id(folder)  # status, pull and output take <user>/<slug>; the push's ref is /code/<user>/<slug>
        print(f"pushed {kid} version {res['version']} asking for {P.ACCELERATOR}: {res['url']}")
        rep = P.kernel_report(api, kid, poll=a.poll)
        shape = rep['machine_shape']
        print(f"status {rep['status']}; Kaggle saved machine_shape {shape!r}, internet {'on' if rep['enable_internet'] else 'off'}")
        if shape and shape != P.ACCELERATOR: raise P.PushError(f'Kaggle runs the kernel on {shape!r}, not the {P.ACCELERATOR} it was asked for')
        if not a.wait:
            print(f'(`python kaggle/push.py {a.tutorial} --skip-wheels --wait` or `kaggle kernels status {kid}` follows the run)')
            return 0
        status, failure = P.wait_for_run(api, kid, timeout=a.timeout, poll=a.poll, seen=rep['status'] in P.RUNNING)
        summary, log = P.fetch_results(api, kid, out/a.tutorial/'output')
        if status != 'complete':
            raise P.PushError(f"the run ended as {status}" + (f": {failure}" if failure else '') + f"; the log's last lines:\n{P.log_tail(log)}")
        version = P.read_manifest(wheels)['version'] if wheels is not None else None
        if summary is not None:
            print(f"run on {summary.get('gpu')}; vatt {summary.get('versions', {}).get('vatt')}; weights {summary.get('weights')}; "
                  f"results {summary.get('results')}; summary.json in {out/a.tutorial/'output'}")
        problems = P.check_summary(summary, version)
        if problems: raise P.PushError('; '.join(problems) + (f"\nthe log's last lines:\n{P.log_tail(log)}" if summary is None else ''))
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

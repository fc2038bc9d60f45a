#!/usr/bin/env bash
# vatt against what a Kaggle kernel really has (kaggle/README.md, "Kaggle's image"). Two fresh virtual environments:
#
#  extra  `pip install -e ".[kaggle]"` alone (plus the torch pin): the kaggle client must import and
#         `kaggle/push.py inspection --dry-run` must run;
#  image  Kaggle's versions of vatt's dependency closure (Kaggle's docker-python kaggle_requirements.txt and the Colab
#         runtime it builds on, 2026-05): vatt installed from the wheel `push.py --dry-run` builds, by the tutorials'
#         own install cell in a simulated kernel, then every tutorial and every library notebook run in it.
#
# Not part of `.ci/run` (CI's full run is already ~25 min; this adds ~15-25 min on 2 CPUs): run it on a schedule of its
# own, and before a release.      usage: tools/kaggle_image.sh [WORKDIR] [extra|image|both]    (default /tmp/vatt-kimg both)
set -euo pipefail
ROOT=${VATT_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
W=${1:-/tmp/vatt-kimg}; WHAT=${2:-both}
mkdir -p "$W"
export PIP_DISABLE_PIP_VERSION_CHECK=1 MPLBACKEND=Agg OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
unset PYTHONPATH VIRTUAL_ENV  # IPython would put an active venv's site-packages on sys.path

# Kaggle's image: pure-Python packages exactly; torch as close as this machine's registry serves without a multi-GB CUDA
# download. Kaggle has torch 2.10.0 / torchvision 0.25.0; those are CUDA wheels of several GB from the registry. The only
# closer torch on this machine's disk, 2.13.0+cpu, does not load the registry's torchvision 0.28.0 ("operator
# torchvision::nms does not exist"), so the default is the pair on local disk, torch 2.14.1 / torchvision 0.29.1.
KAGGLE_TORCH=${KAGGLE_TORCH:-"torch==2.14.1 torchvision==0.29.1"}
# The versions are the image's own freeze, Kaggle/docker-python's installed_cpu_packages.txt (the GPU image differs in
# torch's CUDA build only): fastai 2.8.7 with fasttransform 0.0.2 and plum-dispatch 2.8.0 (pip alone would resolve
# plum 2.10, whose functions cannot be pickled: learn.export fails; vatt declares plum-dispatch<2.10 for that case),
# fastcore 1.12.36, numpy 2.4.6, IPython 7.34.0.
KAGGLE_PKGS=(fastai==2.8.7 fasttransform==0.0.2 plum-dispatch==2.8.0 fastcore==1.12.36 timm==1.0.26
             opencv-python-headless==4.13.0.92 scikit-image==0.25.2 matplotlib==3.10.0 pillow==11.3.0 numpy==2.4.6
             pandas==2.3.3 ipython==7.34.0 accelerate==1.13.0  # accelerate: fastai.distributed needs it
             nbdev==3.0.17 execnb==0.2.2 fastgit==0.0.4 ghapi==1.0.13)  # on the image too: the notebooks' show_doc

if [ "$WHAT" != image ]; then
  echo "=== extra: a fresh venv with vatt[kaggle] alone"
  rm -rf "$W/extra"; python3 -m venv "$W/extra"
  "$W/extra/bin/pip" install -q torch==2.14.1 torchvision==0.29.1
  "$W/extra/bin/pip" install -q -e "$ROOT[kaggle]"
  "$W/extra/bin/python" -c "import kaggle, kagglesdk, fastkaggle; from kaggle.api.kaggle_api_extended import KaggleApi; from importlib.metadata import version as v; print('kaggle', v('kaggle'), 'imports; python-dateutil', v('python-dateutil'), 'six', v('six'))"
  (cd "$W" && "$W/extra/bin/python" "$ROOT/kaggle/push.py" inspection --dry-run --out "$W/extra-build")
fi
[ "$WHAT" = extra ] && exit 0

echo "=== image: Kaggle's versions of vatt's dependencies"
K="$W/image"; PY="$K/bin/python"
if [ -n "${KIMG_REUSE:-}" ] && [ -x "$PY" ]; then "$K/bin/pip" uninstall -q -y vatt 2>/dev/null || true  # KIMG_REUSE=1: keep the venv
else rm -rf "$K"; python3 -m venv "$K"; fi
"$K/bin/pip" install -q $KAGGLE_TORCH "${KAGGLE_PKGS[@]}"
"$PY" - <<'EOF'
import importlib.metadata as m, sys
print('python', sys.version.split()[0]); print(' '.join(f'{p} {m.version(p)}' for p in ('torch', 'torchvision', 'fastai', 'fastcore', 'timm', 'nbdev',
      'fasttransform', 'plum-dispatch', 'opencv-python-headless', 'scikit-image', 'matplotlib', 'pillow', 'numpy', 'pandas', 'ipython',
      'accelerate')))
EOF
(cd "$W" && "$PY" -c "import importlib.util as u, sys; sys.exit(bool(u.find_spec('vatt')))") || { echo "vatt is already in the image venv"; exit 1; }
"$PY" "$ROOT/kaggle/push.py" inspection --dry-run --out "$W/build" >/dev/null  # the wheel, built as push.py builds it

# a notebook runner as Kaggle runs a kernel (every code cell in order), skipping nbdev-test's default flags (slow, cuda, kaggle);
# Kaggle's image has nbdev 3.0.17 (on fastcore 1.12.36), so show_doc renders as there; without nbdev it would be a no-op
cat > "$W/run_nb.py" <<'EOF'
import json, re, sys, types, time
try: import nbdev.showdoc
except Exception:
    sys.modules['nbdev'] = types.ModuleType('nbdev'); sd = sys.modules['nbdev.showdoc'] = types.ModuleType('nbdev.showdoc')
    sd.show_doc = lambda *a, **k: None
from IPython.core.interactiveshell import InteractiveShell
nb, t0 = sys.argv[1], time.time()
shell = InteractiveShell.instance()
for i, c in enumerate(json.load(open(nb))['cells']):
    src = ''.join(c['source'])
    if c['cell_type'] != 'code' or re.search(r'^#\|\s*(slow|cuda|kaggle)\b', src, re.M) or re.search(r'^#\|\s*eval:\s*false', src, re.M): continue
    r = shell.run_cell(src, silent=True)
    if not r.success: print(f'FAILED {nb} cell {i}:\n{src[:800]}'); sys.exit(1)
print(f'ok {nb} in {time.time() - t0:.0f}s')
EOF

# the tutorials as simulated kernels: stand-in data and the wheels dataset read-only under VATT_KAGGLE_INPUT, pip's index off;
# the first tutorial's install cell installs vatt into the image
fail=0
for t in 15_tutorial_inspection:inspection: 13_tutorial_paddy:paddy:paddy-disease-classification 14_tutorial_cats:cats:the-oxfordiiit-pet-dataset 15a_tutorial_mvtec:mvtec:mvtec-ad; do
  IFS=: read -r nb name slug <<<"$t"
  R="$W/run-$name"; rm -rf "$R"; mkdir -p "$R/input/vatt-wheels" "$R/working" "$R/cwd"
  find "$W/build/vatt-wheels" -type f ! -name dataset-metadata.json -exec cp {} "$R/input/vatt-wheels/" \;
  if [ -n "$slug" ]; then PYTHONPATH="$ROOT" "$PY" -c "
from vatt._standin import make_paddy_standin, make_pets_standin, make_mvtec_standin
import sys; d = sys.argv[1]
if 'paddy' in d: make_paddy_standin(d, n_per_class=4, size=(72, 96))
elif 'mvtec' in d: make_mvtec_standin(d, n_train=12, n_test=3, size=(96, 128))
else: make_pets_standin(d, n_per_breed=4, size=(72, 72))" "$R/input/$slug"; fi
  chmod -R a-w "$R/input"
  (cd "$R/cwd" && env -u PYTHONPATH KAGGLE_KERNEL_RUN_TYPE=Batch VATT_KAGGLE_INPUT="$R/input" VATT_KAGGLE_WORKING="$R/working" VATT_KAGGLE_TEMP="$R/temp" \
     VATT_SCALE=small VATT_DATA_HOME="$R/no-cache" HF_HUB_OFFLINE=1 PIP_NO_INDEX=1 PIP_CONFIG_FILE=/dev/null TMPDIR="$R/tmp" \
     bash -c 'mkdir -p "$TMPDIR"; exec "$0" "$@"' "$PY" "$W/run_nb.py" "$ROOT/nbs/$nb.ipynb") || fail=1
  chmod -R u+w "$R/input"
  [ -f "$R/working/$name/summary.json" ] && echo "$name summary.json: $(head -c 600 "$R/working/$name/summary.json" | tr -d '\n')" || { echo "$name wrote no summary.json"; fail=1; }
done
"$PY" -c "import vatt, importlib.metadata as m; print('vatt', m.version('vatt'), 'from', vatt.__file__)"

# the library notebooks, as nbdev-test runs them (cwd nbs/, IN_TEST=1), on the vatt installed from the wheel
for nb in "$ROOT"/nbs/[0-9]*.ipynb; do
  case "$(basename "$nb")" in 1[345]*_tutorial_*) continue;; esac
  (cd "$ROOT/nbs" && PATH="$K/bin:$PATH" IN_TEST=1 HF_HUB_OFFLINE=1 timeout 900 "$PY" "$W/run_nb.py" "$nb") || fail=1
done
[ $fail = 0 ] && echo "kaggle image: all notebooks ran" || { echo "kaggle image: some notebooks FAILED"; exit 1; }

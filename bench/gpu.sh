#!/usr/bin/env bash
# The GPU figures BENCHMARKS.md still lacks, one part per call so that each stays within the device tool's
# 10-minute limit. Run it on the lent GPU machine (recipe: ../shared/gpu/README.md; this script installs the
# carried .whl/ wheels itself) or on any CUDA machine with `pip install -e ".[dev]"`:
#
#   bash bench/gpu.sh train          # issue 2: bench/train_speed.py (convnext_tiny, 224, bs 128; goal >= 0.9 of plain)
#   bash bench/gpu.sh cam            # issue 3: bench/cam_speed.py (resnet50, convnext_tiny, coatnet_0_rw_224 at 224)
#   bash bench/gpu.sh localization   # issue 5: bench/localization.py (768x512, defects < 1 %; goal pointing >= 0.9)
#   bash bench/gpu.sh tutorials      # issue 6: the tutorials under nbdev-test --flags cuda (fp16, to_parallel), timed
#   bash bench/gpu.sh anomaly        # issue 17: bench/anomaly.py, learned, knn and both at 384x288, fitted and scored on the GPU
#   QUICK=1 bash bench/gpu.sh all    # every part with --quick on the CPU: checks this script, measures nothing
#   VATT_SCALE=full bash bench/gpu.sh tutorials   # the tutorials' full settings (stand-in data where the real is absent)
#
# Each part writes PART.log (all output) and PART.json (the script's final JSON line) under $OUT (the device
# tool's result folder) or ./gpu_out, and env.json says on what and when. BENCHMARKS.md takes the figures
# with the device and the date.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu_out}; mkdir -p "$out"
quick=${QUICK:+--quick}
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg

if [ -d .whl ]; then  # the lent GPU machine: what it lacks comes as wheels (../shared/gpu/README.md)
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD
python3 -c 'import fastai, pytorch_grad_cam' ||
  { echo "fastai or grad-cam missing: run 'bash ../shared/gpu/fetch-wheels.sh' and carry .whl, or pip install -e '.[dev]'"; exit 1; }
if [ "${1:-}" = tutorials ] || [ "${1:-}" = all ]; then
  command -v nbdev-test >/dev/null || { echo "nbdev-test missing; on the lent GPU machine add its wheels to .whl first:"
    echo "  bash ../shared/gpu/fetch-wheels.sh nbdev execnb fastgit ghapi astunparse asttokens watchdog build pyproject_hooks \\"
    echo "    ipython ipython-pygments-lexers jedi parso matplotlib-inline pexpect ptyprocess prompt_toolkit wcwidth stack_data \\"
    echo "    executing pure_eval traitlets pygments decorator pyyaml psutil"; exit 1; }
fi

python3 - "$out/env.json" <<'EOF'
import json, sys, time, platform, torch
dev = torch.cuda.get_device_name() if torch.cuda.is_available() else f'cpu ({platform.processor() or platform.machine()})'
json.dump(dict(device=dev, gpus=torch.cuda.device_count(), torch=torch.__version__,
               date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())), open(sys.argv[1], 'w'))
print(open(sys.argv[1]).read())
EOF

part() {  # part NAME COMMAND...: run, keep the log and the final JSON line
  local name=$1; shift
  echo "+ $*"
  local t0=$SECONDS
  "$@" 2>&1 | tee "$out/$name.log"
  local rc=${PIPESTATUS[0]}
  grep '^{' "$out/$name.log" | tail -1 > "$out/$name.json"
  echo "$name: exit $rc after $((SECONDS - t0)) s"
  return "$rc"
}

tutorials() {  # each tutorial timed on its own; nbdev-test runs the #| cuda cells with --flags cuda
  local rc=0 nb t0 flags=cuda
  [ -n "$quick" ] && flags=
  for nb in nbs/1[1-9]_tutorial_*.ipynb; do
    t0=$SECONDS
    nbdev-test ${flags:+--flags $flags} "$nb" || rc=1
    echo "{\"notebook\": \"$nb\", \"seconds\": $((SECONDS - t0)), \"flags\": \"$flags\"}"
  done
  return $rc
}

rc=0
case ${1:-} in
  train)        part train_speed python3 bench/train_speed.py $quick || rc=1 ;;
  cam)          part cam_speed python3 bench/cam_speed.py $quick || rc=1 ;;
  localization) part localization python3 bench/localization.py $quick || rc=1 ;;
  tutorials)    part tutorials tutorials || rc=1 ;;
  anomaly)      if [ -n "$quick" ]; then a=(--size 96 128 --n-train 10 --n-val 4 --n-test 3 --steps 5); else a=(--size 288 384); fi
                part anomaly python3 bench/anomaly.py "${a[@]}" --seeds 0 --methods learned knn both --threads 4 \
                  --root /tmp/vatt_gpu_anomaly --out "$out/anomaly_runs.json" || rc=1 ;;
  all)          for p in train cam localization tutorials anomaly; do bash "$0" "$p" || rc=1; done ;;
  *) echo "usage: bash bench/gpu.sh train|cam|localization|tutorials|anomaly|all  (QUICK=1: --quick on the CPU)"; exit 2 ;;
esac
exit $rc

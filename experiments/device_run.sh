#!/usr/bin/env bash
# One command for a GPU: figures, the registry tables on the GPU, and a better Gated PixelCNN,
# all written under $OUT (default runs/device), within 9 minutes on one H100.
#
# Preparation, here, from the project's root (../shared does not travel with the tree):
#   mkdir -p .devdata && cp ../shared/data/mnist.npz .devdata/    # 11 MB, ignored by git
#   bash experiments/device_wheels.sh                             # .whl/, about 2 MiB
# On a GPU machine that has the tree with those two (ignored) folders copied along, within a
# 10-minute limit:
#   bash experiments/device_run.sh --minutes 3
#
# What comes back (8 files at most, each under 16 MiB):
#   env.txt              the device, jax/jaxlib/flax versions, jax.devices()
#   tests.txt            pytest -m device: causality (RGB), fast == naive (RGB) and the G-test
#                        of every model, both convolution paths, on the GPU
#   speed_gpu.md         experiments/device_speed.py: forward pass, every sampler at batch 16 and
#                        256 (x forward), unrolled variants, training float32 and bfloat16,
#                        WaveNet at batch 1, 8, 32; then the batch-16 sampling rows again with
#                        XLA's command buffers (CUDA graphs) extended to loops
#   train_gpu.jsonl      metrics of the Gated PixelCNN trained for --minutes
#   eval_gpu.json        its bits/dim on the whole MNIST test set
#   gated_pixelcnn.tar.gz  the trained checkpoint, ready to ship if it beats the shipped one
#   log.txt              everything the steps printed
#
# Options: --minutes M (training time, default 3), --preset NAME (Gated PixelCNN preset,
# default dilated), --data FILE (default .devdata/mnist.npz), --quick (tiny presets, a few
# steps: seconds on any CPU; the test suite runs it so that it cannot rot).
set -uo pipefail
cd "$(dirname "$0")/.."
minutes=3
preset=dilated
data=.devdata/mnist.npz
quick=0
while (($#)); do
    case $1 in
        --minutes) minutes=$2; shift 2 ;;
        --preset) preset=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        --quick) quick=1; shift ;;
        *) echo "device_run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
out=${OUT:-runs/device}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
exec > >(tee "$out/log.txt") 2>&1
if [[ ! -f $data ]]; then
    echo "device_run.sh: $data not found (see the preparation steps in this script's header)"
    exit 2
fi
step() { echo; echo "== $(date +%T) $*"; }

step "environment"
if [[ -d .whl ]] && ! python -c "import soundfile, soxr" 2>/dev/null; then
    python -m pip install --quiet --no-index --find-links .whl soundfile soxr \
        || echo "the audio wheels did not install: audio tests will be skipped or fail"
fi
python - > "$out/env.txt" <<'PY'
import platform, subprocess
import flax, jax, jaxlib
print("python", platform.python_version(), "on", platform.platform())
print("jax", jax.__version__, "jaxlib", jaxlib.__version__, "flax", flax.__version__)
print("backend", jax.default_backend())
print("devices", jax.devices())
print("device kind", jax.devices()[0].device_kind)
try:
    print(subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=20).stdout)
except (OSError, subprocess.SubprocessError) as error:
    print("nvidia-smi:", error)
PY
cat "$out/env.txt"

step "registry tables on this device (pytest -m device)"
if ((quick)); then
    selection=(-m device --collect-only)  # the suite itself runs these tables on the CPU
    test_limit=120
else
    selection=(-m device -k "not 5x5x1")  # fast == naive on RGB only: about a minute
    test_limit=150
fi
# Float32 products in full precision (a GPU's default may round them to TF32): the tables
# compare samplers bit for bit, so they must not turn into tests of TF32 rounding. One process
# (-o addopts: the device image has no pytest-xdist, and one GPU is shared badly).
JAX_DEFAULT_MATMUL_PRECISION=highest timeout "$test_limit" \
    python -m pytest -q -p no:cacheprovider -o addopts=-ra "${selection[@]}" tests \
    > "$out/tests.txt" 2>&1
echo "pytest exit status $? (124: stopped at ${test_limit} s)" >> "$out/tests.txt"
echo "selection: ${selection[*]}" >> "$out/tests.txt"
tail -n 15 "$out/tests.txt"

step "speed"
speed=(python experiments/device_speed.py)
if ((quick)); then
    speed+=(--quick)
fi
timeout 300 "${speed[@]}" --budget 150 --out "$out/speed_gpu.md" \
    || echo "device_speed.py failed or stopped (status $?)"
# The same sampling rows with command buffers (CUDA graphs) for loops and conditionals too
# (--quick: PixelCNN's rows only, enough to keep the step from rotting).
buffers=()
if ((quick)); then
    buffers=(--models pixelcnn)
fi
commands=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL,CUDNN,WHILE,CONDITIONAL
XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_enable_command_buffer=$commands" timeout 120 \
    "${speed[@]}" "${buffers[@]}" --sampling-only --budget 60 --label "with command buffers" \
    --out "$work/speed_command_buffers.md" \
    || echo "the command-buffer run failed or stopped (status $?)"
if [[ -f $work/speed_command_buffers.md ]]; then
    { echo; cat "$work/speed_command_buffers.md"; } >> "$out/speed_gpu.md"
fi

if ((quick)); then
    preset=tiny
fi
step "train the Gated PixelCNN ($preset, class-conditional) for $minutes minutes"
if ((quick)); then
    train=(--preset tiny --steps 4 --batch-size 8 --eval-examples 16 --eval-every 0)
    evaluate=(--limit 16)
else
    train=(--preset "$preset" --steps 100000 --batch-size 128 --eval-every 1000
           --eval-examples 2000)
    evaluate=()
fi
python -m autoreg.cli train --model gated_pixelcnn --num-classes 10 --data "$data" \
    --workdir "$work/gated_pixelcnn" "${train[@]}" --lr 2e-3 --warmup-steps 200 --ema 0.999 \
    --time-limit "$minutes" --checkpoint-every 1000 --log-every 100 --sample-every -1 \
    --no-progress
cp "$work/gated_pixelcnn/metrics.jsonl" "$out/train_gpu.jsonl"

step "evaluate it on the test set"
python -m autoreg.cli eval --checkpoint "$work/gated_pixelcnn" --data "$data" \
    --batch-size 500 "${evaluate[@]}" --json "$out/eval_gpu.json"

step "export it"
python -c "import sys, autoreg; autoreg.save_checkpoint(autoreg.load_checkpoint(sys.argv[1]), \
sys.argv[2])" "$work/gated_pixelcnn" "$work/export/gated_pixelcnn"
tar -czf "$out/gated_pixelcnn.tar.gz" -C "$work/export" gated_pixelcnn
step "done"
ls -l "$out"

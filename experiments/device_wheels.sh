#!/usr/bin/env bash
# Downloads, here (where pip reaches the package registry), the wheels the audio path needs on
# the GPU machine's image: CPython 3.12, manylinux x86-64, no network, with jax, flax, optax,
# orbax-checkpoint, numpy, scipy, pillow, tqdm and pytest already installed.
#
#   bash experiments/device_wheels.sh [DIR]       # default DIR: .whl (ignored by git)
#
# The set is soundfile (reading and writing audio, with libsndfile inside its wheel) and its
# cffi and pycparser, and soxr (resampling): about 2 MiB, enough to train, evaluate and sample
# WaveNet on audio files and to vocode a precomputed mel (`autoreg vocode --mel FILE.npy`).
# Mel analysis and Griffin-Lim (librosa) are left out: librosa needs numba, whose llvmlite wheel
# alone is about 57 MiB, more than the 40 MiB these wheels may take of a 64 MiB trip. On the
# device, `experiments/device_run.sh` installs them with:
#   python -m pip install --no-index --find-links .whl soundfile soxr
set -euo pipefail
dir=${1:-.whl}
limit_mib=40
packages=(soundfile cffi pycparser soxr)
mkdir -p "$dir"
python -m pip download --quiet --no-deps --only-binary=:all: --dest "$dir" \
    --python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
    "${packages[@]}"
bytes=$(du -cb "$dir"/*.whl | tail -1 | cut -f1)
ls -l "$dir"/*.whl
echo "wheels: $(ls "$dir"/*.whl | wc -l), $((bytes / 1024)) KiB in $dir"
if ((bytes > limit_mib * 1024 * 1024)); then
    echo "error: the wheels take more than $limit_mib MiB" >&2
    exit 1
fi

#!/usr/bin/env bash
# Create a virtualenv (if missing) and install this package into it with an extra.
#
#   scripts/venv.sh .venv dev
#   scripts/venv.sh .venv-bench bench
#
# Prefers uv (installed with pip when absent); falls back to `python -m venv` + pip.
# Never lets uv download a Python: only the machine's python3.11 / python3 is used.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv="${1:?usage: scripts/venv.sh VENV_DIR EXTRA}"
extra="${2:?usage: scripts/venv.sh VENV_DIR EXTRA}"
export UV_PYTHON_DOWNLOADS=never

uv=()
if command -v uv >/dev/null 2>&1; then
    uv=(uv)
else
    python3 -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1 || true
    if command -v uv >/dev/null 2>&1; then
        uv=(uv)
    elif python3 -m uv --version >/dev/null 2>&1; then
        uv=(python3 -m uv)
    else
        echo "venv.sh: uv unavailable, falling back to python -m venv + pip" >&2
    fi
fi

if [ ! -x "$venv/bin/python" ]; then
    if [ "${#uv[@]}" -gt 0 ] && "${uv[@]}" venv --quiet "$venv" -p python3.11; then
        :
    else
        rm -rf "$venv"
        py=python3
        command -v python3.11 >/dev/null 2>&1 && py=python3.11
        "$py" -m venv "$venv"
    fi
fi

if [ "${#uv[@]}" -gt 0 ]; then
    "${uv[@]}" pip install --quiet -p "$venv" -e ".[$extra]"
else
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[$extra]"
fi

# gbstats (GrowthBook's statistics, the test oracle of cairn.experiments) declares numpy<2 and
# pandas<2 but its statistics modules run on current ones: install it without its pins.
if [ "$extra" = "dev" ]; then
    if [ "${#uv[@]}" -gt 0 ]; then
        "${uv[@]}" pip install --quiet -p "$venv" --no-deps gbstats==0.8.0
    else
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps gbstats==0.8.0
    fi
fi
# dice-ml (the counterfactual oracle of the dev tests and the benchmarks) declares xgboost, which
# clashes with Cairn's xgboost-cpu (same module): install it without its dependencies (the
# others are in the dev and bench extras).
if [ "$extra" = "dev" ] || [ "$extra" = "bench" ]; then
    if [ "${#uv[@]}" -gt 0 ]; then
        "${uv[@]}" pip install --quiet -p "$venv" --no-deps dice-ml==0.12
    else
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps dice-ml==0.12
    fi
fi
# quixstreams (the peer of benchmarks/streaming.py) caps pydantic<2.14 and pydantic-settings<2.16;
# Cairn needs pydantic-core>=2.50 and Quix runs on it: install it without its pins (its other
# dependencies are in the bench extra).
if [ "$extra" = "bench" ]; then
    if [ "${#uv[@]}" -gt 0 ]; then
        "${uv[@]}" pip install --quiet -p "$venv" --no-deps quixstreams==3.28.1
    else
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps quixstreams==3.28.1
    fi
fi

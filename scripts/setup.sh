#!/usr/bin/env bash
# Create both virtual environments (idempotent). Usage: scripts/setup.sh [app|rasa|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"

find_python() {  # find_python MIN_MINOR MAX_MINOR
  local min=$1 max=$2 cand v
  for cand in python3.13 python3.12 python3.11 python3.10 python3; do
    if command -v "$cand" >/dev/null 2>&1 && v=$("$cand" -c 'import sys;print(sys.version_info[1])' 2>/dev/null); then
      if [ "$v" -ge "$min" ] && [ "$v" -le "$max" ]; then command -v "$cand"; return 0; fi
    fi
  done
  # pyenv keeps other versions out of PATH until asked.
  for cand in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.*/bin/python3.*; do
    [ -x "$cand" ] || continue
    v=$("$cand" -c 'import sys;print(sys.version_info[1])' 2>/dev/null) || continue
    if [ "$v" -ge "$min" ] && [ "$v" -le "$max" ]; then echo "$cand"; return 0; fi
  done
  return 1
}

make_venv() {  # make_venv DIR PYTHON REQUIREMENTS
  local dir=$1 py=$2 req=$3 stamp
  stamp="$dir/.installed-$(sha256sum "$req" | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  echo "==> $dir ($("$py" --version)) from $req"
  [ -x "$dir/bin/python" ] || "$py" -m venv "$dir"
  "$dir/bin/python" -m pip install -q --upgrade pip
  "$dir/bin/python" -m pip install -q -r "$req"
  rm -f "$dir"/.installed-*
  touch "$stamp"
}

if [ "$what" = app ] || [ "$what" = all ]; then
  PY=$(find_python 11 13) || { echo "Se necesita Python 3.11 o más reciente" >&2; exit 1; }
  make_venv .venv "$PY" requirements/app.txt
fi
if [ "$what" = rasa ] || [ "$what" = all ]; then
  PY=$(find_python 10 10) || { echo "Se necesita Python 3.10 para Rasa 3.6" >&2; exit 1; }
  make_venv .venv-rasa "$PY" requirements/rasa.txt
fi

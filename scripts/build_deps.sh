#!/usr/bin/env bash
# What the `openssl` extra (M2Crypto) needs to compile: swig, a C compiler, OpenSSL's and
# Python's headers. Installs them with apt as root; otherwise, when one is missing, says
# what to install and exits 1, and `make setup` installs without the extra (BlindSign then
# signs through the gmpy2 fallback, about half as fast: petition/blindrsa.py).
set -euo pipefail

missing() {
  command -v swig >/dev/null || return 0
  command -v cc >/dev/null || return 0
  [ -f /usr/include/openssl/rsa.h ] || return 0
  python3 -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || return 0
  return 1
}

missing || exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing swig, gcc, libssl-dev and python3-dev to build M2Crypto (BlindSign through OpenSSL)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q swig gcc libssl-dev python3-dev >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q swig gcc libssl-dev python3-dev >/dev/null; }
  missing || exit 0
fi
echo "BlindSign will use the gmpy2 fallback (about half as fast). For OpenSSL's:" \
  "sudo apt-get install swig gcc libssl-dev python3-dev, then rm -r .venv && make setup." >&2
exit 1

#!/usr/bin/env bash
# Make sure what the tests talk to is up: PostgreSQL and Redis on 127.0.0.1, Debian's
# Chromium for the browser tests, Node for the JS tests, Pango/HarfBuzz for WeasyPrint's PDFs,
# poppler (pdftoppm) and zbar (zbarimg) to read the printed QR codes back, qpdf to check the
# structure of the PDFs we write, Go and golang.org/x/mod for the audit tool's cross-check, Caddy for the
# proxy configuration in deploy/. Starts a stopped local server,
# installs Chromium as root; otherwise stops with one line saying what to install.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  return 1
}

if ! port_open 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "Starting the local PostgreSQL..."
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
    wait_port 5432 || { echo "PostgreSQL did not come up on 127.0.0.1:5432."; exit 1; }
  else
    echo "PostgreSQL is not running on 127.0.0.1:5432 and is not installed: apt-get install postgresql"
    exit 1
  fi
fi

if ! port_open 6379; then
  if command -v redis-server >/dev/null; then
    echo "Starting the local Redis..."
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/countersign-redis.log
    wait_port 6379 || { echo "Redis did not come up on 127.0.0.1:6379."; exit 1; }
  else
    echo "Redis is not running on 127.0.0.1:6379 and is not installed: apt-get install redis-server"
    exit 1
  fi
fi

# apt_install COMMAND PACKAGE PURPOSE: install a Debian package when the command is missing.
apt_install() {
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's $2 for $3..."
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null
  else
    echo "$2 is missing for $3: sudo apt-get install $2"
    exit 1
  fi
}

# `make check` runs no browser test: it passes --no-browser.
[ "${1:-}" = --no-browser ] || apt_install chromium chromium "the browser tests"
apt_install node nodejs "the JavaScript tests"
apt_install msgfmt gettext "the translations (make messages, compiled catalogues, make translations-check)"
apt_install pdftoppm poppler-utils "reading printed QR codes in the tests"
apt_install zbarimg zbar-tools "decoding printed QR codes in the tests"
apt_install qpdf qpdf "checking the structure of the PDFs in the tests"
# deploy/Caddyfile: `caddy validate` and a real Caddy on loopback in tests/deploy/. Debian's
# package does not start its service under policy-rc.d; the tests start their own.
apt_install caddy caddy "checking the reverse-proxy configuration in tests/deploy"
apt_install systemd-analyze systemd "verifying the systemd units in tests/deploy"
# `make bench` drives benchmarks/load.py with wrk (HTTP load generator written in C, so the
# client takes little of the 2 cores it shares with gunicorn).
apt_install wrk wrk "the load benchmark (make bench)"
# The audit tool's cross-check against an independent verifier: Go's golang.org/x/mod
# (tests/audit_tool/go/), built offline from Debian's packaged source.
apt_install go golang-go "the audit tool's cross-check with Go"
if [ ! -d /usr/share/gocode/src/golang.org/x/mod/sumdb ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's golang-golang-x-mod-dev for the audit tool's cross-check..."
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-golang-x-mod-dev >/dev/null
  else
    echo "golang-golang-x-mod-dev is missing for the audit tool's cross-check: sudo apt-get install golang-golang-x-mod-dev"
    exit 1
  fi
fi

# WeasyPrint (flyer and code-card PDFs) loads Pango and HarfBuzz at run time.
if ! ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || ! ldconfig -p | grep -q 'libharfbuzz-subset.so.0'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's Pango and HarfBuzz for the PDFs..."
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 >/dev/null
  else
    echo "Pango/HarfBuzz are missing for the PDFs: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"
    exit 1
  fi
fi

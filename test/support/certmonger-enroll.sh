#!/usr/bin/env bash
# Enrolls with the real certmonger daemon (Debian package certmonger) against a SCEP URL, as an admin would with
# `getcert add-scep-ca` and `getcert request`. Runs on a private D-Bus session bus (run this under
# `dbus-run-session --`), with HOME pointing at OUTDIR so certmonger keeps its state there and nothing else on the
# machine is touched; getcert -s starts certmonger by D-Bus activation on that bus.
# Usage: certmonger-enroll.sh URL CHALLENGE_FILE SUBJECT OUTDIR [DNS]
set -euo pipefail
url=$1 challenge_file=$2 subject=$3 out=$4 dns=${5:-}
mkdir -p "$out"
export HOME=$out
for _ in $(seq 1 50); do getcert list-cas -s >/dev/null 2>&1 && break; sleep 0.1; done
getcert add-scep-ca -s -c scepkit -u "$url"
# certmonger fetches the CA and RA certificates with GetCACert (message=0,1,...) before it can request.
for _ in $(seq 1 100); do
  getcert list-cas -s -c scepkit | grep -q "ca-cert" && break
  sleep 0.1
done
args=(-s -c scepkit -f "$out/cert.pem" -k "$out/key.pem" -N "$subject" -L "$(cat "$challenge_file")" -w -v)
[ -n "$dns" ] && args+=(-D "$dns")
getcert request "${args[@]}" || true
getcert list -s -f "$out/cert.pem"
test -s "$out/cert.pem"

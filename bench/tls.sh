#!/bin/bash
# bench/tls.sh: bench/http.sh's TLS cases, lb-http against HAProxy and
# nginx terminating TLS 1.3 alike (the same certificates, ECDSA P-256 and
# RSA 2048, tickets and a session cache): full handshakes, resumed ones,
# keep-alive requests and 1 MiB responses over TLS.  See bench/README.md.
#
#   bench/tls.sh                          5 s a case, 1 then 2 workers
#   ROUNDS=3 WORKERS=1 bench/tls.sh       rounds interleaved, medians
#
# Every variable of bench/http.sh holds; CASES defaults to the TLS ones
# and IDLE to 0 (the idle case is http.sh's).
export CASES=${CASES:-"tls-full tls-resume tls-keepalive tls-bulk"}
export IDLE=${IDLE:-0} ME=tls.sh
exec "$(dirname "$0")/http.sh" "$@"

#!/usr/bin/env bash
# Side-by-side benchmark of our data plane against nginx and HAProxy on loopback.
# See bench/README.md. Everything it starts it stops (trap); every load is time-bounded.
#
#   bash bench/run.sh            # full: 3 runs, median per figure (17-24 min)
#   QUICK=1 bash bench/run.sh    # 1 run, short tests (~5 min)
#
# Knobs (environment): RUNS, DURATION (seconds per test), FIXED_DURATION (3 x DURATION),
# PROXIES ("ours nginx haproxy"),
# LOAD_CPU (0: origin + load generators), PROXY_CPU (1), IDLE_CONNS (10000), BIG_N (10000),
# SKIP_BUILD=1 (use target/release/dataplane as is), NO_INSTALL=1, DATAPLANE=/path/to/binary.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
WORK="${BENCH_WORK:-$BENCH_DIR/.work}"      # configs, docroot, logs, raw tool output (git-ignored)
RESULTS="$BENCH_DIR/results"

if [ "${QUICK:-0}" = 1 ]; then
  RUNS=${RUNS:-1}; DURATION=${DURATION:-4}
else
  RUNS=${RUNS:-3}; DURATION=${DURATION:-8}
fi
# floor: hyper alone, no pipeline (bench/micro/examples/floor_proxy.rs): what ours stands on.
PROXIES=${PROXIES:-"ours nginx haproxy floor"}
LOAD_CPU=${LOAD_CPU:-0}
PROXY_CPU=${PROXY_CPU:-1}
IDLE_CONNS=${IDLE_CONNS:-10000}
BIG_N=${BIG_N:-10000}
CONNS=64            # wrk connections, keep-alive tests
NEWCONN_CONNS=16    # wrk connections, a new connection per request
H2_C=16; H2_M=10    # h2load clients x streams
RATE_C=8; RATE_PER_CONN=250   # fixed rate: 8 x 250 = 2000 req/s over HTTP/1.1
# The fixed-rate test runs longer: its p99 is decided by the rarest 1 %, and this shared VM
# has 100-400 ms episodes in which every proxy is slow; more of them per test steady it.
FIXED_DURATION=${FIXED_DURATION:-$((DURATION * 3))}

ORIGIN_PORT=19080
declare -A H1_PORT=([ours]=19101 [nginx]=19102 [haproxy]=19103 [floor]=19104)
declare -A H2C_PORT=([ours]=19101 [nginx]=19112 [haproxy]=19113 [floor]=19104)  # ours, floor: h2c prior knowledge on the h1 port
OURS_ADMIN=19191
declare -A BODY=([small]=13 [4k]=4096 [64k]=65536)

DATAPLANE=${DATAPLANE:-$REPO/target/release/dataplane}
FLOOR=${FLOOR:-$REPO/target/release/examples/floor_proxy}
CLK_TCK=$(getconf CLK_TCK)
TS=$(date -u +%Y%m%dT%H%M%SZ)
RAW="$WORK/results.tsv"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ setup ---
ensure_deps() {
  local missing=() b
  declare -A pkg=([nginx]=nginx-light [haproxy]=haproxy [wrk]=wrk [h2load]=nghttp2-client
                  [taskset]=util-linux [curl]=curl [python3]=python3)
  for b in "${!pkg[@]}"; do command -v "$b" >/dev/null 2>&1 || missing+=("${pkg[$b]}"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "${NO_INSTALL:-0}" = 1 ] && die "missing: ${missing[*]} (NO_INSTALL=1)"
  [ "$(id -u)" = 0 ] || die "missing: ${missing[*]}: run as root or install them"
  log "installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Packages may start their default service; this harness runs its own instances.
  local svc
  for svc in nginx haproxy; do
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      systemctl disable --now "$svc" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$svc" ]; then
      "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    fi
  done
}

build_ours() {
  if [ "${SKIP_BUILD:-0}" = 1 ]; then
    [ -x "$DATAPLANE" ] || die "SKIP_BUILD=1 but $DATAPLANE is missing"
    case " $PROXIES " in *" floor "*) [ -x "$FLOOR" ] || die "SKIP_BUILD=1 but $FLOOR is missing" ;; esac
    return
  fi
  log "building the data plane (release)"
  (cd "$REPO" && cargo build --release -q -p bfe-dataplane --bin dataplane) || die "build failed"
  case " $PROXIES " in
    *" floor "*) (cd "$REPO" && cargo build --release -q -p bfe-bench --example floor_proxy) || die "build failed" ;;
  esac
}

write_configs() {
  mkdir -p "$WORK"/{docroot,logs,out,nginx-origin,nginx-proxy}
  printf 'Hello, world\n' > "$WORK/docroot/small"
  head -c 4096 /dev/zero | tr '\0' 'a' > "$WORK/docroot/4k"
  head -c 65536 /dev/zero | tr '\0' 'b' > "$WORK/docroot/64k"
  chmod -R a+rX "$WORK"

  # The one origin every proxy uses: nginx, one process, static files, keep-alive, no logs.
  cat > "$WORK/origin.conf" <<EOF
worker_processes 1;
master_process off;
daemon off;
pid $WORK/nginx-origin/nginx.pid;
error_log $WORK/logs/origin-error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 30000; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    open_file_cache max=64 inactive=3600s; open_file_cache_valid 3600s;
    keepalive_timeout 120s; keepalive_requests 100000000;
    server { listen 127.0.0.1:$ORIGIN_PORT backlog=4096; root $WORK/docroot; location / { } }
}
EOF

  # nginx: one process, upstream keep-alive pool, no access log; h1 and h2c listeners.
  cat > "$WORK/nginx-proxy.conf" <<EOF
worker_processes 1;
master_process off;
daemon off;
pid $WORK/nginx-proxy/nginx.pid;
error_log $WORK/logs/nginx-proxy-error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 30000; }
http {
    access_log off;
    keepalive_timeout 120s; keepalive_requests 100000000;
    http2_max_concurrent_streams 128;
    upstream origin {
        server 127.0.0.1:$ORIGIN_PORT;
        keepalive 256; keepalive_requests 100000000; keepalive_timeout 120s;
    }
    server {
        listen 127.0.0.1:${H1_PORT[nginx]} backlog=4096;
        listen 127.0.0.1:${H2C_PORT[nginx]} http2 backlog=4096;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # The forwarding headers ours always sets (X-Forwarded-*, X-Real-IP, the client's Host).
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Real-IP \$remote_addr;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Forwarded-Host \$http_host;
            proxy_set_header X-Forwarded-Port \$server_port;
            proxy_buffer_size 16k; proxy_buffers 8 16k; proxy_max_temp_file_size 0;
        }
    }
}
EOF

  # HAProxy: one thread, server-side keep-alive with reuse, no logging; h1 and h2c binds.
  cat > "$WORK/haproxy.cfg" <<EOF
global
    nbthread 1
    # 10,000 idle clients + spare; "no strict-limits" lets it run where the hard limit on open
    # files (here 20000) is below the 2 x maxconn it would like to reserve.
    maxconn 10500
    no strict-limits
defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout http-keep-alive 120s
frontend fe
    bind 127.0.0.1:${H1_PORT[haproxy]}
    bind 127.0.0.1:${H2C_PORT[haproxy]} proto h2
    # The forwarding headers ours always sets.
    option forwardfor
    http-request set-header X-Real-IP %[src]
    http-request set-header X-Forwarded-Proto http
    http-request set-header X-Forwarded-Host %[req.hdr(host)]
    http-request set-header X-Forwarded-Port %[dst_port]
    default_backend be
backend be
    server origin 127.0.0.1:$ORIGIN_PORT
EOF

  ours_config 0 > "$WORK/ours.yaml"
  ours_rules_config 10 > "$WORK/ours-rules-10.yaml"
  ours_rules_config "$BIG_N" > "$WORK/ours-rules-big.yaml"
}

# Ours: one tenant, one catch-all basic rule to the origin; upstream pool like nginx's
# (256 idle), passive health, access log off (the default). $1 = a label that changes the hash.
ours_config() {
  cat <<EOF
version: "bench-$1"
default_tenant: bench
tenants:
  - name: bench
    hosts: ["bench.local"]
    routes:
      basic:
        - cluster: origin
clusters:
  - name: origin
    sub_clusters:
      - name: local
        weight: 100
        backends:
          - addr: "127.0.0.1:$ORIGIN_PORT"
    timeouts: { keepalive_idle_ms: 120000 }
    pool: { max_idle_per_backend: 256, idle_timeout_ms: 120000 }
EOF
}

# $1 hosts h0..h{n-1}.bench.local and $1 ordered advanced rules, rule i = host h{i} and path
# prefix "/", then a catch-all: a request for the last host evaluates every rule.
ours_rules_config() {
  local n=$1
  cat <<EOF
version: "bench-rules-$n"
default_tenant: bench
tenants:
  - name: bench
    hosts:
EOF
  awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "      - \"h%d.bench.local\"\n", i }'
  cat <<EOF
    routes:
      advanced:
EOF
  awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
    printf "        - condition: '"'"'req_host_in(\"h%d.bench.local\") && req_path_prefix_in(\"/\", false)'"'"'\n          cluster: origin\n", i }'
  printf '        - condition: "default_t()"\n          cluster: origin\n'
  cat <<EOF
clusters:
  - name: origin
    sub_clusters:
      - name: local
        weight: 100
        backends:
          - addr: "127.0.0.1:$ORIGIN_PORT"
    timeouts: { keepalive_idle_ms: 120000 }
    pool: { max_idle_per_backend: 256, idle_timeout_ms: 120000 }
EOF
}

# --------------------------------------------------------------- processes ---
declare -A PID=()
start() { # name cpu cmd... : started in its own session, pinned, output to logs/
  local name=$1 cpu=$2; shift 2
  setsid taskset -c "$cpu" "$@" > "$WORK/logs/$name.out" 2>&1 < /dev/null &
  PID[$name]=$!
}

stop() { # name
  local pid=${PID[$1]:-} i
  [ -n "$pid" ] || return 0
  if [ -d "/proc/$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  unset "PID[$1]"
}

stop_all() {
  local n
  for n in "${!PID[@]}"; do stop "$n"; done
  [ -n "${SWAPPER:-}" ] && kill "$SWAPPER" 2>/dev/null || true
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_ready() { # url seconds
  local i
  for i in $(seq 1 $(($2 * 10))); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

start_proxy() { # proxy [ours-config]
  local p=$1 cfg=${2:-$WORK/ours.yaml}
  case $p in
    ours) start ours "$PROXY_CPU" env RUST_LOG=warn "$DATAPLANE" --workers 1 \
            --config "$cfg" --listen "127.0.0.1:${H1_PORT[ours]}" --admin "127.0.0.1:$OURS_ADMIN" ;;
    nginx) start nginx "$PROXY_CPU" nginx -p "$WORK/nginx-proxy/" -e "$WORK/logs/nginx-proxy-error.log" \
             -c "$WORK/nginx-proxy.conf" ;;
    haproxy) start haproxy "$PROXY_CPU" haproxy -db -f "$WORK/haproxy.cfg" ;;
    floor) start floor "$PROXY_CPU" "$FLOOR" "127.0.0.1:${H1_PORT[floor]}" "127.0.0.1:$ORIGIN_PORT" ;;
    *) die "unknown proxy $p" ;;
  esac
  wait_ready "http://127.0.0.1:${H1_PORT[$p]}/small" 60 || { tail -5 "$WORK/logs/$p.out" >&2; die "$p did not start"; }
  local s got
  for s in small 4k 64k; do
    got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:${H1_PORT[$p]}/$s")
    [ "$got" = "200 ${BODY[$s]}" ] || die "$p /$s: expected '200 ${BODY[$s]}', got '$got'"
  done
}

ticks() { # utime+stime of a process, all threads
  local s; read -r s < "/proc/$1/stat"; s=${s##*) }; set -- $s; echo $(( ${12} + ${13} ))
}
uticks() { # utime only: user-space CPU
  local s; read -r s < "/proc/$1/stat"; s=${s##*) }; set -- $s; echo "${12}"
}
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# ------------------------------------------------------------------- tests ---
# record run scenario proxy rps p50_ms p99_ms proxy_us origin_us errors extra [proxy_user_us]
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${10}" "${11:-nan}" >> "$RAW"; }

# measure proxy out cmd...: runs the load on LOAD_CPU; sets D_PROXY/D_ORIGIN (ticks),
# D_USER (the proxy's user-space ticks), WALL
measure() {
  local p=$1 out=$2; shift 2
  local pp=${PID[$p]} op=${PID[origin]} p0 o0 u0 t0 t1
  p0=$(ticks "$pp"); o0=$(ticks "$op"); u0=$(uticks "$pp"); t0=$(date +%s.%N)
  taskset -c "$LOAD_CPU" timeout $((FIXED_DURATION + 30)) "$@" > "$out" 2>&1 || log "load command failed: $* (see $out)"
  t1=$(date +%s.%N)
  D_PROXY=$(( $(ticks "$pp") - p0 )); D_ORIGIN=$(( $(ticks "$op") - o0 )); D_USER=$(( $(uticks "$pp") - u0 ))
  WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

us_per() { awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.2f", t / hz * 1e6 / n; else print "nan" }'; }
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else print "nan" }'
}

# wrk_test run scenario proxy path [wrk args...]
wrk_test() {
  local run=$1 sc=$2 p=$3 path=$4; shift 4
  local out="$WORK/out/r$run-$sc-$p.txt"
  log "run $run  $p  $sc"
  measure "$p" "$out" wrk -t1 -d"${DURATION}s" --latency "$@" "http://127.0.0.1:${H1_PORT[$p]}$path"
  local n rps p50 p99 err
  n=$(awk '/requests in/ { print $1; exit }' "$out"); n=${n:-0}
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2; exit }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2; exit }' "$out")")
  err=$(awk '/Socket errors:/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 } /Non-2xx/ { s += $NF } END { print s + 0 }' "$out")
  record "$run" "$sc" "$p" "${rps:-0}" "$p50" "$p99" "$(us_per "$D_PROXY" "$n")" "$(us_per "$D_ORIGIN" "$n")" "$err" "" "$(us_per "$D_USER" "$n")"
}

# h2load_test run scenario proxy url seconds h2load-args...: percentiles from h2load's per-request log
h2load_test() {
  local run=$1 sc=$2 p=$3 url=$4 secs=$5; shift 5
  local out="$WORK/out/r$run-$sc-$p.txt" lf="$WORK/out/r$run-$sc-$p.log"
  log "run $run  $p  $sc"
  rm -f "$lf"
  measure "$p" "$out" h2load -D "$secs" --warm-up-time 1 --log-file "$lf" "$@" "$url"
  local ok fail rps pct
  ok=$(awk '/^requests:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^succeeded/) print $i }' "$out"); ok=${ok:-0}
  fail=$(awk '/^requests:/ { s = 0; for (i = 1; i < NF; i++) if ($(i+1) ~ /^(failed|errored|timeout)/) s += $i; print s }' "$out")
  rps=$(awk '/^finished in/ { print $4 }' "$out")
  pct=$(awk -F'\t' '$2 == 200 { print $3 }' "$lf" 2>/dev/null | sort -n | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan nan"; exit }
    k50 = int(NR * 0.50 + 0.999999); k99 = int(NR * 0.99 + 0.999999)
    printf "%.3f %.3f\n", v[k50] / 1000, v[k99] / 1000 }')
  # CPU is measured over the whole h2load run, warm-up included: count those requests too.
  local all; all=$(awk -F'\t' 'END { print NR }' "$lf" 2>/dev/null); all=${all:-$ok}
  [ "$all" -gt "$ok" ] 2>/dev/null || all=$ok
  record "$run" "$sc" "$p" "${rps:-0}" ${pct% *} ${pct#* } "$(us_per "$D_PROXY" "$all")" "$(us_per "$D_ORIGIN" "$all")" "${fail:-0}" "" "$(us_per "$D_USER" "$all")"
}

# Opens IDLE_CONNS keep-alive connections, one request each, then holds them; prints the
# proxy's RSS growth per connection (KiB) and how many connections were answered.
idle_test() {
  local run=$1 p=$2 pid=${PID[$2]} before after ok
  log "run $run  $p  idle-$IDLE_CONNS"
  before=$(status_kb "$pid" VmRSS)
  ok=$(taskset -c "$LOAD_CPU" timeout 120 python3 - "${H1_PORT[$p]}" "$IDLE_CONNS" "$pid" <<'PY'
import socket, sys, time
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
req = b"GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
socks, ok = [], 0
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(req)
    buf = b""
    while b"Hello, world\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    ok += buf.startswith(b"HTTP/1.1 200")
    socks.append(s)
time.sleep(2)  # let the proxy settle; every connection is now idle keep-alive
with open(f"/proc/{pid}/status") as f:
    rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
print(ok, rss)
for s in socks:
    s.close()
PY
  ) || { log "idle test failed for $p"; return; }
  after=${ok#* }; ok=${ok% *}
  record "$run" "idle-$IDLE_CONNS" "$p" nan nan nan nan nan $((IDLE_CONNS - ok)) \
    "$(awk -v a="$after" -v b="$before" -v n="$IDLE_CONNS" 'BEGIN { printf "%.2f", (a - b) / n }')"
  record "$run" "rss-with-idle" "$p" nan nan nan nan nan 0 "$after"
}

# The common tests of one proxy (already started).
proxy_tests() {
  local run=$1 p=$2 port=${H1_PORT[$2]}
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$port/4k" >/dev/null 2>&1 || true
  wrk_test "$run" h1-13B "$p" /small -c"$CONNS"
  wrk_test "$run" h1-4KiB "$p" /4k -c"$CONNS"
  wrk_test "$run" h1-64KiB "$p" /64k -c"$CONNS"
  wrk_test "$run" h1-newconn-13B "$p" /small -c"$NEWCONN_CONNS" -H 'Connection: close'
  h2load_test "$run" h2c-4KiB "$p" "http://127.0.0.1:${H2C_PORT[$p]}/4k" "$DURATION" -c"$H2_C" -m"$H2_M"
  h2load_test "$run" fixed-2000rps-4KiB "$p" "http://127.0.0.1:$port/4k" "$FIXED_DURATION" \
    --h1 -c"$RATE_C" --rps "$RATE_PER_CONN"
  record "$run" peak-rss "$p" nan nan nan nan nan 0 "$(status_kb "${PID[$p]}" VmHWM)"
  idle_test "$run" "$p"
}

# Ours only: routing cost with 10 vs BIG_N hosts and advanced rules, and swaps under load.
ours_tests() {
  local run=$1 n
  for n in 10 big; do
    start_proxy ours "$WORK/ours-rules-$n.yaml"
    local label=10
    [ "$n" = big ] && label=$BIG_N
    local last=$((label - 1))
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d1s -H "Host: h0.bench.local" "http://127.0.0.1:${H1_PORT[ours]}/small" >/dev/null 2>&1 || true
    wrk_test "$run" "rules-$label-first" ours /small -c"$CONNS" -H "Host: h0.bench.local"
    wrk_test "$run" "rules-$label-last" ours /small -c"$CONNS" -H "Host: h$last.bench.local"
    stop ours
  done
  # Config swap every second: rewrite the file (new label, same routes) while wrk runs.
  cp "$WORK/ours.yaml" "$WORK/ours-swap.yaml"
  start_proxy ours "$WORK/ours-swap.yaml"
  wrk_test "$run" swap-baseline-13B ours /small -c"$CONNS"
  ( i=0; while :; do i=$((i + 1)); ours_config "swap-$i" > "$WORK/ours-swap.yaml.tmp"
      mv "$WORK/ours-swap.yaml.tmp" "$WORK/ours-swap.yaml"; sleep 1; done ) &
  SWAPPER=$!
  local g0 g1
  g0=$(curl -s "http://127.0.0.1:$OURS_ADMIN/metrics" | awk '$1 == "bfe_config_generation" { print $2 }')
  wrk_test "$run" swap-1s-13B ours /small -c"$CONNS"
  kill "$SWAPPER" 2>/dev/null || true; wait "$SWAPPER" 2>/dev/null || true; SWAPPER=
  g1=$(curl -s "http://127.0.0.1:$OURS_ADMIN/metrics" | awk '$1 == "bfe_config_generation" { print $2 }')
  log "configs installed during the swap test: $((g1 - g0))"
  # The note goes in the 10th field of the test's (last) record; the 11th is user CPU.
  sed -i '$ s/\t\t\([^\t]*\)$/\t'"$((g1 - g0))"' swaps\t\1/' "$RAW"
  stop ours
}

# ------------------------------------------------------------------ report ---
report() {
  python3 - "$RAW" "$RUNS" "$DURATION" <<'PY'
import sys, statistics as st
from collections import defaultdict
raw, runs, dur = sys.argv[1], sys.argv[2], sys.argv[3]
rows = defaultdict(list)
for line in open(raw):
    r = line.rstrip("\n").split("\t")
    rows[(r[1], r[2])].append(r[3:])
def med(vals):
    v = [float(x) for x in vals if x not in ("", "nan")]
    return st.median(v) if v else None
def f(x, d=1):
    return "-" if x is None else f"{x:.{d}f}"
order = ["h1-13B", "h1-4KiB", "h1-64KiB", "h1-newconn-13B", "h2c-4KiB", "fixed-2000rps-4KiB"]
proxies = ["ours", "nginx", "haproxy", "floor"]
print(f"\n### Ours vs nginx and HAProxy: median of {runs} run(s), {dur} s per test (the fixed rate 3 times that), proxy on 1 CPU\n")
print("floor = hyper's server and client alone (no pipeline), the stack ours is built on.\n")
print("| scenario | rank | proxy | req/s | p50 ms | p99 ms | proxy µs CPU/req | of which user | ÷ origin CPU | ÷ nginx CPU/req | ÷ HAProxy CPU/req | ÷ floor CPU/req | errors |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for sc in order:
    m = {}
    for p in proxies:
        v = rows.get((sc, p))
        if not v:
            continue
        us, ous = med([x[3] for x in v]), med([x[4] for x in v])
        m[p] = dict(rps=med([x[0] for x in v]), p50=med([x[1] for x in v]), p99=med([x[2] for x in v]),
                    us=us, user=med([x[7] for x in v if len(x) > 7]), ratio=med([float(x[3]) / float(x[4]) for x in v if x[4] not in ("nan", "0.00") and x[3] != "nan"]),
                    err=sum(int(float(x[5])) for x in v))
    ranked = sorted(m, key=lambda p: m[p]["us"] if m[p]["us"] is not None else 1e9)
    for i, p in enumerate(ranked, 1):
        d = m[p]
        vs = lambda q: f(d["us"] / m[q]["us"], 2) if q in m and d["us"] and m[q]["us"] else "-"
        print(f"| {sc} | {i} | {p} | {f(d['rps'], 0)} | {f(d['p50'], 2)} | {f(d['p99'], 2)} | {f(d['us'])} | {f(d['user'])} | "
              f"{f(d['ratio'], 2)} | {vs('nginx')} | {vs('haproxy')} | {vs('floor')} | {d['err']} |")
for sc, label, unit in [("peak-rss", "peak RSS (VmHWM) after the load tests", "MiB"),
                        ("idle-", "RSS growth per idle keep-alive connection (held after one request each)", "KiB"),
                        ("rss-with-idle", "RSS while holding them", "MiB")]:
    m = {p: med([x[6] for x in v]) for (s, p), v in rows.items() if s.startswith(sc)}
    errs = {p: sum(int(float(x[5])) for x in v) for (s, p), v in rows.items() if s.startswith(sc)}
    if not m:
        continue
    ranked = sorted(m, key=lambda p: m[p] if m[p] is not None else 1e18)
    conv = (lambda x: x / 1024) if unit == "MiB" else (lambda x: x)
    parts = []
    for p in ranked:
        extra = ""
        if "nginx" in m and m["nginx"] and p != "nginx":
            extra = f", {m[p] / m['nginx']:.2f}× nginx"
        parts.append(f"{p} {f(conv(m[p]) if m[p] is not None else None, 1)} {unit}{extra}" + (f" ({errs[p]} not answered)" if errs[p] else ""))
    print(f"\n{label[0].upper() + label[1:]}: " + "; ".join(parts))
rs = sorted({s for (s, p) in rows if p == "ours" and (s.startswith("rules-") or s.startswith("swap-"))},
            key=lambda s: (s.startswith("swap"), int(s.split("-")[1]) if s.startswith("rules") else 0,
                           s.endswith("last") or "-1s-" in s))
if rs:
    print("\n### Ours only: routing table size and config swaps (HTTP/1.1 keep-alive, 13 B, -c64)\n")
    print("| scenario | req/s | p50 ms | p99 ms | proxy µs CPU/req | ÷ origin CPU | vs baseline CPU/req | errors | notes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    base = {}
    for s in rs:
        v = rows[(s, "ours")]
        us = med([x[3] for x in v])
        ratio = med([float(x[3]) / float(x[4]) for x in v if x[4] not in ("nan", "0.00") and x[3] != "nan"])
        key = "swap" if s.startswith("swap") else "rules"
        b = base.setdefault(key, us)
        print(f"| {s} | {f(med([x[0] for x in v]), 0)} | {f(med([x[1] for x in v]), 2)} | {f(med([x[2] for x in v]), 2)} | "
              f"{f(us)} | {f(ratio, 2)} | {f(us / b, 2) if us and b else '-'} | {sum(int(float(x[5])) for x in v)} | {', '.join(x[6] for x in v if x[6])} |")
PY
}

# -------------------------------------------------------------------- main ---
main() {
  ensure_deps
  build_ours
  mkdir -p "$WORK" "$RESULTS"
  exec 9> "$WORK/.lock"
  flock -n 9 || die "another bench/run.sh is running"
  trap 'stop_all' EXIT
  trap 'log interrupted; exit 130' INT TERM
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  [ "$(ulimit -n)" -gt $((IDLE_CONNS + 1000)) ] || die "ulimit -n $(ulimit -n) is too low for IDLE_CONNS=$IDLE_CONNS"
  local port
  for port in $ORIGIN_PORT "${H1_PORT[@]}" "${H2C_PORT[@]}" $OURS_ADMIN; do
    port_in_use "$port" && die "127.0.0.1:$port is in use by something this script did not start"
  done
  write_configs
  "$DATAPLANE" --check "$WORK/ours.yaml" >/dev/null || die "our config is invalid"
  "$DATAPLANE" --check "$WORK/ours-rules-big.yaml" >/dev/null || die "the big config is invalid"
  : > "$RAW"
  log "RUNS=$RUNS DURATION=${DURATION}s (fixed rate ${FIXED_DURATION}s) PROXIES='$PROXIES' load+origin CPU$LOAD_CPU, proxy CPU$PROXY_CPU; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  start origin "$LOAD_CPU" nginx -p "$WORK/nginx-origin/" -e "$WORK/logs/origin-error.log" -c "$WORK/origin.conf"
  wait_ready "http://127.0.0.1:$ORIGIN_PORT/small" 10 || die "origin did not start"
  local run p order
  for run in $(seq 1 "$RUNS"); do
    # Rotate the order each run so that no proxy always goes first.
    order=$(echo $PROXIES | awk -v r="$run" '{ for (i = 0; i < NF; i++) printf "%s ", $(((i + r - 1) % NF) + 1) }')
    for p in $order; do
      start_proxy "$p"
      proxy_tests "$run" "$p"
      stop "$p"
    done
    case " $PROXIES " in *" ours "*) ours_tests "$run" ;; esac
  done
  stop_all
  trap - EXIT
  cp "$RAW" "$RESULTS/$TS.tsv"
  {
    echo "Run $TS: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    report
  } | tee "$RESULTS/$TS.md"
  echo
  echo "raw figures: ${RESULTS#"$REPO"/}/$TS.tsv"
}

# bash bench/run.sh --report results/<ts>.tsv [runs] [duration]: re-print the tables of a run.
if [ "${1:-}" = --report ]; then RAW=$2; RUNS=${3:-?}; DURATION=${4:-?}; report; exit 0; fi
main "$@"

#!/usr/bin/env bash
# Where a cold inventory's CPU goes, by thread, with and without a state database (not a timed test;
# docs/BENCHMARKS.md, session 11). Needs `perf` (Debian's linux-perf) and the bench corpus that
# inventory-bench.sh seeds (it is started here the same way, and reused when cached).
#   thread-split.sh BUILD_DIR [USERS] [SHAPE]
# Samples with the cpu-clock event, whose samples add up to /usr/bin/time's CPU here; the default
# event's did not in this VM (docs/BENCHMARKS.md, session 11).
# Prints CPU-seconds per thread kind (the analysing pool, the LDAP reading thread, the main thread
# that stores and writes the CSV) for both runs and their difference.
set -euo pipefail
build=$(cd "$1" && pwd)
users=${2:-50000}
shape=${3:-standard}
here=$(cd "$(dirname "$0")" && pwd)
dir=$build/bench-corpus
[ "$shape" = standard ] || dir=$build/bench-corpus-$shape
command -v perf > /dev/null || { echo "thread-split.sh: perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
work=$(mktemp -d)
trap 'bash "$here/../fixtures/slapd.sh" stop "$dir" >/dev/null; rm -rf "$work"' EXIT

bash "$here/../fixtures/slapd.sh" start "$dir" "$build/tests/seeder/certsync-seed" --users "$users" --no-catalogue \
  --shape "$shape" --reuse > /dev/null
# shellcheck disable=SC1091
. "$dir/server.env"
export CERTSYNC_BENCH_PASSWORD=$ADMIN_PASSWORD
inventory=("$build/app/certsync" inventory --profile ldap --ldap-url "$LDAP_URL" --no-tls --base-dn "$BASE_DN"
  --bind-dn "$ADMIN_DN" --password-env CERTSYNC_BENCH_PASSWORD --trust "$dir/pki/trust.pem" --crl "$dir/pki/crl.pem")

split() { # label, extra arguments...: prints "label pool reader main total" in CPU-seconds
  local label=$1; shift
  perf record -q -e cpu-clock -F 1000 -o "$work/$label.data" -- "${inventory[@]}" "$@" --csv "$work/$label.csv" \
    > /dev/null 2> "$work/$label.err" || { cat "$work/$label.err" >&2; exit 1; }
  # One line per thread: "samples pid:comm"; at 1000 Hz a sample is a millisecond of CPU.
  perf report -i "$work/$label.data" --sort pid -F sample,pid --stdio 2> /dev/null | grep -v '^#' |
    awk -v label="$label" 'NF >= 2 {
        n = $1; name = $0; sub(/^ *[0-9]+ +[0-9]+:/, "", name)
        if (name ~ /pooled/) pool += n; else if (name ~ /worker/) reader += n; else if (name ~ /certsync/) main += n
      } END { printf "%s %.2f %.2f %.2f %.2f\n", label, pool / 1000, reader / 1000, main / 1000, (pool + reader + main) / 1000 }'
}

without=$(split without)
with=$(split with --state-dir "$work/state")
printf '%-22s %10s %10s %10s %10s\n' "CPU-seconds" "analysing" "LDAP read" "main" "total"
for line in "$without" "$with"; do
  read -r label pool reader main total <<< "$line"
  printf '%-22s %10s %10s %10s %10s\n' "$label state" "$pool" "$reader" "$main" "$total"
done
paste -d' ' <(echo "$without") <(echo "$with") |
  awk '{ printf "%-22s %+10.2f %+10.2f %+10.2f %+10.2f\n", "difference", $7 - $2, $8 - $3, $9 - $4, $10 - $5 }'
cmp -s "$work/without.csv" "$work/with.csv" || { echo "thread-split.sh: the two CSVs differ" >&2; exit 1; }

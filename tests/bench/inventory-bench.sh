#!/usr/bin/env bash
# Directory inventory benchmark (not a timed test): 50,000 seeded users in slapd on loopback, side by
# side: the ldapsearch paged dump of the same attributes, the bare OpenSSL loop over the same
# certificates, and certsync inventory cold without a state database, cold (empty state), warm (state
# database, --full) and incremental (the default next run).
#   inventory-bench.sh BUILD_DIR [USERS] [ROUNDS] [SHAPE]
# ROUNDS (default 3) repeats the six runs back to back; each round's ratios use that round's own
# floors, and the verdict uses the medians. The machine's speed drifts by tens of percent over
# minutes (shared hosts), so one round can put a floor and a certsync run in different weather.
# SHAPE is the seeder's --shape: standard (default), or bags (all RSA-2048, bags carrying the
# intermediate, duplicates across the two attributes, one user in 25 with 17-18 values).
# The seeded corpus (LDIF, PKI, corpus.bin) is cached in BUILD_DIR/bench-corpus (bench-corpus-bags)
# and reused.
set -euo pipefail
build=$(cd "$1" && pwd)
users=${2:-50000}
rounds=${3:-3}
shape=${4:-standard}
here=$(cd "$(dirname "$0")" && pwd)
dir=$build/bench-corpus
[ "$shape" = standard ] || dir=$build/bench-corpus-$shape
work=$(mktemp -d)
trap 'bash "$here/../fixtures/slapd.sh" stop "$dir" >/dev/null; rm -rf "$work"' EXIT

echo "== seeding/starting slapd with $users users, shape $shape (cached in $dir)"
/usr/bin/time -f "   slapd start (seed when not cached + slapadd): %e s" \
  bash "$here/../fixtures/slapd.sh" start "$dir" "$build/tests/seeder/certsync-seed" --users "$users" --no-catalogue \
  --shape "$shape" --reuse
# shellcheck disable=SC1091
. "$dir/server.env"
attrs=(entryUUID uid mail cn modifyTimestamp entryCSN 'userCertificate;binary' userSMIMECertificate)
certs=$(( $(stat -c %s "$dir/corpus.bin") ))
echo "   corpus.bin: $certs bytes"

run() { # key, label, command...: appends "secs kb cpu" to $work/KEY
  local key=$1 label=$2; shift 2
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" > "$work/out" 2> "$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r secs kb user sys < "$work/time"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  printf '   %-34s %8.2f s  %8d MB peak RSS  %8.2f s CPU\n' "$label" "$secs" "$((kb / 1024))" "$cpu"
  echo "$secs $kb $cpu" >> "$work/$key"
}

# warm the server's caches once, as every measured reader below gets them warm
ldapsearch -x -LLL -H "$LDAP_URL" -D "$ADMIN_DN" -w "$ADMIN_PASSWORD" -b "$BASE_DN" -E pr=500/noprompt \
  '(objectClass=inetOrgPerson)' "${attrs[@]}" > /dev/null
export CERTSYNC_BENCH_PASSWORD=$ADMIN_PASSWORD
inventory=("$build/app/certsync" inventory --profile ldap --ldap-url "$LDAP_URL" --no-tls --base-dn "$BASE_DN"
  --bind-dn "$ADMIN_DN" --password-env CERTSYNC_BENCH_PASSWORD --trust "$dir/pki/trust.pem" --crl "$dir/pki/crl.pem")

for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  run dump "dump (ldapsearch -E pr=500)" ldapsearch -x -LLL -H "$LDAP_URL" -D "$ADMIN_DN" -w "$ADMIN_PASSWORD" \
    -b "$BASE_DN" -E pr=500/noprompt '(objectClass=inetOrgPerson)' "${attrs[@]}" -o ldif-wrap=no
  run openssl "openssl (bare loop, one core)" "$build/tests/bench/certsync-bench-openssl" "$dir/corpus.bin" "$dir/pki/trust.pem"
  # the same read without a state database: what persisting the cold inventory costs on top
  run nostate "cold without --state-dir" "${inventory[@]}" --csv "$work/nostate.csv"
  rm -rf "$work/state"
  run cold "cold (certsync inventory)" "${inventory[@]}" --state-dir "$work/state" --csv "$work/cold.csv"
  # warm as the budget defines it: a full read, every value already analysed in the state database
  run warm "warm (certsync inventory --full)" "${inventory[@]}" --state-dir "$work/state" --full --csv "$work/warm.csv"
  # for information: the default next run, incremental (nothing changed since), CSV from the stored snapshot
  run incremental "incremental (certsync inventory)" "${inventory[@]}" --state-dir "$work/state" --csv "$work/incremental.csv"
  cmp -s "$work/cold.csv" "$work/incremental.csv" || { echo "   cold and incremental CSV differ" >&2; exit 1; }
  cmp -s "$work/cold.csv" "$work/warm.csv" || { echo "   cold and warm CSV differ" >&2; exit 1; }
  cmp -s "$work/cold.csv" "$work/nostate.csv" || { echo "   cold with and without state CSV differ" >&2; exit 1; }
  paste "$work/dump" "$work/openssl" "$work/cold" "$work/warm" "$work/nostate" | tail -1 |
    awk '{ printf "   this round: cold / (dump + openssl) = %.2f, warm / dump = %.2f; CPU: cold / openssl = %.2f, warm / dump = %.2f; cold with / without state: wall %.2f, CPU %.2f\n", $7 / ($1 + $4), $10 / $1, $9 / $6, $12 / $3, $7 / $13, $9 / $15 }'
done
echo "   cold (with and without state), warm and incremental CSV are identical in every round ($(wc -l < "$work/cold.csv") lines)"

median() { sort -n -k"$2" "$work/$1" | awk -v c="$2" '{ v[NR] = $c } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
peak() { sort -n -k2 "$work/$1" | tail -1 | awk '{ print $2 }'; }
awk -v d="$(median dump 1)" -v o="$(median openssl 1)" -v c="$(median cold 1)" -v w="$(median warm 1)" \
    -v i="$(median incremental 1)" -v ck="$(peak cold)" -v wk="$(peak warm)" -v raw="$certs" -v n="$rounds" \
    -v dc="$(median dump 3)" -v oc="$(median openssl 3)" -v cc="$(median cold 3)" -v wc="$(median warm 3)" \
    -v ns="$(median nostate 1)" -v nc="$(median nostate 3)" -v nk="$(peak nostate)" 'BEGIN {
  printf "== medians of %d rounds\n", n;
  printf "dump %.2f s, openssl %.2f s, cold %.2f s, warm %.2f s, incremental %.2f s\n", d, o, c, w, i;
  printf "cold / (dump + openssl) = %.2f (budget 0.6)\n", c / (d + o);
  printf "warm / dump             = %.2f (budget 1.5)\n", w / d;
  printf "incremental / dump      = %.2f (no budget; nothing changed since the warm run)\n", i / d;
  printf "cold with / without state: wall %.2f (%.2f s / %.2f s), CPU %.2f (%.2f s / %.2f s) (budget 1.1)\n", c / ns, c, ns, cc / nc, cc, nc;
  printf "CPU (user + sys): dump %.2f s, openssl %.2f s, cold %.2f s (%.2fx openssl), warm %.2f s (%.2fx dump)\n", dc, oc, cc, cc / oc, wc, wc / dc;
  printf "highest peak RSS cold %d MB (without state %d MB), warm %d MB; budget 2 x %d MB raw + 100 MB = %d MB\n", ck/1024, nk/1024, wk/1024, raw/1048576, 2*raw/1048576 + 100;
}'

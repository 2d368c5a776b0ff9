#!/usr/bin/env bash
# Directory inventory benchmark (not a timed test): 50,000 seeded users in slapd on loopback, side by
# side in one run: the ldapsearch paged dump of the same attributes, the bare OpenSSL loop over the
# same certificates, and certsync inventory cold (empty state) and warm (state database).
#   inventory-bench.sh BUILD_DIR [USERS]
# The seeded corpus (LDIF, PKI, corpus.bin) is cached in BUILD_DIR/bench-corpus and reused.
set -euo pipefail
build=$(cd "$1" && pwd)
users=${2:-50000}
here=$(cd "$(dirname "$0")" && pwd)
dir=$build/bench-corpus
work=$(mktemp -d)
trap 'bash "$here/../fixtures/slapd.sh" stop "$dir" >/dev/null; rm -rf "$work"' EXIT

echo "== seeding/starting slapd with $users users (cached in $dir)"
/usr/bin/time -f "   slapd start (seed when not cached + slapadd): %e s" \
  bash "$here/../fixtures/slapd.sh" start "$dir" "$build/tests/seeder/certsync-seed" --users "$users" --no-catalogue --reuse
# shellcheck disable=SC1091
. "$dir/server.env"
attrs=(entryUUID uid mail cn modifyTimestamp entryCSN 'userCertificate;binary' userSMIMECertificate)
certs=$(( $(stat -c %s "$dir/corpus.bin") ))
echo "   corpus.bin: $certs bytes"

run() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/out" 2> "$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r secs kb < "$work/time"
  printf '%-34s %8.2f s  %8d MB peak RSS\n' "$label" "$secs" "$((kb / 1024))"
  eval "${label%% *}_secs=$secs; ${label%% *}_kb=$kb"
}

echo "== one run, side by side"
# warm the server's caches once, as every measured reader below gets them warm
ldapsearch -x -LLL -H "$LDAP_URL" -D "$ADMIN_DN" -w "$ADMIN_PASSWORD" -b "$BASE_DN" -E pr=500/noprompt \
  '(objectClass=inetOrgPerson)' "${attrs[@]}" > /dev/null
run "dump (ldapsearch -E pr=500)" ldapsearch -x -LLL -H "$LDAP_URL" -D "$ADMIN_DN" -w "$ADMIN_PASSWORD" \
  -b "$BASE_DN" -E pr=500/noprompt '(objectClass=inetOrgPerson)' "${attrs[@]}" -o ldif-wrap=no
run "openssl (bare loop, one core)" "$build/tests/bench/certsync-bench-openssl" "$dir/corpus.bin" "$dir/pki/trust.pem"
cat "$work/out"
export CERTSYNC_BENCH_PASSWORD=$ADMIN_PASSWORD
inventory=("$build/app/certsync" inventory --profile ldap --ldap-url "$LDAP_URL" --no-tls --base-dn "$BASE_DN"
  --bind-dn "$ADMIN_DN" --password-env CERTSYNC_BENCH_PASSWORD --trust "$dir/pki/trust.pem" --crl "$dir/pki/crl.pem"
  --state-dir "$work/state")
run "cold (certsync inventory)" "${inventory[@]}" --csv "$work/cold.csv"
cat "$work/out"
# warm as the budget defines it: a full read, every value already analysed in the state database
run "warm (certsync inventory --full)" "${inventory[@]}" --full --csv "$work/warm.csv"
cat "$work/out"
# for information: the default next run, incremental (nothing changed since), CSV from the stored snapshot
run "incremental (certsync inventory)" "${inventory[@]}" --csv "$work/incremental.csv"
cat "$work/out"
cmp -s "$work/cold.csv" "$work/incremental.csv" || { echo "   cold and incremental CSV differ" >&2; exit 1; }
cmp -s "$work/cold.csv" "$work/warm.csv" && echo "   cold and warm CSV are identical ($(wc -l < "$work/cold.csv") lines)" \
  || { echo "   cold and warm CSV differ" >&2; exit 1; }

awk -v d="$dump_secs" -v o="$openssl_secs" -v c="$cold_secs" -v w="$warm_secs" -v i="$incremental_secs" -v ck="$cold_kb" -v wk="$warm_kb" \
    -v raw="$certs" 'BEGIN {
  printf "== ratios\n";
  printf "cold / (dump + openssl) = %.2f (budget 0.6)\n", c / (d + o);
  printf "warm / dump             = %.2f (budget 1.5)\n", w / d;
  printf "incremental / dump      = %.2f (no budget; nothing changed since the warm run)\n", i / d;
  printf "peak RSS cold %d MB, warm %d MB; budget 2 x %d MB raw + 100 MB = %d MB\n", ck/1024, wk/1024, raw/1048576, 2*raw/1048576 + 100;
}'

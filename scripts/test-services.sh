#!/usr/bin/env bash
# Runs a command with REAL throwaway PostgreSQL 15 (+pgvector) and Redis on loopback — no Docker needed.
#
#   bash scripts/test-services.sh <command...>       e.g. bash scripts/test-services.sh npx vitest run test/x.test.ts
#
# Exports to the command: DATABASE_URL, REDIS_URL, RAIL_TEMPLATE_DB (a database with `vector` installed that
# test/helpers/db.ts clones once per test file), PGHOST/PGPORT/PGUSER/PGDATABASE when it started PostgreSQL itself.
# - DATABASE_URL / REDIS_URL already set → that service is used as is (the template database is still ensured).
# - Otherwise, on Debian 12 as root: installs postgresql-15 + redis-server with apt (skipped when the binaries exist),
#   builds pgvector from Debian trixie's source package (bookworm ships none; skipped when vector.control exists),
#   starts both on free loopback ports with no durability/persistence, and ALWAYS stops them and removes their temp
#   dirs on exit — also on failure, Ctrl-C and SIGTERM. The exit code is the command's.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=/usr/lib/postgresql/15/bin
export DEBIAN_FRONTEND=noninteractive
export RAIL_TEMPLATE_DB=${RAIL_TEMPLATE_DB:-rail_template}

if [ $# -eq 0 ]; then
  echo "usage: bash scripts/test-services.sh <command...>" >&2
  exit 2
fi

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1fs", b-a}'; }
log() { echo "[test-services] $*"; }
die() { echo "[test-services] error: $*" >&2; exit 1; }

# Node 20 is enough for this; it is only used to find free ports and to create the template database.
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

PGBASE="" RBASE="" RPORT="" CHILD="" VBUILD="" START_PG=0 START_REDIS=0
[ -z "${DATABASE_URL:-}" ] && START_PG=1
[ -z "${REDIS_URL:-}" ] && START_REDIS=1

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$VBUILD" ] && rm -rf "$VBUILD"
  # A cancelled run must not leave the command behind either.
  if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then kill -TERM "$CHILD" 2>/dev/null || true; wait "$CHILD" 2>/dev/null || true; fi
  if [ -n "$PGBASE" ]; then
    if [ -f "$PGBASE/data/postmaster.pid" ]; then
      ( cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGBASE/data" -m immediate -w -t 30 -s stop ) >/dev/null 2>&1 || true
    fi
    rm -rf "$PGBASE"
  fi
  if [ -n "$RBASE" ]; then
    if [ -n "$RPORT" ]; then redis-cli -h 127.0.0.1 -p "$RPORT" shutdown nosave >/dev/null 2>&1 || true; fi
    # shutdown can be refused (e.g. the server is still loading); never leave the daemon running.
    if [ -f "$RBASE/redis.pid" ]; then kill -KILL "$(cat "$RBASE/redis.pid")" 2>/dev/null || true; fi
    rm -rf "$RBASE"
  fi
  exit "$rc"
}
on_signal() { # $1 = exit code (128+signo)
  if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null || true; wait "$CHILD" 2>/dev/null || true; fi
  exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

T_START=$(now)

# ---------------------------------------------------------------- 1. packages
ensure_packages() {
  local need=()
  if [ "$START_PG" = 1 ]; then
    [ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] && [ -x "$PGBIN/postgres" ] || need+=(postgresql-15)
    id postgres >/dev/null 2>&1 || need+=(postgresql-15)
    if [ ! -f /usr/share/postgresql/15/extension/vector.control ]; then
      [ -x "$PGBIN/pg_config" ] && [ -f /usr/include/postgresql/15/server/postgres.h ] || need+=(postgresql-server-dev-15)
      command -v make >/dev/null || need+=(make)
      command -v gcc >/dev/null || need+=(gcc)
    fi
  fi
  if [ "$START_REDIS" = 1 ]; then
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null || need+=(redis-server)
  fi
  if [ ${#need[@]} -eq 0 ]; then log "packages: already installed"; return; fi
  [ "$(id -u)" = 0 ] || die "missing ${need[*]} and not root: install them, or set DATABASE_URL and REDIS_URL to existing servers"
  command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get: set DATABASE_URL and REDIS_URL to existing servers"
  log "installing ${need[*]} (apt)"
  # Wait for a concurrent apt/dpkg (e.g. unattended-upgrades on a fresh VM) instead of failing at once.
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  # services must not auto-start (policy-rc.d usually prevents it in containers; we start our own instances anyway)
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

debian_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1=="deb" && $0 ~ /debian/ && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

# pgvector is not packaged for bookworm: build the source package of Debian trixie against PG15, using a private apt
# index in a temp dir so the system's apt configuration is never touched.
ensure_pgvector() {
  if [ -f /usr/share/postgresql/15/extension/vector.control ]; then log "pgvector: already installed"; return; fi
  [ "$(id -u)" = 0 ] || die "pgvector is not installed and building it needs root"
  VBUILD=$(mktemp -d /tmp/pgvector-build.XXXXXX)
  local w=$VBUILD
  mkdir -p "$w/lists/partial" "$w/cache/archives/partial"
  echo "deb-src $(debian_mirror) trixie main" > "$w/sources.list"
  local aptx=(-o APT::Sandbox::User=root -o Dir::Etc::SourceList="$w/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o Dir::State::Lists="$w/lists" -o Dir::Cache="$w/cache")
  log "pgvector: building from Debian trixie's source package"
  apt-get "${aptx[@]}" update -qq || die "could not fetch trixie's source index"
  ( cd "$w" && apt-get "${aptx[@]}" source --download-only -qq pgvector >/dev/null ) || die "apt-get source pgvector failed"
  tar -xzf "$w"/pgvector_*.orig.tar.gz -C "$w"
  local src; src=$(find "$w" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
  # OPTFLAGS="" drops -march=native (like Debian's own no-native patch); with_llvm=no skips JIT bitcode (needs clang).
  make -s -C "$src" -j"$(nproc)" PG_CONFIG="$PGBIN/pg_config" OPTFLAGS="" with_llvm=no >/dev/null
  make -s -C "$src" install PG_CONFIG="$PGBIN/pg_config" OPTFLAGS="" with_llvm=no >/dev/null
  rm -rf "$w"; VBUILD=""
  [ -f /usr/share/postgresql/15/extension/vector.control ] || die "pgvector build finished but vector.control is missing"
}

T0=$(now)
ensure_packages
T_APT=$(elapsed "$T0")
T0=$(now)
[ "$START_PG" = 1 ] && ensure_pgvector
T_VECTOR=$(elapsed "$T0")

# ---------------------------------------------------------------- 2. PostgreSQL
start_postgres() {
  PGBASE=$(mktemp -d /tmp/rail-pg.XXXXXX)
  chown postgres:postgres "$PGBASE"
  # initdb refuses to run as root; `cd /` because postgres cannot read root's cwd.
  ( cd / && runuser -u postgres -- "$PGBIN/initdb" -D "$PGBASE/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      --no-sync >"$PGBASE/initdb.log" 2>&1 ) || { cat "$PGBASE/initdb.log" >&2; die "initdb failed"; }
  local attempt port
  for attempt in 1 2 3; do
    port=$(free_port)
    # Throwaway data: durability off. Loopback only; the unix socket lives in the temp dir.
    if ( cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGBASE/data" -l "$PGBASE/server.log" -w -t 60 -s \
          -o "-c listen_addresses=127.0.0.1 -p $port -k $PGBASE -c fsync=off -c synchronous_commit=off \
              -c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB" start ); then
      export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=postgres
      export DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
      return
    fi
    log "postgres did not start on port $port (attempt $attempt); retrying"   # the free-port probe can race
  done
  cat "$PGBASE/server.log" >&2
  die "postgres failed to start"
}

T0=$(now)
if [ "$START_PG" = 1 ]; then start_postgres; else log "postgres: using the given DATABASE_URL"; fi

# The template database: CREATE DATABASE … TEMPLATE rail_template is a cheap file copy, so every test file gets its
# own database with `vector` already installed. Idempotent, safe when several runs share one server.
( cd "$ROOT" && [ -d node_modules/pg ] ) || die "node_modules/pg is missing: run 'npm ci' first"
( cd "$ROOT" && node --input-type=module -e '
import pg from "pg";
const url = process.env.DATABASE_URL, name = process.env.RAIL_TEMPLATE_DB;
if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`RAIL_TEMPLATE_DB must be a plain identifier, got ${name}`);
const admin = new pg.Client({ connectionString: url });
await admin.connect();
const { rows } = await admin.query("SELECT current_setting($1) AS v", ["server_version_num"]);
if (Number(rows[0].v) < 150000) console.warn(`[test-services] warning: server is PostgreSQL ${rows[0].v}, tests expect 15`);
try { await admin.query(`CREATE DATABASE ${name}`); }
catch (e) { if (e.code !== "42P04" && e.code !== "23505") throw e; }   // already exists (or created concurrently)
const target = new URL(url); target.pathname = "/" + name;
const tpl = new pg.Client({ connectionString: target.toString() });
await tpl.connect();
try { await tpl.query("CREATE EXTENSION IF NOT EXISTS vector"); }
catch (e) { if (e.code !== "23505" && e.code !== "42710") throw new Error(`CREATE EXTENSION vector failed in ${name}: ${e.message}`); }
const v = await tpl.query("SELECT extversion FROM pg_extension WHERE extname = $1", ["vector"]);
await tpl.end();
await admin.query(`ALTER DATABASE ${name} IS_TEMPLATE true`);
await admin.end();
console.log(`[test-services] template database ${name}: pgvector ${v.rows[0].extversion}`);
' ) || die "could not prepare the template database"
T_PG=$(elapsed "$T0")

# ---------------------------------------------------------------- 3. Redis
T0=$(now)
if [ "$START_REDIS" = 1 ]; then
  RBASE=$(mktemp -d /tmp/rail-redis.XXXXXX)
  started=0
  for attempt in 1 2 3; do
    RPORT=$(free_port)
    if redis-server --bind 127.0.0.1 --port "$RPORT" --save '' --appendonly no --dir "$RBASE" \
         --daemonize yes --pidfile "$RBASE/redis.pid" --logfile "$RBASE/redis.log" --maxclients 1000; then
      for _ in $(seq 200); do
        [ "$(redis-cli -h 127.0.0.1 -p "$RPORT" ping 2>/dev/null)" = PONG ] && { started=1; break; }
        sleep 0.05
      done
    fi
    [ "$started" = 1 ] && break
    log "redis did not answer on port $RPORT (attempt $attempt); retrying"
    [ -f "$RBASE/redis.pid" ] && kill -KILL "$(cat "$RBASE/redis.pid")" 2>/dev/null || true
  done
  [ "$started" = 1 ] || { cat "$RBASE/redis.log" >&2; die "redis failed to start"; }
  export REDIS_URL="redis://127.0.0.1:$RPORT"
else
  log "redis: using the given REDIS_URL"
fi
T_REDIS=$(elapsed "$T0")

log "timings: packages $T_APT, pgvector $T_VECTOR, postgres $T_PG, redis $T_REDIS, total $(elapsed "$T_START")"
# never print a password that came with a given URL
redact() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#'; }
log "DATABASE_URL=$(redact <<<"$DATABASE_URL") REDIS_URL=$(redact <<<"$REDIS_URL") RAIL_TEMPLATE_DB=$RAIL_TEMPLATE_DB"

# ---------------------------------------------------------------- 4. the command
# Run in the background and `wait`, so a SIGTERM/SIGINT to this script is handled at once (bash defers traps while a
# foreground child runs). `<&0` keeps stdin attached (background jobs otherwise get /dev/null).
"$@" <&0 &
CHILD=$!
rc=0
wait "$CHILD" || rc=$?
CHILD=""
exit "$rc"

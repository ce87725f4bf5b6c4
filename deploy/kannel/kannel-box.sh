#!/bin/sh
# kannel-box bearerbox|smsbox|render: renders kannel.conf and the operators' smsc groups from the environment,
# then runs the box (exec: it gets docker's SIGTERM). An operator whose <NAME>_SMPP_HOST is empty is left out
# (smsc/<name>.conf, no bind). Every ${VARIABLE} a file names must be set and not empty (a *_SYSTEM_TYPE may be
# empty), without a double quote or a newline: a bad value stops here, naming it, not as a bearerbox panic.
# `render` only writes the files (tests/deploy/kannel-conf.test.ts runs it with a real bearerbox).
set -eu
umask 077
templates=${KANNEL_CONF_TEMPLATES:-/etc/kannel/safeline}
out=${KANNEL_CONF_DIR:-/run/kannel}
box=${1:-}

fail() {
  echo "kannel-box: $*" >&2
  exit 78
}

# render FILE: FILE with each ${NAME} outside comments replaced by its value.
render() {
  names=$(grep -v '^[[:space:]]*#' "$1" | grep -o '\${[A-Z][A-Z0-9_]*}' | tr -d '${}' | sort -u)
  for name in $names; do
    eval "given=\${$name+set} value=\${$name-}"
    [ -n "$given" ] || fail "$name is not set (used by $(basename "$1"))"
    case $name in *_SYSTEM_TYPE) ;; *) [ -n "$value" ] || fail "$name is empty (used by $(basename "$1"))" ;; esac
    case $value in *'"'* | *'
'*) fail "$name must not contain a double quote or a newline" ;; esac
  done
  # Only these names: Kannel's own escapes (%p, %a...) and anything else stay as written.
  envsubst "$(printf '${%s} ' $names)" <"$1"
}

case $box in bearerbox | smsbox | render) ;; *) fail "usage: kannel-box bearerbox|smsbox|render" ;; esac
case ${SMS_CALLBACK_TOKEN:-} in
*[!A-Za-z0-9._~-]*) fail "SMS_CALLBACK_TOKEN: letters, digits, '.', '_', '~' or '-' only (it goes in a URL)" ;;
esac

mkdir -p "$out/smsc"
rm -f "$out"/smsc/*.conf
render "$templates/kannel.conf" >"$out/kannel.conf"
for file in "$templates"/smsc/*.conf; do
  operator=$(basename "$file" .conf)
  host=$(echo "$operator" | tr 'a-z-' 'A-Z_')_SMPP_HOST
  eval "value=\${$host-}"
  if [ -z "$value" ]; then
    echo "kannel-box: $host is empty: no $operator bind" >&2
    continue
  fi
  render "$file" >"$out/smsc/$operator.conf"
done

[ "$box" = render ] && exit 0
# -v 4: the console shows panics only (at debug it carries numbers, texts and bind passwords); the log files
# are at log-level 3 (kannel.conf).
exec "$box" -v 4 "$out/kannel.conf"

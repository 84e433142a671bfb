# shellcheck shell=bash
# Shared by scripts/test-windows and scripts/test-packages (source it; it
# only defines functions): where wine64 is, and a throw-away OpenSSH sshd on
# a free loopback port with its own host key, user key and config, so a test
# never touches /etc/ssh, ~/.ssh or a running system sshd.

# Prints the wine64 loader. Debian's wine64 package puts it in
# /usr/lib/wine, off PATH (`wine`, package wine, is the wrapper).
find_wine64() {
  local wine
  wine=$(command -v wine64 || true)
  if [[ -z $wine && -x /usr/lib/wine/wine64 ]]; then wine=/usr/lib/wine/wine64; fi
  [[ -n $wine ]] || return 1
  printf '%s\n' "$wine"
}

# start_test_sshd DIR: writes DIR/ssh_host_ed25519_key, the user key
# DIR/id_ed25519 (authorized for every user, root included), DIR/sshd_config
# and DIR/known_hosts (the host key pinned for 127.0.0.1 and localhost on
# the port), starts sshd in the foreground of a background job logging to
# DIR/sshd.log, and waits until it accepts connections. Sets sshd_pid and
# sshd_port. Returns non-zero (with sshd's log on stderr) if sshd fails.
start_test_sshd() {
  local dir=$1
  [[ -x /usr/sbin/sshd ]] || { echo "/usr/sbin/sshd is missing" >&2; return 1; }
  ssh-keygen -q -N '' -t ed25519 -C limactl-test-host -f "$dir/ssh_host_ed25519_key" || return 1
  ssh-keygen -q -N '' -t ed25519 -C limactl-test-client -f "$dir/id_ed25519" || return 1
  cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
  sshd_port=$(free_port) ||
    return 1
  local host_key
  host_key=$(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")
  printf '[127.0.0.1]:%s,[localhost]:%s %s\n' "$sshd_port" "$sshd_port" "$host_key" > "$dir/known_hosts"
  mkdir -p /run/sshd
  cat > "$dir/sshd_config" <<CONFIG
Port $sshd_port
ListenAddress 127.0.0.1
HostKey $dir/ssh_host_ed25519_key
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin yes
StrictModes no
UsePAM no
Subsystem sftp /usr/lib/openssh/sftp-server
PidFile $dir/sshd.pid
LogLevel VERBOSE
CONFIG
  /usr/sbin/sshd -D -E "$dir/sshd.log" -f "$dir/sshd_config" &
  sshd_pid=$!
  local _
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$sshd_port") 2>/dev/null; then return 0; fi
    if ! kill -0 "$sshd_pid" 2>/dev/null; then
      cat "$dir/sshd.log" >&2
      echo "sshd exited" >&2
      return 1
    fi
    sleep 0.1
  done
  cat "$dir/sshd.log" >&2
  echo "sshd did not accept connections on 127.0.0.1:$sshd_port within 10 s" >&2
  return 1
}

# Stops the sshd that start_test_sshd started, if it runs: TERM, then KILL
# after 5 s.
stop_test_sshd() {
  if [[ -n ${sshd_pid:-} ]] && kill -0 "$sshd_pid" 2>/dev/null; then
    kill -TERM "$sshd_pid" 2>/dev/null || true
    local _
    for _ in $(seq 50); do kill -0 "$sshd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$sshd_pid" 2>/dev/null || true
  fi
  sshd_pid=
}

# Windows spelling of a Linux path: wine maps / to drive Z:.
# A TCP port nothing listens on right now, on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

windows_path() { printf 'Z:%s' "${1//\//\\}"; }

# shellcheck shell=bash
# Host-side helpers shared by make-initramfs, run-in-vm and run-tier.
# Sourced, not executed. Everything here acts only on the qemu process and
# the work directory that the caller created; nothing on the host is
# changed otherwise.

# The guest mounts the work share here (see guest-init).
# shellcheck disable=SC2034 # used by the scripts that source this file
VM_GUEST_WORK=/run/berth-vm/work

vm_log() { echo "${VM_LOG_PREFIX:-berth-vm}: $*" >&2; }

# Scripts sourcing this run with set -e; say where one stopped.
trap 'vm_log "internal error: \"$BASH_COMMAND\" failed (line $LINENO)"' ERR
vm_die() {
  vm_log "error: $*"
  exit "${VM_DIE_CODE:-1}"
}

# Exit code for a missing prerequisite (qemu, kernel, busybox-static): 77
# (skipped) on a developer machine, a failure in CI, where nothing may skip.
vm_prereq_code() {
  case ${CI:-} in
    "" | 0 | false) echo 77 ;;
    *) echo 1 ;;
  esac
}

vm_missing() {
  vm_log "error: $*"
  exit "$(vm_prereq_code)"
}

# vm_find_kernel: prints the kernel image to boot: $BERTH_VM_KERNEL, or the
# newest /boot/vmlinuz-<ver> that has modules in /lib/modules/<ver>.
vm_find_kernel() {
  if [ -n "${BERTH_VM_KERNEL:-}" ]; then
    [ -r "$BERTH_VM_KERNEL" ] || { vm_log "error: BERTH_VM_KERNEL=$BERTH_VM_KERNEL is not readable"; return 1; }
    echo "$BERTH_VM_KERNEL"
    return 0
  fi
  local k ver
  # shellcheck disable=SC2012 # names are vmlinuz-<version>, no odd characters
  for k in $(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -rV); do
    ver=${k#/boot/vmlinuz-}
    if [ -r "$k" ] && [ -d "/lib/modules/$ver/kernel" ]; then
      echo "$k"
      return 0
    fi
  done
  vm_log "error: no bootable kernel: need /boot/vmlinuz-<ver> and /lib/modules/<ver>" \
    "(Debian package linux-image-amd64), or set BERTH_VM_KERNEL"
  return 1
}

vm_kernel_version() {
  local base
  base=$(basename "$1")
  echo "${base#vmlinuz-}"
}

# vm_find_qemu: prints the qemu binary ($BERTH_VM_QEMU or qemu-system-x86_64).
vm_find_qemu() {
  local q=${BERTH_VM_QEMU:-qemu-system-x86_64}
  if ! command -v "$q" >/dev/null 2>&1; then
    vm_log "error: $q not found (Debian package qemu-system-x86), or set BERTH_VM_QEMU"
    return 1
  fi
  command -v "$q"
}

# vm_elf_has_interp FILE: succeeds when FILE is a dynamically linked ELF
# (it has a PT_INTERP program header). Reads the ELF64 header with od, so no
# binutils are needed.
vm_elf_has_interp() {
  local f=$1 phoff phentsize phnum i type
  [ "$(od -An -c -N4 "$f" | tr -d ' ')" = '177ELF' ] || return 1
  phoff=$(od -An -t u8 -j 32 -N 8 "$f" | tr -d ' ')
  phentsize=$(od -An -t u2 -j 54 -N 2 "$f" | tr -d ' ')
  phnum=$(od -An -t u2 -j 56 -N 2 "$f" | tr -d ' ')
  for ((i = 0; i < phnum; i++)); do
    type=$(od -An -t u4 -j $((phoff + i * phentsize)) -N 4 "$f" | tr -d ' ')
    [ "$type" = 3 ] && return 0
  done
  return 1
}

# vm_require_static_busybox PATH: dies unless PATH is a statically linked
# busybox (Debian's busybox-static; plain "busybox" is dynamic and cannot
# run in the initramfs or in a rootfs without libc).
vm_require_static_busybox() {
  local bb=$1
  if [ ! -x "$bb" ]; then
    vm_missing "$bb not found: install the Debian package busybox-static"
  fi
  if vm_elf_has_interp "$(readlink -f "$bb")"; then
    vm_missing "$bb is dynamically linked: install the Debian package busybox-static"
  fi
}

# vm_quote ARG: prints ARG quoted for a POSIX shell (busybox ash reads run.sh).
vm_quote() {
  local s=${1//\'/\'\\\'\'}
  printf "'%s'" "$s"
}

# vm_quote_all ARGS...: prints all ARGS quoted, space separated.
vm_quote_all() {
  local a out=""
  for a in "$@"; do out+="$(vm_quote "$a") "; done
  printf '%s' "${out% }"
}

# vm_env_line NAME VALUE: an export statement for run.sh.
vm_env_line() { printf 'export %s=%s\n' "$1" "$(vm_quote "$2")"; }

# vm_forward_env [SKIP...]: export statements for the host variables a
# guest command should see: CI, BERTH_* (except the harness's own BERTH_VM_*
# knobs) and GTEST_*, minus the names in SKIP.
vm_forward_env() {
  local name skip=" $* "
  while IFS= read -r name; do
    [[ $skip == *" $name "* ]] && continue
    case $name in
      BERTH_VM_*) continue ;;
      CI | BERTH_* | GTEST_*) vm_env_line "$name" "${!name}" ;;
    esac
  done < <(compgen -e | sort)
}

VM_QEMU_PID=""
VM_FOLLOW_PID=""

# vm_stop_qemu: stops the qemu this script started (by pid), politely first.
vm_stop_qemu() {
  local i
  if [ -n "$VM_QEMU_PID" ] && kill -0 "$VM_QEMU_PID" 2>/dev/null; then
    kill -TERM "$VM_QEMU_PID" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$VM_QEMU_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$VM_QEMU_PID" 2>/dev/null || true
  fi
  if [ -n "$VM_QEMU_PID" ]; then wait "$VM_QEMU_PID" 2>/dev/null || true; fi
  VM_QEMU_PID=""
  if [ -n "$VM_FOLLOW_PID" ]; then
    # The follower ends by itself once qemu is gone (tail --pid); wait for it
    # so the last console lines are printed before the summary.
    wait "$VM_FOLLOW_PID" 2>/dev/null || true
    VM_FOLLOW_PID=""
  fi
}

# vm_follow_console FILE MODE: prints the guest console while qemu runs, in
# the background. MODE: all (every line, to stderr), progress (only the
# guest's "berth-vm:" lines, to stderr), live (progress lines to stderr, all
# other lines, i.e. a --tee job's output, to stdout), none.
vm_follow_console() {
  local file=$1 mode=$2
  [ "$mode" = none ] && return 0
  (
    tail -n +1 -F --pid="$VM_QEMU_PID" "$file" 2>/dev/null | while IFS= read -r line; do
      line=${line%$'\r'}
      case $mode in
        all) printf '%s\n' "$line" >&2 ;;
        progress) if [[ $line == berth-vm:* ]]; then printf '%s\n' "$line" >&2; fi ;;
        live)
          # The guest's progress and kernel messages ("[   3.52] ...") go to
          # stderr, the command's output to stdout.
          if [[ $line == berth-vm:* || $line =~ ^\[\ *[0-9]+\.[0-9]+\]\  ]]; then
            printf '%s\n' "$line" >&2
          else
            printf '%s\n' "$line"
          fi
          ;;
      esac
    done
  ) &
  VM_FOLLOW_PID=$!
}

# vm_now_ms: wall clock in milliseconds, without forking (bash 5).
vm_now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  echo $((t / 1000))
}

# vm_seconds MS: "12.3".
vm_seconds() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }

# vm_boot WORKDIR KERNEL INITRAMFS TIMEOUT CONSOLE_MODE
#
# Boots the guest with WORKDIR as the writable "results" share (it must hold
# run.sh) and waits until it powers off, TIMEOUT seconds pass, or it fails to
# boot within $BERTH_VM_BOOT_TIMEOUT (default 180) seconds. The console goes
# to WORKDIR/console.log, qemu's own messages to WORKDIR/qemu.log. Returns 0
# when the guest finished (WORKDIR/done exists), 1 otherwise; sets
# VM_END_STATE (finished, died, timeout, boot-timeout, or stalled: the
# guest's heartbeat file went $BERTH_VM_STALL_SECONDS, default 120, without
# a write), VM_BOOT_SECONDS
# (host wall clock until the guest reported "booted") and VM_ELAPSED_SECONDS.
vm_boot() {
  local work=$1 kernel=$2 initramfs=$3 timeout=$4 console_mode=$5
  local qemu boot_timeout=${BERTH_VM_BOOT_TIMEOUT:-180} start
  qemu=$(vm_find_qemu) || exit "$(vm_prereq_code)"
  [ -r "$kernel" ] || vm_missing "kernel $kernel not readable"
  [ -r "$initramfs" ] || vm_die "initramfs $initramfs not found"

  local -a args=(
    -nodefaults -no-user-config -display none -no-reboot
    -accel tcg -cpu max -smp "${BERTH_VM_SMP:-2}" -m "${BERTH_VM_MEMORY:-2G}"
    -kernel "$kernel" -initrd "$initramfs"
    -append "console=ttyS0 quiet panic=-1 cgroup_no_v1=all mitigations=off berth.vm=1"
    -serial "file:$work/console.log"
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
    -virtfs "local,path=$work,mount_tag=results,security_model=none"
  )
  : >"$work/console.log"
  rm -f "$work/booted" "$work/done" "$work/fatal" "$work/heartbeat"
  start=$(vm_now_ms)
  "$qemu" "${args[@]}" </dev/null >"$work/qemu.log" 2>&1 &
  VM_QEMU_PID=$!
  vm_follow_console "$work/console.log" "$console_mode"

  VM_BOOT_SECONDS=""
  VM_END_STATE=""
  local state=running elapsed beat_checked=0 stall=${BERTH_VM_STALL_SECONDS:-120}
  while kill -0 "$VM_QEMU_PID" 2>/dev/null; do
    elapsed=$(($(vm_now_ms) - start))
    if [ -z "$VM_BOOT_SECONDS" ]; then
      if [ -f "$work/booted" ]; then
        VM_BOOT_SECONDS=$(vm_seconds "$elapsed")
      elif ((elapsed > boot_timeout * 1000)); then
        state=boot-timeout
        break
      fi
    elif ((elapsed - beat_checked > 5000)) && [ -f "$work/heartbeat" ]; then
      # The guest writes its heartbeat every 5 s of its own time.
      beat_checked=$elapsed
      if ((EPOCHSECONDS - $(stat -c %Y "$work/heartbeat") > stall)); then
        state=stalled
        break
      fi
    fi
    if ((elapsed > timeout * 1000)); then
      state=timeout
      break
    fi
    sleep 0.2
  done
  vm_stop_qemu
  VM_ELAPSED_SECONDS=$(vm_seconds $(($(vm_now_ms) - start)))

  case $state in
    boot-timeout) vm_log "error: guest did not boot within ${boot_timeout}s" ;;
    timeout) vm_log "error: guest still running after ${timeout}s; stopped it" ;;
    stalled) vm_log "error: no heartbeat from the guest for over ${stall}s (it stalled as a whole); stopped it" ;;
  esac
  if [ -f "$work/fatal" ]; then
    vm_log "error: guest init failed: $(cat "$work/fatal")"
  fi
  if [ "$state" = running ] && [ -f "$work/done" ]; then
    VM_END_STATE=finished
    return 0
  fi
  if [ "$state" = running ]; then
    state=died
    vm_log "error: the guest died before finishing its jobs"
  fi
  VM_END_STATE=$state
  vm_dump_diagnostics "$work"
  return 1
}

# vm_dump_diagnostics WORKDIR: the tail of the console and qemu's messages,
# printed when the guest died, hung or could not start.
vm_dump_diagnostics() {
  local work=$1
  if [ -s "$work/qemu.log" ]; then
    vm_log "qemu said:"
    sed 's/^/  | /' "$work/qemu.log" >&2
  fi
  if [ -s "$work/console.log" ]; then
    vm_log "last lines of the guest console:"
    tail -n 40 "$work/console.log" | tr -d '\r' | sed 's/^/  | /' >&2
  else
    vm_log "the guest console is empty"
  fi
}

# vm_make_workdir: a fresh host temp dir for one guest run (the "results"
# share), printed. The caller removes it (vm_cleanup).
vm_make_workdir() {
  mktemp -d "${TMPDIR:-/tmp}/berth-vm.XXXXXX"
}

# vm_initramfs_for KERNEL WORKDIR: prints an initramfs for KERNEL:
# $BERTH_VM_INITRAMFS when set, else one built into WORKDIR (takes ~1 s).
vm_initramfs_for() {
  local kernel=$1 work=$2 here
  if [ -n "${BERTH_VM_INITRAMFS:-}" ]; then
    echo "$BERTH_VM_INITRAMFS"
    return 0
  fi
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  "$here/make-initramfs" --kernel-version "$(vm_kernel_version "$kernel")" \
    "$work/initramfs.cpio" || return 1
  echo "$work/initramfs.cpio"
}

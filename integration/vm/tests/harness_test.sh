#!/bin/bash
# vm_harness_test (label unit): the vm harness's host-side logic, without
# booting a guest: quoting of commands for the guest's shell, the initramfs
# contents, run-tier's argument errors, and shell syntax/lint.
#
#   harness_test.sh SOURCE_DIR
set -euo pipefail

src=${1:?usage: harness_test.sh SOURCE_DIR}
vm=$src/integration/vm
# shellcheck source-path=SCRIPTDIR source=../vm-lib.sh
. "$vm/vm-lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-vm-harness.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0

check() { # NAME COMMAND...
  local name=$1
  shift
  if "$@"; then
    echo "ok   $name"
  else
    echo "FAIL $name"
    failures=$((failures + 1))
  fi
}

# --- vm_quote: what run-in-vm writes, busybox ash must read back verbatim --
quote_roundtrip() {
  # shellcheck disable=SC2016 # literal $ and backquotes are the point
  local -a args=("plain" "two words" "it's" "\"dq\"" '$HOME' '`id`' 'back\slash' 'a;b|c&d'
    $'new\nline' "" "*" "--gtest_filter=*Foo*:-*Bar*")
  # shellcheck disable=SC2016 # a script for the guest shell, verbatim
  printf '%s\n' 'for a in "$@"; do printf "<%s>\n" "$a"; done' >"$tmp/print.sh"
  printf 'set -- %s\n. %s\n' "$(vm_quote_all "${args[@]}")" "$(vm_quote "$tmp/print.sh")" \
    >"$tmp/run.sh"
  local expected got
  expected=$(printf '<%s>\n' "${args[@]}")
  got=$(busybox sh "$tmp/run.sh")
  [ "$expected" = "$got" ] || { diff <(echo "$expected") <(echo "$got") >&2; return 1; }
}
if [ -x /bin/busybox ]; then
  check "vm_quote round-trips through busybox sh" quote_roundtrip
fi

env_line_roundtrip() {
  local value=$'x y \'z\' $HOME\n2'
  vm_env_line BERTH_T "$value" >"$tmp/env.sh"
  [ "$(busybox sh -c ". $tmp/env.sh; printf %s \"\$BERTH_T\"")" = "$value" ]
}
if [ -x /bin/busybox ]; then
  check "vm_env_line exports the exact value" env_line_roundtrip
fi

forward_env() {
  local out
  out=$(CI=yes BERTH_X=1 BERTH_VM_FILTER=no GTEST_FILTER='*' UNRELATED=1 vm_forward_env BERTH_X)
  [[ $out == *"export CI='yes'"* && $out == *"export GTEST_FILTER='*'"* ]] &&
    [[ $out != *BERTH_X* && $out != *BERTH_VM_FILTER* && $out != *UNRELATED* ]]
}
check "vm_forward_env forwards CI/BERTH_*/GTEST_* minus skips" forward_env

elf_interp() {
  vm_elf_has_interp /bin/sh && ! { [ -x /bin/busybox ] && vm_elf_has_interp /bin/busybox; }
}
check "vm_elf_has_interp tells dynamic from static" elf_interp

# --- the initramfs ---------------------------------------------------------
initramfs_contents() {
  "$vm/make-initramfs" "$tmp/initramfs.cpio" || return 1
  local list
  list=$(cpio -it --quiet <"$tmp/initramfs.cpio")
  local want
  for want in init bin/busybox bin/sh kernel-version modules/order modules/9p.ko \
    modules/overlay.ko modules/virtio_pci.ko; do
    grep -qx "$want" <<<"$list" || { echo "missing $want" >&2; return 1; }
  done
  # Rebuilding gives the same bytes (sorted names, fixed mtimes).
  "$vm/make-initramfs" "$tmp/again.cpio" && cmp -s "$tmp/initramfs.cpio" "$tmp/again.cpio"
}
if "$vm/make-initramfs" --check 2>/dev/null; then
  check "make-initramfs: contents and reproducibility" initramfs_contents
else
  echo "skip make-initramfs (no kernel modules or busybox-static)"
fi

# --- run-tier fails early and clearly, without booting ------------------------
tier_errors() {
  local out
  printf '%s\n' "$tmp/not-built-test" >"$tmp/list"
  out=$("$vm/run-tier" --list "$tmp/list" --binary-dir "$tmp" --source-dir "$src" 2>&1) && return 1
  [[ $out == *"is not built"* ]] || { echo "$out" >&2; return 1; }
  printf '#!/bin/sh\n' >"$tmp/some_test" && chmod +x "$tmp/some_test"
  printf '%s\n' "$tmp/some_test" >"$tmp/list"
  out=$(BERTH_VM_FILTER=nomatch "$vm/run-tier" --list "$tmp/list" --binary-dir "$tmp" \
    --source-dir "$src" 2>&1) && return 1
  [[ $out == *"matches none of: some_test"* ]] || { echo "$out" >&2; return 1; }
}
check "run-tier: unbuilt binary and empty filter are errors" tier_errors

run_in_vm_errors() {
  local out rc=0
  out=$("$vm/run-in-vm" -C /run true 2>&1) || rc=$?
  if [ "$rc" != 125 ] || [[ $out != *"not visible there"* ]]; then
    echo "$rc $out" >&2
    return 1
  fi
  rc=0
  out=$(CI='' BERTH_VM_QEMU=/nonexistent/qemu "$vm/run-in-vm" -C / true 2>&1) || rc=$?
  if [ "$rc" != 77 ] || [[ $out != *"qemu-system-x86"* ]]; then
    echo "$rc $out" >&2
    return 1
  fi
}
check "run-in-vm: bad cwd and missing qemu are reported" run_in_vm_errors

# --- vm_boot and the guest's heartbeat, with a stand-in for qemu ------------
# The stand-in finds the results share among its arguments as qemu would,
# says "booted", then beats every second for BEATS seconds (then stops as a
# stalled guest does) or until DONE_AFTER seconds, when it finishes.
fake_qemu() {
  cat >"$tmp/fake-qemu" <<'FAKE'
#!/bin/bash
for a in "$@"; do
  if [[ $a == local,path=*,mount_tag=results,* ]]; then work=${a#local,path=}; work=${work%%,*}; fi
done
echo 1 >"$work/booted"
for ((i = 0; i < ${BEATS:-1000}; i++)); do
  echo "$i" >"$work/heartbeat"
  if ((i >= ${DONE_AFTER:-1000})); then echo "$i" >"$work/done"; exit 0; fi
  sleep 1
done
exec sleep 1000
FAKE
  chmod +x "$tmp/fake-qemu"
}

boot_fake() { # BEATS DONE_AFTER: runs vm_boot on the stand-in, sets VM_END_STATE
  mkdir -p "$tmp/guest"
  BEATS=$1 DONE_AFTER=$2 BERTH_VM_QEMU=$tmp/fake-qemu BERTH_VM_STALL_SECONDS=2 \
    vm_boot "$tmp/guest" /dev/null /dev/null 60 none 2>"$tmp/boot.log" || true
}

heartbeat_stall() {
  fake_qemu
  boot_fake 1 1000
  if ! { [ "$VM_END_STATE" = stalled ] && grep -q "no heartbeat from the guest" "$tmp/boot.log"; }; then
    echo "state $VM_END_STATE" >&2
    cat "$tmp/boot.log" >&2
    return 1
  fi
}
check "vm_boot stops a guest whose heartbeat stops" heartbeat_stall

heartbeat_alive() {
  fake_qemu
  boot_fake 1000 8
  [ "$VM_END_STATE" = finished ] || {
    echo "state $VM_END_STATE" >&2
    cat "$tmp/boot.log" >&2
    return 1
  }
}
check "vm_boot waits for a guest that keeps beating" heartbeat_alive

# --- syntax and lint -------------------------------------------------------
syntax() {
  local f
  for f in run-in-vm run-tier make-initramfs vm-lib.sh; do bash -n "$vm/$f" || return 1; done
  if [ -x /bin/busybox ]; then busybox sh -n "$vm/guest-init" || return 1; fi
}
check "scripts parse (bash -n, busybox sh -n)" syntax

if command -v shellcheck >/dev/null; then
  lint() {
    (cd "$src" && shellcheck -x integration/vm/run-in-vm integration/vm/run-tier \
      integration/vm/make-initramfs integration/vm/vm-lib.sh integration/vm/tests/harness_test.sh \
      integration/fixtures/make-busybox-rootfs) &&
      shellcheck -s sh "$vm/guest-init"
  }
  check "shellcheck is clean" lint
else
  echo "skip shellcheck (not installed)"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"

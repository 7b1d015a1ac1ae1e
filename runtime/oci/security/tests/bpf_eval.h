#pragma once
// A small classic-BPF interpreter over struct seccomp_data, enough for the
// programs libseccomp and our ENOSYS stub emit, so unit tests can check what
// a compiled filter answers without loading it.

#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace berth::runtime::security::testing {

inline seccomp_data SyscallData(uint32_t arch, int nr, std::vector<uint64_t> args = {}) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = arch;
  for (size_t i = 0; i < args.size() && i < 6; ++i)
    d.args[i] = args[i];
  return d;
}

inline uint32_t Jump(const sock_filter& f, uint32_t a, uint32_t x) {
  uint32_t k = BPF_SRC(f.code) == BPF_X ? x : f.k;
  switch (BPF_OP(f.code)) {
    case BPF_JEQ:
      return a == k ? f.jt : f.jf;
    case BPF_JGT:
      return a > k ? f.jt : f.jf;
    case BPF_JGE:
      return a >= k ? f.jt : f.jf;
    case BPF_JSET:
      return (a & k) ? f.jt : f.jf;
  }
  ADD_FAILURE() << "bpf_eval: jump op " << f.code;
  return 0;
}

inline bool Alu(const sock_filter& f, uint32_t* a, uint32_t x) {
  uint32_t k = BPF_SRC(f.code) == BPF_X ? x : f.k;
  switch (BPF_OP(f.code)) {
    case BPF_AND:
      *a &= k;
      return true;
    case BPF_OR:
      *a |= k;
      return true;
    case BPF_ADD:
      *a += k;
      return true;
    case BPF_SUB:
      *a -= k;
      return true;
    case BPF_LSH:
      *a <<= k;
      return true;
    case BPF_RSH:
      *a >>= k;
      return true;
  }
  return false;
}

// Returns the SECCOMP_RET_* value the program gives `data`.
inline uint32_t EvalSeccomp(const std::vector<sock_filter>& prog, const seccomp_data& data) {
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(&data);
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& f = prog[pc];
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
        if (BPF_MODE(f.code) == BPF_ABS && f.k + 4 <= sizeof data) {
          std::memcpy(&a, bytes + f.k, 4);
        } else if (BPF_MODE(f.code) == BPF_IMM) {
          a = f.k;
        } else if (BPF_MODE(f.code) == BPF_MEM && f.k < BPF_MEMWORDS) {
          a = mem[f.k];
        } else {
          ADD_FAILURE() << "bpf_eval: load " << f.code << " k=" << f.k;
          return 0;
        }
        break;
      case BPF_LDX:
        x = BPF_MODE(f.code) == BPF_MEM ? mem[f.k % BPF_MEMWORDS] : f.k;
        break;
      case BPF_ST:
        mem[f.k % BPF_MEMWORDS] = a;
        break;
      case BPF_STX:
        mem[f.k % BPF_MEMWORDS] = x;
        break;
      case BPF_ALU:
        if (!Alu(f, &a, x)) {
          ADD_FAILURE() << "bpf_eval: alu " << f.code;
          return 0;
        }
        break;
      case BPF_JMP:
        pc += BPF_OP(f.code) == BPF_JA ? f.k : Jump(f, a, x);
        break;
      case BPF_RET:
        return BPF_RVAL(f.code) == BPF_A ? a : f.k;
      case BPF_MISC:
        if (BPF_MISCOP(f.code) == BPF_TAX) {
          x = a;
        } else {
          a = x;
        }
        break;
      default:
        ADD_FAILURE() << "bpf_eval: class " << f.code;
        return 0;
    }
  }
  ADD_FAILURE() << "bpf_eval: fell off the end";
  return 0;
}

}  // namespace berth::runtime::security::testing

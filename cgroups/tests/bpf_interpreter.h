#pragma once
// A BPF interpreter for exactly the instruction forms the device program
// uses, so tests can run it against struct bpf_cgroup_dev_ctx inputs and
// compare its verdicts with the rule emulator's. Anything else fails loudly.

#include <linux/bpf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace berth::cgroups::testing {

struct BpfRun {
  bool ok = false;
  uint64_t r0 = 0;
  std::string error;
};

inline BpfRun RunDeviceProgram(const std::vector<bpf_insn>& prog, uint32_t access_type,
                               uint32_t major, uint32_t minor) {
  uint32_t ctx[3] = {access_type, major, minor};
  uint64_t r[11] = {};
  BpfRun out;
  size_t pc = 0;
  for (int steps = 0; steps < 100000; ++steps) {
    if (pc >= prog.size()) {
      out.error = "fell off the end";
      return out;
    }
    const bpf_insn& i = prog[pc++];
    uint64_t src = (BPF_SRC(i.code) == BPF_X) ? r[i.src_reg]
                                              : static_cast<uint64_t>(static_cast<int64_t>(i.imm));
    switch (i.code) {
      case BPF_LDX | BPF_W | BPF_MEM: {
        if (i.src_reg != BPF_REG_1 || i.off < 0 || i.off > 8 || i.off % 4 != 0) {
          out.error = "bad load";
          return out;
        }
        r[i.dst_reg] = ctx[i.off / 4];
        break;
      }
      case BPF_ALU | BPF_AND | BPF_K:
        r[i.dst_reg] = static_cast<uint32_t>(r[i.dst_reg] & src);
        break;
      case BPF_ALU | BPF_RSH | BPF_K:
        r[i.dst_reg] = static_cast<uint32_t>(r[i.dst_reg]) >> i.imm;
        break;
      case BPF_ALU | BPF_MOV | BPF_X:
        r[i.dst_reg] = static_cast<uint32_t>(src);
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        r[i.dst_reg] = src;
        break;
      case BPF_JMP | BPF_JNE | BPF_K:
      case BPF_JMP | BPF_JNE | BPF_X:
        if (r[i.dst_reg] != src) pc += i.off;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
      case BPF_JMP | BPF_JEQ | BPF_X:
        if (r[i.dst_reg] == src) pc += i.off;
        break;
      case BPF_JMP | BPF_JA:
        pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT:
        out.ok = true;
        out.r0 = r[0];
        return out;
      default:
        out.error = "unsupported opcode " + std::to_string(i.code);
        return out;
    }
  }
  out.error = "no exit";
  return out;
}

}  // namespace berth::cgroups::testing

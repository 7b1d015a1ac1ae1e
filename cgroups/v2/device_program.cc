#include "cgroups/v2/device_program.h"

#include <cstdint>
#include <limits>

namespace berth::cgroups::v2 {

namespace {

// Instruction constructors (include/uapi/linux/bpf.h, bpf_common.h).
bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn LoadWord(uint8_t dst, uint8_t src, int16_t off) {
  return Insn(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0);
}
bpf_insn Alu32Imm(uint8_t op, uint8_t dst, int32_t imm) {
  return Insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn Mov32Reg(uint8_t dst, uint8_t src) {
  return Insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn Mov64Imm(uint8_t dst, int32_t imm) {
  return Insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn JumpImm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) {
  return Insn(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}
bpf_insn JumpReg(uint8_t op, uint8_t dst, uint8_t src, int16_t off) {
  return Insn(BPF_JMP | op | BPF_X, dst, src, off, 0);
}
bpf_insn Exit() {
  return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

// Registers holding the decoded context.
constexpr uint8_t kType = BPF_REG_2, kAccess = BPF_REG_3, kMajor = BPF_REG_4, kMinor = BPF_REG_5,
                  kScratch = BPF_REG_1;

// The tests of one exception, each jumping to the next block on mismatch
// (offsets are patched once the block's length is known), then the verdict.
struct Block {
  std::vector<bpf_insn> insns;
  std::vector<size_t> jumps;  // indexes of "goto next" instructions

  void GotoNextUnless(bpf_insn jump) {
    jumps.push_back(insns.size());
    insns.push_back(jump);
  }
};

Result<int32_t> DeviceNumber(const std::optional<int64_t>& n, const char* what) {
  if (*n > std::numeric_limits<int32_t>::max()) {
    return Error(Errc::kInvalidArgument,
                 std::string("device ") + what + " " + std::to_string(*n) + " out of range");
  }
  return static_cast<int32_t>(*n);
}

Result<Block> ExceptionBlock(const DeviceRule& rule) {
  Block b;
  int32_t type = rule.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
  b.GotoNextUnless(JumpImm(BPF_JNE, kType, type, 0));
  int32_t access = AccessBits(rule.access);
  if (rule.allow && access != kAccAll) {
    // An allow exception must grant every requested bit: (req & rule) == req.
    b.insns.push_back(Mov32Reg(kScratch, kAccess));
    b.insns.push_back(Alu32Imm(BPF_AND, kScratch, access));
    b.GotoNextUnless(JumpReg(BPF_JNE, kScratch, kAccess, 0));
  } else if (!rule.allow && access != kAccAll) {
    // A deny exception refuses any overlap: (req & rule) != 0, as v1 does.
    b.insns.push_back(Mov32Reg(kScratch, kAccess));
    b.insns.push_back(Alu32Imm(BPF_AND, kScratch, access));
    b.GotoNextUnless(JumpImm(BPF_JEQ, kScratch, 0, 0));
  }
  if (rule.major) {
    b.GotoNextUnless(JumpImm(BPF_JNE, kMajor, BERTH_TRY(DeviceNumber(rule.major, "major")), 0));
  }
  if (rule.minor) {
    b.GotoNextUnless(JumpImm(BPF_JNE, kMinor, BERTH_TRY(DeviceNumber(rule.minor, "minor")), 0));
  }
  b.insns.push_back(Mov64Imm(BPF_REG_0, rule.allow ? 1 : 0));
  b.insns.push_back(Exit());
  for (size_t j : b.jumps)
    b.insns[j].off = static_cast<int16_t>(b.insns.size() - j - 1);
  return b;
}

}  // namespace

Result<BpfProgram> DeviceProgram(const DeviceEmulator& rules) {
  BpfProgram prog = {
      LoadWord(kType, BPF_REG_1, 0),  // access_type
      Alu32Imm(BPF_AND, kType, 0xffff), LoadWord(kAccess, BPF_REG_1, 0),
      Alu32Imm(BPF_RSH, kAccess, 16),   LoadWord(kMajor, BPF_REG_1, 4),
      LoadWord(kMinor, BPF_REG_1, 8),
  };
  for (const DeviceRule& rule : rules.Exceptions()) {
    Block b = BERTH_TRY(ExceptionBlock(rule));
    prog.insert(prog.end(), b.insns.begin(), b.insns.end());
  }
  prog.push_back(Mov64Imm(BPF_REG_0, rules.default_allow() ? 1 : 0));
  prog.push_back(Exit());
  return prog;
}

}  // namespace berth::cgroups::v2

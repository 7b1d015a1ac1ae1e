#pragma once
// A few-instruction classic-BPF assembler with forward labels, enough for
// the seccomp stub in seccomp_enosys.cc.

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/error.h"

namespace berth::runtime::security {

class BpfBuilder {
 public:
  using Label = size_t;
  // Where a conditional jump goes when it should fall through.
  static constexpr Label kNext = static_cast<Label>(-1);

  Label NewLabel();
  void Bind(Label label);  // at the next instruction emitted

  void LoadWord(uint32_t offset);  // A = *(u32*)(data + offset)
  void Jump(Label target);
  // BPF_JEQ / BPF_JGT / BPF_JGE / BPF_JSET of A against k.
  void JumpIf(uint16_t op, uint32_t k, Label if_true, Label if_false);
  void Return(uint32_t value);

  // Resolves the labels; a conditional jump farther than 255 instructions
  // is an error (classic BPF's jt/jf are 8 bits).
  Result<std::vector<sock_filter>> Finish() const;

 private:
  struct Pending {
    sock_filter insn;
    Label jt = kNext, jf = kNext, ja = kNext;
  };
  std::vector<Pending> code_;
  std::vector<size_t> labels_;  // label -> instruction index (kNext: unbound)
};

}  // namespace berth::runtime::security

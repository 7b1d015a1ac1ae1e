#include "runtime/oci/security/bpf_builder.h"

#include <string>

namespace berth::runtime::security {

BpfBuilder::Label BpfBuilder::NewLabel() {
  labels_.push_back(kNext);
  return labels_.size() - 1;
}

void BpfBuilder::Bind(Label label) {
  labels_.at(label) = code_.size();
}

void BpfBuilder::LoadWord(uint32_t offset) {
  code_.push_back({BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset)});
}

void BpfBuilder::Jump(Label target) {
  Pending p{BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0)};
  p.ja = target;
  code_.push_back(p);
}

void BpfBuilder::JumpIf(uint16_t op, uint32_t k, Label if_true, Label if_false) {
  Pending p{BPF_JUMP(BPF_JMP | op | BPF_K, k, 0, 0)};
  p.jt = if_true;
  p.jf = if_false;
  code_.push_back(p);
}

void BpfBuilder::Return(uint32_t value) {
  code_.push_back({BPF_STMT(BPF_RET | BPF_K, value)});
}

Result<std::vector<sock_filter>> BpfBuilder::Finish() const {
  std::vector<sock_filter> out;
  out.reserve(code_.size());
  for (size_t i = 0; i < code_.size(); ++i) {
    sock_filter insn = code_[i].insn;
    // Offsets count from the instruction after the jump.
    auto offset = [&](Label label) -> Result<size_t> {
      if (label == kNext) return size_t{0};
      size_t at = labels_.at(label);
      if (at == kNext || at <= i) {
        return Error(Errc::kInternal, "bpf: jump at " + std::to_string(i) + " to unbound label");
      }
      return at - i - 1;
    };
    if (code_[i].ja != kNext) insn.k = static_cast<uint32_t>(BERTH_TRY(offset(code_[i].ja)));
    size_t jt = BERTH_TRY(offset(code_[i].jt));
    size_t jf = BERTH_TRY(offset(code_[i].jf));
    if (jt > 255 || jf > 255) {
      return Error(Errc::kInternal, "bpf: conditional jump at " + std::to_string(i) + " too far");
    }
    insn.jt = static_cast<uint8_t>(jt);
    insn.jf = static_cast<uint8_t>(jf);
    out.push_back(insn);
  }
  return out;
}

}  // namespace berth::runtime::security

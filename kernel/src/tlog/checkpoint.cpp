// Signed-note checkpoints. See checkpoint.hpp.
#include "tlog/checkpoint.hpp"

#include "attest/signature_verify.hpp"
#include "base/base64.hpp"
#include "base/sha256.hpp"

namespace signals {
namespace {

constexpr std::string_view kEmDashSpace = "\xE2\x80\x94 ";  // U+2014 then a space

Status Malformed(std::string message) {
  return Status::Invalid("checkpoint", "checkpoint", "checkpoint: " + std::move(message));
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

Result<Checkpoint> ParseBody(std::string_view body) {
  auto lines = SplitLines(body);
  if (lines.size() < 3)
    return Malformed("the note has " + std::to_string(lines.size()) + " lines, expected at least 3");
  Checkpoint cp;
  cp.origin = std::string(lines[0]);
  if (cp.origin.empty()) return Malformed("the origin line is empty");
  std::string_view size = lines[1];
  if (size.empty() || size.size() > 19 || size.find_first_not_of("0123456789") != std::string_view::npos ||
      (size.size() > 1 && size[0] == '0')) {
    return Malformed("tree size line '" + std::string(size) + "' is not a decimal number");
  }
  cp.tree_size = std::stoull(std::string(size));
  auto root = Base64Decode(lines[2]);
  if (!root.ok() || root->size() != 32) {
    return Malformed("root hash line '" + std::string(lines[2]) + "' is not base64 of 32 bytes");
  }
  cp.root_hash = *root;
  for (size_t i = 3; i < lines.size(); ++i) cp.extensions.emplace_back(lines[i]);
  return cp;
}

struct NoteSignature {
  std::string name;
  std::string key_hint;   // 4 bytes
  std::string signature;  // the rest
};

Result<std::vector<NoteSignature>> ParseSignatures(std::string_view block) {
  std::vector<NoteSignature> out;
  for (std::string_view line : SplitLines(block)) {
    if (line.substr(0, kEmDashSpace.size()) != kEmDashSpace) {
      return Malformed("signature line '" + std::string(line) +
                       "' does not start with an em dash and a space");
    }
    line.remove_prefix(kEmDashSpace.size());
    size_t space = line.rfind(' ');
    if (space == std::string_view::npos || space == 0) {
      return Malformed("signature line '" + std::string(line) + "' has no name and signature");
    }
    auto blob = Base64Decode(line.substr(space + 1));
    if (!blob.ok() || blob->size() < 5) {
      return Malformed("signature of '" + std::string(line.substr(0, space)) +
                       "' is not base64 of a key hint and a signature");
    }
    out.push_back({std::string(line.substr(0, space)), blob->substr(0, 4), blob->substr(4)});
  }
  if (out.empty()) return Malformed("no signature lines after the blank line");
  return out;
}

}  // namespace

Result<Checkpoint> VerifyCheckpoint(std::string_view note, std::string_view log_public_key_pem) {
  size_t blank = note.find("\n\n");
  if (blank == std::string_view::npos) return Malformed("no blank line between the note and its signatures");
  const std::string_view signed_text = note.substr(0, blank + 1);
  auto checkpoint = ParseBody(signed_text.substr(0, signed_text.size() - 1));
  if (!checkpoint.ok()) return checkpoint.status();
  auto signatures = ParseSignatures(note.substr(blank + 2));
  if (!signatures.ok()) return signatures.status();

  auto der = PublicKeyDer(log_public_key_pem);
  if (!der.ok()) return Malformed("log key: " + der.status().message());
  const std::string hint = Sha256Raw(*der).substr(0, 4);
  // Other signers (witnesses) may have signed too, and a 4-byte hint can
  // collide: any line with our hint whose signature verifies will do.
  std::string seen;
  std::string failed;
  for (const auto& sig : *signatures) {
    if (sig.key_hint != hint) {
      seen += (seen.empty() ? "" : ", ") + sig.name + " " + HexLower(sig.key_hint);
      continue;
    }
    if (VerifySignature(log_public_key_pem, signed_text, sig.signature).ok()) {
      checkpoint->signer_name = sig.name;
      return checkpoint;
    }
    if (failed.empty()) failed = sig.name;
  }
  if (!failed.empty()) {
    return Malformed("signature of '" + failed + "' (key hint " + HexLower(hint) +
                     ") does not verify with the log key over the note");
  }
  return Malformed("no signature with the log key's hint " + HexLower(hint) + " (found: " + seen + ")");
}

}  // namespace signals

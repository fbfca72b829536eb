#include "ccci/text.hpp"

#include <random>

namespace ccci {

std::optional<std::string> text_between(std::string_view text, std::string_view before,
                                        std::string_view after) {
  const auto start = text.find(before);
  if (start == std::string_view::npos) return std::nullopt;
  const auto from = start + before.size();
  const auto end = text.find(after, from);
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(text.substr(from, end - from));
}

std::string new_secret(Context& ctx, size_t length) {
  static constexpr std::string_view kAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::random_device source;
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
  std::string secret;
  for (size_t i = 0; i < length; ++i) secret += kAlphabet[pick(source)];
  ctx.add_secret(secret);
  return secret;
}

}  // namespace ccci

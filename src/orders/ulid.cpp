#include "orders/ulid.h"

#include <algorithm>

namespace outpost::orders {
namespace {

__extension__ using Uint128 = unsigned __int128;  // GCC's 128-bit integer, marked for -pedantic

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Writes the low 5*`digits` bits of `value`, most significant first, as base32 digits.
void appendBase32(std::string& out, Uint128 value, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    out.push_back(kAlphabet[static_cast<int>((value >> (5 * i)) & 0x1f)]);
  }
}

}  // namespace

std::string UlidGenerator::next() {
  std::lock_guard lock(mutex_);
  const auto now = static_cast<std::uint64_t>(std::max<std::int64_t>(0, clock_.wallMillis()));
  if (now > last_millis_) {
    last_millis_ = now;
    random_high_ = static_cast<std::uint16_t>(random_.next64());
    // Leave headroom so increments within one millisecond cannot overflow in practice.
    random_low_ = random_.next64() >> 1;
  } else if (++random_low_ == 0) {
    ++random_high_;
  }
  Uint128 value = static_cast<Uint128>(last_millis_ & 0xffffffffffffULL) << 80;
  value |= static_cast<Uint128>(random_high_) << 64;
  value |= random_low_;
  std::string out;
  out.reserve(26);
  appendBase32(out, value, 26);
  return out;
}

bool isUlid(const std::string& text) {
  if (text.size() != 26 || text[0] > '7') return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::string_view(kAlphabet).find(c) != std::string_view::npos;
  });
}

}  // namespace outpost::orders

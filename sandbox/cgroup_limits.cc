// --memory, --pids and --cpus: exact decimal parsing (no floating point
// until the end), Docker's suffixes and bounds. Pure but for
// sched_getaffinity in the one-argument ParseCpus.
#include "sandbox/cgroup_limits.h"

#include <sched.h>
#include <unistd.h>

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"

namespace sandbox {
namespace {

// ---- number parsing ------------------------------------------------------

struct Decimal {
  int64_t whole = 0;
  int64_t frac = 0;     // the fraction digits as an integer
  int frac_digits = 0;  // how many (<= 9)
  size_t end = 0;       // index after the number
};

// [digits][.digits], at least one digit in all, at most 9 fraction digits,
// whole part at most 18 digits (no overflow in int64). nullopt otherwise.
std::optional<Decimal> ParseDecimal(absl::string_view s, bool allow_fraction) {
  Decimal d;
  size_t i = 0;
  int whole_digits = 0;
  while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
    if (++whole_digits > 18) return std::nullopt;
    d.whole = d.whole * 10 + (s[i] - '0');
    ++i;
  }
  if (allow_fraction && i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      if (++d.frac_digits > 9) return std::nullopt;
      d.frac = d.frac * 10 + (s[i] - '0');
      ++i;
    }
    if (d.frac_digits == 0) return std::nullopt;  // "1." is not a number
  }
  if (whole_digits + d.frac_digits == 0) return std::nullopt;
  d.end = i;
  return d;
}

int64_t Pow10(int n) {
  int64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

// d * mult, rounded down; false on overflow.
bool Scale(const Decimal& d, int64_t mult, int64_t* out) {
  int64_t whole = 0;
  if (__builtin_mul_overflow(d.whole, mult, &whole)) return false;
  // frac < 10^9 < 2^30 and mult is a power of two up to 2^40: split a
  // large mult in two factors of 2^20 so nothing overflows, exactly.
  const int64_t div = Pow10(d.frac_digits);
  int64_t part = 0;
  if (mult <= (int64_t{1} << 33)) {
    part = d.frac * mult / div;
  } else {
    const int64_t low = int64_t{1} << 20, high = mult / low;
    const int64_t a = d.frac * high;
    part = a / div * low + a % div * low / div;
  }
  return !__builtin_add_overflow(whole, part, out);
}

std::string FormatBytes(int64_t n) {
  if (n % (int64_t{1} << 30) == 0) return absl::StrCat(n >> 30, "g");
  if (n % (int64_t{1} << 20) == 0) return absl::StrCat(n >> 20, "m");
  if (n % 1024 == 0) return absl::StrCat(n >> 10, "k");
  return absl::StrCat(n);
}

}  // namespace

// ---- parsers -------------------------------------------------------------

absl::StatusOr<int64_t> ParseMemorySize(absl::string_view text) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("--memory '", text, "': not a size (use e.g. 512m, 2g)"));
  };
  std::optional<Decimal> d = ParseDecimal(text, /*allow_fraction=*/true);
  if (!d) return bad();
  absl::string_view suffix = text.substr(d->end);
  int64_t mult = 1;
  if (!suffix.empty()) {
    switch (absl::ascii_tolower(static_cast<unsigned char>(suffix[0]))) {
      case 'b': mult = 1; break;
      case 'k': mult = int64_t{1} << 10; break;
      case 'm': mult = int64_t{1} << 20; break;
      case 'g': mult = int64_t{1} << 30; break;
      case 't': mult = int64_t{1} << 40; break;
      default: return bad();
    }
    suffix.remove_prefix(1);
    // 512m, 512mb, 512MiB; a lone "b" takes nothing more.
    if (mult != 1) {
      if (absl::EqualsIgnoreCase(suffix, "ib")) suffix.remove_prefix(2);
      else if (absl::EqualsIgnoreCase(suffix, "b")) suffix.remove_prefix(1);
    }
    if (!suffix.empty()) return bad();
  }
  int64_t bytes = 0;
  if (!Scale(*d, mult, &bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("--memory '", text, "': too large"));
  }
  if (bytes < kMinMemoryBytes) {
    return absl::InvalidArgumentError(absl::StrCat("--memory '", text, "': below the minimum of ",
                                                   FormatBytes(kMinMemoryBytes), " (",
                                                   kMinMemoryBytes, " bytes)"));
  }
  return bytes;
}

absl::StatusOr<int64_t> ParsePidsLimit(absl::string_view text) {
  std::optional<Decimal> d = ParseDecimal(text, /*allow_fraction=*/false);
  if (!d || d->end != text.size()) {
    return absl::InvalidArgumentError(absl::StrCat("--pids '", text, "': not a positive integer"));
  }
  if (d->whole < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--pids '", text, "': must be at least 1"));
  }
  if (d->whole > kMaxPids) {
    return absl::InvalidArgumentError(
        absl::StrCat("--pids '", text, "': at most ", kMaxPids, " (the kernel's PID_MAX_LIMIT)"));
  }
  return d->whole;
}

absl::StatusOr<double> ParseCpus(absl::string_view text, int available_cpus) {
  std::optional<Decimal> d = ParseDecimal(text, /*allow_fraction=*/true);
  if (!d || d->end != text.size() || d->whole > 1'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--cpus '", text, "': not a number of CPUs (use e.g. 0.5, 2)"));
  }
  // Nano-CPUs, as Docker counts them: exact for up to 9 fraction digits.
  const int64_t nano = d->whole * 1'000'000'000 + d->frac * Pow10(9 - d->frac_digits);
  if (nano < static_cast<int64_t>(kMinCpus * 1e9 + 0.5)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--cpus '", text, "': at least ", kMinCpus, " (a 1 ms quota per 100 ms)"));
  }
  if (available_cpus > 0 && nano > int64_t{available_cpus} * 1'000'000'000) {
    return absl::InvalidArgumentError(absl::StrCat("--cpus '", text, "': more than the ",
                                                   available_cpus, " CPUs available"));
  }
  return static_cast<double>(nano) / 1e9;
}

absl::StatusOr<double> ParseCpus(absl::string_view text) {
  cpu_set_t set;
  CPU_ZERO(&set);
  int n = 0;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
  if (n <= 0) n = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  return ParseCpus(text, n);
}

absl::StatusOr<Limits> ParseLimits(const std::optional<std::string>& memory,
                                   const std::optional<std::string>& pids,
                                   const std::optional<std::string>& cpus) {
  Limits l;
  if (memory) {
    ASSIGN_OR_RETURN(l.memory_bytes, ParseMemorySize(*memory));
  }
  if (pids) {
    ASSIGN_OR_RETURN(l.pids, ParsePidsLimit(*pids));
  }
  if (cpus) {
    ASSIGN_OR_RETURN(l.cpus, ParseCpus(*cpus));
  }
  return l;
}

int64_t CpuQuotaUs(double cpus, int64_t period_us) {
  return std::llround(cpus * static_cast<double>(period_us));
}

}  // namespace sandbox

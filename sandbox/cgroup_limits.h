// Cgroup limits as the user gives them: --memory, --pids and --cpus parsed
// and checked into a Limits. Pure: no syscalls but sched_getaffinity (the
// CPUs --cpus may use).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sandbox {

struct Limits {
  std::optional<int64_t> memory_bytes;  // memory.max / memory.limit_in_bytes (+ no swap)
  std::optional<int64_t> pids;          // pids.max
  std::optional<double> cpus;           // cpu.max / cfs quota, as a fraction of CPUs
  bool any() const { return memory_bytes.has_value() || pids.has_value() || cpus.has_value(); }
};

// Docker's smallest --memory (since 20.10): below it even a shell is
// OOM-killed while starting, which reads as a confusing failure.
inline constexpr int64_t kMinMemoryBytes = int64_t{6} << 20;
// PID_MAX_LIMIT: the kernel refuses a larger pids.max (EINVAL).
inline constexpr int64_t kMaxPids = int64_t{4} << 20;
// The CFS period we write; the quota is cpus * period, at least 1 ms (the
// kernel's minimum quota), so --cpus is at least 0.01.
inline constexpr int64_t kCpuPeriodUs = 100000;
inline constexpr double kMinCpus = 0.01;

// --memory: a number of bytes with an optional binary suffix b, k, m, g or t
// (any case, optionally followed by "b" or "ib": 512m, 512MB, 512MiB), a
// decimal fraction with a suffix ("1.5g", rounded down to a byte), as
// Docker's RAMInBytes accepts. At least kMinMemoryBytes. Errors:
// "--memory '12x': not a size (use e.g. 512m, 2g)".
absl::StatusOr<int64_t> ParseMemorySize(absl::string_view text);
// --pids: a decimal integer in [1, kMaxPids].
absl::StatusOr<int64_t> ParsePidsLimit(absl::string_view text);
// --cpus: a decimal number ("0.5", "2", at most 9 fraction digits) in
// [kMinCpus, available_cpus]; available_cpus <= 0 skips the upper check.
// The one-argument form takes the CPUs this process may run on
// (sched_getaffinity), as Docker errors above runtime.NumCPU().
absl::StatusOr<double> ParseCpus(absl::string_view text, int available_cpus);
absl::StatusOr<double> ParseCpus(absl::string_view text);
// All three from run's raw option values (absent: no limit).
absl::StatusOr<Limits> ParseLimits(const std::optional<std::string>& memory,
                                   const std::optional<std::string>& pids,
                                   const std::optional<std::string>& cpus);
// cpus * period in microseconds, rounded to the nearest one.
int64_t CpuQuotaUs(double cpus, int64_t period_us = kCpuPeriodUs);

}  // namespace sandbox

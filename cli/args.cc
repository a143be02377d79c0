#include "cli/args.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace minipod::cli {
namespace {

const OptionSpec* FindLong(absl::Span<const OptionSpec> specs, absl::string_view name) {
  for (const OptionSpec& s : specs) {
    if (s.long_name == name) return &s;
  }
  return nullptr;
}

const OptionSpec* FindShort(absl::Span<const OptionSpec> specs, char c) {
  for (const OptionSpec& s : specs) {
    if (s.short_name != 0 && s.short_name == c) return &s;
  }
  return nullptr;
}

const std::vector<std::string>& Empty() {
  static const auto* empty = new std::vector<std::string>();
  return *empty;
}

}  // namespace

bool ParsedArgs::Has(absl::string_view long_name) const {
  return values_.find(long_name) != values_.end();
}

std::string ParsedArgs::Value(absl::string_view long_name, absl::string_view fallback) const {
  auto it = values_.find(long_name);
  if (it == values_.end() || it->second.empty()) return std::string(fallback);
  return it->second.back();
}

const std::vector<std::string>& ParsedArgs::Values(absl::string_view long_name) const {
  auto it = values_.find(long_name);
  return it == values_.end() ? Empty() : it->second;
}

absl::StatusOr<ParsedArgs> Parse(absl::Span<const OptionSpec> specs,
                                 absl::Span<const std::string> args, bool stop_at_operand) {
  ParsedArgs out;
  auto record = [&out](const OptionSpec& s, std::string value) {
    std::vector<std::string>& v = out.values_[s.long_name];
    if (s.kind == ArgKind::kValue) v.clear();
    if (s.kind != ArgKind::kFlag) out.ordered_.emplace_back(std::string(s.long_name), value);
    v.push_back(std::move(value));
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.operands_.insert(out.operands_.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (a == "-h" || a == "--help") {
      out.help_ = true;
      return out;
    }
    if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
      const size_t eq = a.find('=');
      const absl::string_view name =
          absl::string_view(a).substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const OptionSpec* s = FindLong(specs, name);
      if (s == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("unknown option '--", name, "'"));
      }
      if (s->kind == ArgKind::kFlag) {
        if (eq != std::string::npos) {
          return absl::InvalidArgumentError(
              absl::StrCat("option '--", name, "' takes no value"));
        }
        record(*s, "");
      } else if (eq != std::string::npos) {
        record(*s, a.substr(eq + 1));
      } else if (i + 1 < args.size()) {
        record(*s, args[++i]);
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("option '--", name, "' needs a value (", s->value_name, ")"));
      }
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      // One or more short options: flags may be grouped, and the first
      // option taking a value takes the rest of the word or the next one.
      for (size_t j = 1; j < a.size(); ++j) {
        const OptionSpec* s = FindShort(specs, a[j]);
        if (s == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat("unknown option '-", a.substr(j, 1), "'"));
        }
        if (s->kind == ArgKind::kFlag) {
          record(*s, "");
          continue;
        }
        if (j + 1 < a.size()) {
          record(*s, a.substr(j + 1));
        } else if (i + 1 < args.size()) {
          record(*s, args[++i]);
        } else {
          return absl::InvalidArgumentError(absl::StrCat(
              "option '-", a.substr(j, 1), "' needs a value (", s->value_name, ")"));
        }
        break;
      }
      continue;
    }
    if (stop_at_operand) {
      // The first operand starts a command line of its own: "run ls -l".
      out.operands_.insert(out.operands_.end(), args.begin() + i, args.end());
      break;
    }
    out.operands_.push_back(a);  // "-" alone is an operand, as usual
  }
  return out;
}

std::string Usage(absl::string_view command, absl::string_view synopsis,
                  absl::string_view description, absl::Span<const OptionSpec> specs) {
  std::string out = absl::StrCat("Usage: ", command, " ", synopsis, "\n", description, "\n");
  if (specs.empty()) return out;
  std::vector<std::string> left;
  size_t width = 0;
  for (const OptionSpec& s : specs) {
    std::string l = s.short_name != 0 ? absl::StrCat("-", std::string(1, s.short_name), ", ")
                                      : std::string("    ");
    absl::StrAppend(&l, "--", s.long_name);
    if (s.kind != ArgKind::kFlag) absl::StrAppend(&l, " ", s.value_name);
    width = std::max(width, l.size());
    left.push_back(std::move(l));
  }
  absl::StrAppend(&out, "\nOptions:\n");
  for (size_t i = 0; i < specs.size(); ++i) {
    absl::StrAppend(&out, "  ", left[i], std::string(width - left[i].size() + 2, ' '),
                    specs[i].help, specs[i].kind == ArgKind::kList ? " (repeatable)" : "", "\n");
  }
  absl::StrAppend(&out, "  -h, --help", std::string(width > 8 ? width - 8 : 2, ' '),
                  "show this help\n");
  return out;
}

}  // namespace minipod::cli

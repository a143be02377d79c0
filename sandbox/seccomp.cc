// Filter compilation (parent: libseccomp, nlohmann::json) and installation
// (child: the seccomp system call only).
#include "sandbox/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_util.h"
#include "common/unique_fd.h"
#include "sandbox/caps.h"

namespace sandbox {
namespace {

using Ctx = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

// SCMP_A0() and friends are C compound literals.
scmp_arg_cmp Arg(unsigned index, scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) {
  return scmp_arg_cmp{index, op, a, b};
}

absl::Status Scmp(int rc, absl::string_view what) {
  if (rc == 0) return absl::OkStatus();
  return common::ErrnoStatus(-rc, absl::StrCat("libseccomp: ", what));
}

// Every ABI this machine can enter the kernel with.
absl::Status AddArchitectures(scmp_filter_ctx ctx) {
#if defined(__x86_64__)
  for (uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
    const int rc = seccomp_arch_add(ctx, arch);
    if (rc != 0 && rc != -EEXIST) return Scmp(rc, "seccomp_arch_add");
  }
#elif defined(__aarch64__)
  const int rc = seccomp_arch_add(ctx, SCMP_ARCH_ARM);
  if (rc != 0 && rc != -EEXIST) return Scmp(rc, "seccomp_arch_add");
#endif
  return absl::OkStatus();
}

absl::StatusOr<SeccompProgram> Export(scmp_filter_ctx ctx) {
  common::UniqueFd fd(::memfd_create("minipod-seccomp", MFD_CLOEXEC));
  if (!fd) return common::ErrnoStatus(errno, "memfd_create");
  RETURN_IF_ERROR(Scmp(seccomp_export_bpf(ctx, fd.get()), "seccomp_export_bpf"));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return common::ErrnoStatus(errno, "fstat(seccomp program)");
  SeccompProgram program;
  program.filter.resize(static_cast<size_t>(st.st_size) / sizeof(struct sock_filter));
  const size_t bytes = program.filter.size() * sizeof(struct sock_filter);
  if (::pread(fd.get(), program.filter.data(), bytes, 0) != static_cast<ssize_t>(bytes)) {
    return common::ErrnoStatus(errno, "read(seccomp program)");
  }
  return program;
}

// A rule for a syscall this libseccomp or architecture does not know is
// skipped, as Docker does.
absl::Status Rule(scmp_filter_ctx ctx, uint32_t action, const char* name, unsigned count = 0,
                  const scmp_arg_cmp* args = nullptr) {
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return absl::OkStatus();
  const int rc = seccomp_rule_add_array(ctx, action, nr, count, args);
  if (rc == -EDOM || rc == -EFAULT) return absl::OkStatus();  // not on every ABI
  return Scmp(rc, absl::StrCat("seccomp_rule_add(", name, ")"));
}

// What Docker's default profile leaves out of its allow list (EPERM),
// without CAP_SYS_ADMIN and friends, which the default set does not have.
constexpr const char* kRefused[] = {
    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
    "finit_module", "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp",
    "io_uring_setup", "io_uring_enter", "io_uring_register",  // out of Docker's list since moby 25
    "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount", "mount_setattr",
    "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "move_pages", "name_to_handle_at",
    "nfsservctl", "open_by_handle_at", "perf_event_open", "pivot_root", "process_vm_readv",
    "process_vm_writev", "ptrace", "query_module", "quotactl", "quotactl_fd", "reboot", "request_key",
    "set_mempolicy", "setns", "settimeofday", "stime", "swapon", "swapoff", "sysfs", "_sysctl", "syslog",
    "umount", "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
};

}  // namespace

absl::StatusOr<SeccompProgram> CompileDefaultSeccomp() {
  Ctx ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (ctx == nullptr) return absl::InternalError("libseccomp: seccomp_init failed");
  RETURN_IF_ERROR(Scmp(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
                       "SCMP_FLTATR_ACT_BADARCH"));
  RETURN_IF_ERROR(AddArchitectures(ctx.get()));
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kRefused) RETURN_IF_ERROR(Rule(ctx.get(), eperm, name));

  // personality(2) stays allowed: Docker limits it to five values, which a
  // filter can only say with two comparisons on one argument, and
  // libseccomp takes one per argument and rule. Its flags change only the
  // caller's own execution domain.

  // clone with any namespace flag (x86 and arm keep the flags in arg 0);
  // clone3 hides its flags in memory, so it says ENOSYS and glibc falls
  // back to clone, whose flags we can see.
  const scmp_datum_t kNewNs = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                              CLONE_NEWNET | CLONE_NEWCGROUP | 0x00000080 /*CLONE_NEWTIME*/;
  for (scmp_datum_t bit = 1; bit != 0 && bit <= kNewNs; bit <<= 1) {
    if ((kNewNs & bit) == 0) continue;
    const scmp_arg_cmp cmp[] = {Arg(0, SCMP_CMP_MASKED_EQ, bit, bit)};
    RETURN_IF_ERROR(Rule(ctx.get(), eperm, "clone", 1, cmp));
  }
  RETURN_IF_ERROR(Rule(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), "clone3"));

  // Keystrokes pushed into a terminal, and the console's own ioctls.
  for (scmp_datum_t request : {scmp_datum_t{TIOCSTI}, scmp_datum_t{TIOCLINUX}}) {
    const scmp_arg_cmp cmp[] = {Arg(1, SCMP_CMP_MASKED_EQ, 0xffffffff, request)};
    RETURN_IF_ERROR(Rule(ctx.get(), eperm, "ioctl", 1, cmp));
  }
  // Device nodes: no character or block device, though FIFOs and sockets
  // are fine (CAP_MKNOD stays in the set, as Docker has it).
  for (scmp_datum_t type : {scmp_datum_t{S_IFCHR}, scmp_datum_t{S_IFBLK}}) {
    const scmp_arg_cmp mknod[] = {Arg(1, SCMP_CMP_MASKED_EQ, S_IFMT, type)};
    RETURN_IF_ERROR(Rule(ctx.get(), eperm, "mknod", 1, mknod));
    const scmp_arg_cmp mknodat[] = {Arg(2, SCMP_CMP_MASKED_EQ, S_IFMT, type)};
    RETURN_IF_ERROR(Rule(ctx.get(), eperm, "mknodat", 1, mknodat));
  }
  // Raw and packet sockets (CAP_NET_RAW stays, as Docker has it).
  const scmp_arg_cmp packet[] = {Arg(0, SCMP_CMP_EQ, AF_PACKET)};
  RETURN_IF_ERROR(Rule(ctx.get(), eperm, "socket", 1, packet));
  const scmp_arg_cmp raw[] = {Arg(1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW)};
  RETURN_IF_ERROR(Rule(ctx.get(), eperm, "socket", 1, raw));
  return Export(ctx.get());
}

namespace {

// --- Docker-format profiles ------------------------------------------------

using nlohmann::json;

absl::Status Bad(absl::string_view what, absl::string_view where, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", where, ": ", why));
}

absl::StatusOr<uint32_t> Action(absl::string_view what, const std::string& where, const json& j, int errno_ret) {
  if (!j.is_string()) return Bad(what, where, "not a string");
  const std::string a = j.get<std::string>();
  if (a == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (a == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(static_cast<uint16_t>(errno_ret));
  if (a == "SCMP_ACT_KILL" || a == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (a == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (a == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (a == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (a == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(static_cast<uint16_t>(errno_ret));
  return Bad(what, where, absl::StrCat("unknown action '", a, "'"));
}

absl::StatusOr<int> ErrnoRet(absl::string_view what, const std::string& where, const json& obj, int fallback) {
  if (!obj.contains("errnoRet") || obj["errnoRet"].is_null()) return fallback;
  const json& e = obj["errnoRet"];
  if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() > 4095) {
    return Bad(what, where + ".errnoRet", "not an errno number");
  }
  return static_cast<int>(e.get<int64_t>());
}

absl::StatusOr<scmp_compare> Op(absl::string_view what, const std::string& where, const json& j) {
  if (!j.is_string()) return Bad(what, where, "not a string");
  const std::string o = j.get<std::string>();
  if (o == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (o == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (o == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (o == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (o == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (o == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (o == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return Bad(what, where, absl::StrCat("unknown operator '", o, "'"));
}

absl::StatusOr<uint32_t> Arch(absl::string_view what, const std::string& where, const json& j) {
  if (!j.is_string()) return Bad(what, where, "not a string");
  const std::string a = j.get<std::string>();
  // "SCMP_ARCH_X86_64" -> "x86_64", as libseccomp names them.
  std::string name = a.rfind("SCMP_ARCH_", 0) == 0 ? a.substr(10) : a;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "x86") name = "x86";
  const uint32_t token = seccomp_arch_resolve_name(name.c_str());
  if (token == 0) return Bad(what, where, absl::StrCat("unknown architecture '", a, "'"));
  return token;
}

// includes/excludes: only "caps" is decided here; arches and minKernel
// conditions are taken as met (the profile's architectures already say
// which ABIs apply).
absl::StatusOr<bool> Applies(absl::string_view what, const std::string& where, const json& rule, uint64_t caps) {
  // A capability this build does not know is one nobody holds.
  auto cap_bit = [](const std::string& name) -> int {
    const absl::StatusOr<int> cap = ParseCapName(name, LastKnownCap());
    return cap.ok() ? *cap : -1;
  };
  for (const char* key : {"includes", "excludes"}) {
    if (!rule.contains(key)) continue;
    const json& cond = rule[key];
    if (!cond.is_object()) return Bad(what, absl::StrCat(where, ".", key), "not an object");
    if (!cond.contains("caps")) continue;
    if (!cond["caps"].is_array()) return Bad(what, absl::StrCat(where, ".", key, ".caps"), "not an array");
    bool all_held = true, any_held = false;
    for (const json& c : cond["caps"]) {
      if (!c.is_string()) return Bad(what, absl::StrCat(where, ".", key, ".caps"), "not a string");
      const int bit = cap_bit(c.get<std::string>());
      const bool held = bit >= 0 && (caps >> bit) & 1;
      all_held = all_held && held;
      any_held = any_held || held;
    }
    if (std::string(key) == "includes" && !all_held) return false;
    if (std::string(key) == "excludes" && any_held) return false;
  }
  return true;
}

constexpr size_t kMaxProfileBytes = 4 << 20;
constexpr size_t kMaxRules = 10000;

}  // namespace

absl::StatusOr<SeccompProgram> CompileDockerProfile(absl::string_view text, absl::string_view what, uint64_t caps) {
  if (text.size() > kMaxProfileBytes) return Bad(what, "file", "larger than 4 MiB");
  const json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Bad(what, "file", "not valid JSON");
  if (!doc.is_object()) return Bad(what, "file", "not a JSON object");
  int default_errno = EPERM;
  if (doc.contains("defaultErrnoRet")) {
    ASSIGN_OR_RETURN(default_errno, ErrnoRet(what, "defaultErrnoRet", json{{"errnoRet", doc["defaultErrnoRet"]}}, EPERM));
  }
  if (!doc.contains("defaultAction")) return Bad(what, "defaultAction", "missing");
  ASSIGN_OR_RETURN(const uint32_t default_action, Action(what, "defaultAction", doc["defaultAction"], default_errno));

  Ctx ctx(seccomp_init(default_action), seccomp_release);
  if (ctx == nullptr) return absl::InternalError("libseccomp: seccomp_init failed");
  RETURN_IF_ERROR(Scmp(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
                       "SCMP_FLTATR_ACT_BADARCH"));
  // The profile's architectures, or every ABI of this machine.
  bool arch_listed = false;
  if (doc.contains("architectures") && !doc["architectures"].is_null()) {
    if (!doc["architectures"].is_array()) return Bad(what, "architectures", "not an array");
    size_t i = 0;
    for (const json& a : doc["architectures"]) {
      ASSIGN_OR_RETURN(const uint32_t arch, Arch(what, absl::StrCat("architectures[", i++, "]"), a));
      const int rc = seccomp_arch_add(ctx.get(), arch);
      if (rc != 0 && rc != -EEXIST) return Scmp(rc, "seccomp_arch_add");
      arch_listed = true;
    }
  }
  if (!arch_listed) RETURN_IF_ERROR(AddArchitectures(ctx.get()));

  if (doc.contains("syscalls") && !doc["syscalls"].is_null()) {
    const json& syscalls = doc["syscalls"];
    if (!syscalls.is_array()) return Bad(what, "syscalls", "not an array");
    if (syscalls.size() > kMaxRules) return Bad(what, "syscalls", "more than 10000 rules");
    for (size_t i = 0; i < syscalls.size(); ++i) {
      const std::string where = absl::StrCat("syscalls[", i, "]");
      const json& rule = syscalls[i];
      if (!rule.is_object()) return Bad(what, where, "not an object");
      ASSIGN_OR_RETURN(const bool applies, Applies(what, where, rule, caps));
      if (!applies) continue;
      ASSIGN_OR_RETURN(const int errno_ret, ErrnoRet(what, where, rule, default_errno));
      if (!rule.contains("action")) return Bad(what, where + ".action", "missing");
      ASSIGN_OR_RETURN(const uint32_t action, Action(what, where + ".action", rule["action"], errno_ret));
      std::vector<scmp_arg_cmp> args;
      if (rule.contains("args") && !rule["args"].is_null()) {
        if (!rule["args"].is_array()) return Bad(what, where + ".args", "not an array");
        if (rule["args"].size() > 6) return Bad(what, where + ".args", "more than 6 conditions");
        for (size_t k = 0; k < rule["args"].size(); ++k) {
          const std::string aw = absl::StrCat(where, ".args[", k, "]");
          const json& a = rule["args"][k];
          if (!a.is_object()) return Bad(what, aw, "not an object");
          if (!a.contains("index") || !a["index"].is_number_integer() || a["index"].get<int64_t>() < 0 ||
              a["index"].get<int64_t>() > 5) {
            return Bad(what, aw + ".index", "not an argument index 0-5");
          }
          auto num = [&](const char* key) -> absl::StatusOr<scmp_datum_t> {
            if (!a.contains(key) || a[key].is_null()) return scmp_datum_t{0};
            if (!a[key].is_number_integer() || (!a[key].is_number_unsigned() && a[key].get<int64_t>() < 0)) {
              return Bad(what, absl::StrCat(aw, ".", key), "not an unsigned number");
            }
            return static_cast<scmp_datum_t>(a[key].get<uint64_t>());
          };
          ASSIGN_OR_RETURN(const scmp_datum_t value, num("value"));
          ASSIGN_OR_RETURN(const scmp_datum_t value_two, num("valueTwo"));
          if (!a.contains("op")) return Bad(what, aw + ".op", "missing");
          ASSIGN_OR_RETURN(const scmp_compare op, Op(what, aw + ".op", a["op"]));
          args.push_back(scmp_arg_cmp{static_cast<unsigned>(a["index"].get<uint64_t>()), op, value, value_two});
        }
      }
      std::vector<std::string> names;
      if (rule.contains("names") && !rule["names"].is_null()) {
        if (!rule["names"].is_array()) return Bad(what, where + ".names", "not an array");
        for (const json& n : rule["names"]) {
          if (!n.is_string()) return Bad(what, where + ".names", "not a string");
          names.push_back(n.get<std::string>());
        }
      } else if (rule.contains("name") && rule["name"].is_string()) {
        names.push_back(rule["name"].get<std::string>());
      } else {
        return Bad(what, where + ".names", "missing");
      }
      if (action == default_action) continue;  // libseccomp refuses a rule equal to the default
      for (const std::string& name : names) {
        const int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) continue;  // unknown here: skipped, as Docker does
        const int rc = seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned>(args.size()),
                                              args.empty() ? nullptr : args.data());
        if (rc == -EDOM || rc == -EFAULT) continue;
        if (rc != 0) return Bad(what, where, absl::StrCat("libseccomp refused the rule for ", name, " (", strerror(-rc), ")"));
      }
    }
  }
  return Export(ctx.get());
}

absl::StatusOr<SeccompProgram> BuildSeccomp(absl::string_view spec, uint64_t caps) {
  if (spec == "unconfined") return SeccompProgram{};
  if (spec == "default") {
#ifdef MINIPOD_SECCOMP_DEFAULT_INC
    static const struct sock_filter kDefault[] = {
#include MINIPOD_SECCOMP_DEFAULT_INC
    };
    return SeccompProgram{std::vector<struct sock_filter>(std::begin(kDefault), std::end(kDefault))};
#else
    return CompileDefaultSeccomp();
#endif
  }
  const std::string path(spec);
  absl::StatusOr<std::string> text = common::ReadFileToString(path, kMaxProfileBytes);
  if (!text.ok()) return common::Annotate(text.status(), "--seccomp");
  return CompileDockerProfile(*text, path, caps);
}

int InstallSeccompInChild(const SeccompProgram& program) {
  if (program.filter.empty()) return 0;
  struct sock_fprog prog;
  prog.len = static_cast<unsigned short>(program.filter.size());
  prog.filter = const_cast<struct sock_filter*>(program.filter.data());
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return errno;
  return 0;
}

}  // namespace sandbox

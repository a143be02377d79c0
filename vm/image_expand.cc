// ExpandImage: each stream through zlib, libzstd or liblzma into a fixed
// buffer, every piece checked against the limit and the first bytes of each
// stream against the newc magic before the sink sees them.
#include "vm/image_expand.h"

#include <lzma.h>
#include <stdint.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "rootfs/kernel_image.h"

namespace vm {
namespace {

using Sink = absl::FunctionRef<absl::Status(absl::string_view)>;

using rootfs::PayloadCompression;

constexpr size_t kPiece = size_t{256} << 10;
// zlib counts input in 32 bits: an image is fed in slices of this size.
constexpr size_t kSlice = size_t{1} << 30;

// Where the decompressed bytes go: counted against the limit, the first six
// of each stream held back until they show the newc magic.
class Output {
 public:
  Output(size_t limit, Sink sink) : limit_(limit), sink_(sink) {}

  void StartStream() { head_len_ = 0; }

  // false: over the limit or not a newc archive (the image stays as it is).
  absl::StatusOr<bool> Write(absl::string_view data) {
    if (data.size() > limit_ - total_) return false;
    total_ += data.size();
    if (head_len_ < sizeof head_) {
      const size_t n = std::min(data.size(), sizeof head_ - head_len_);
      std::copy_n(data.data(), n, head_ + head_len_);
      head_len_ += n;
      data.remove_prefix(n);
      if (head_len_ < sizeof head_) return true;
      const absl::string_view head(head_, sizeof head_);
      if (head != "070701" && head != "070702") return false;
      if (absl::Status s = sink_(head); !s.ok()) return s;
    }
    if (!data.empty()) {
      if (absl::Status s = sink_(data); !s.ok()) return s;
    }
    return true;
  }

  // The stream is over: false when it held fewer bytes than a magic; else
  // zeros up to a multiple of 4.
  absl::StatusOr<bool> EndStream() {
    if (head_len_ < sizeof head_) return false;
    static constexpr char kZeros[4] = {};
    const size_t pad = (4 - total_ % 4) % 4;
    return Write(absl::string_view(kZeros, pad));
  }

 private:
  size_t limit_;
  size_t total_ = 0;
  Sink sink_;
  char head_[6] = {};
  size_t head_len_ = 0;
};

absl::Status Corrupt(PayloadCompression c, size_t offset, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("the ", rootfs::PayloadCompressionName(c), " stream at byte ", offset, " is ", why));
}

// Hands out the n bytes at the start of buf; false when it did not take
// them, result then holding its error or 0 (refused).
bool Deliver(Output& out, const std::string& buf, size_t n, absl::StatusOr<size_t>& result) {
  if (n == 0) return true;
  absl::StatusOr<bool> taken = out.Write(absl::string_view(buf.data(), n));
  if (taken.ok() && *taken) return true;
  result = taken.ok() ? absl::StatusOr<size_t>(size_t{0}) : absl::StatusOr<size_t>(taken.status());
  return false;
}

// Each Inflate* decompresses the one stream at the start of in into out and
// returns the bytes it took, or 0 when out refused the data.
absl::StatusOr<size_t> InflateGzip(absl::string_view in, size_t offset, Output& out) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return absl::InternalError("inflateInit2 failed");
  std::string buf(kPiece, '\0');
  size_t fed = 0;
  absl::StatusOr<size_t> result = size_t{0};
  for (;;) {
    if (z.avail_in == 0 && fed < in.size()) {
      const size_t n = std::min(kSlice, in.size() - fed);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + fed));
      z.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    z.next_out = reinterpret_cast<Bytef*>(buf.data());
    z.avail_out = static_cast<uInt>(buf.size());
    const int r = inflate(&z, Z_NO_FLUSH);
    if (!Deliver(out, buf, buf.size() - z.avail_out, result)) break;
    if (r == Z_STREAM_END) {
      result = fed - z.avail_in;
      break;
    }
    if (r == Z_BUF_ERROR && z.avail_in == 0 && fed == in.size()) {
      result = Corrupt(PayloadCompression::kGzip, offset, "cut short");
      break;
    }
    if (r != Z_OK && r != Z_BUF_ERROR) {
      result = Corrupt(PayloadCompression::kGzip, offset, absl::StrCat("corrupt (zlib error ", r, ")"));
      break;
    }
  }
  inflateEnd(&z);
  return result;
}

absl::StatusOr<size_t> InflateZstd(absl::string_view in, size_t offset, Output& out) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (ctx == nullptr) return absl::ResourceExhaustedError("ZSTD_createDCtx failed");
  std::string buf(kPiece, '\0');
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  absl::StatusOr<size_t> result = size_t{0};
  for (;;) {
    ZSTD_outBuffer output{buf.data(), buf.size(), 0};
    const size_t r = ZSTD_decompressStream(ctx, &output, &input);
    if (ZSTD_isError(r)) {
      result = Corrupt(PayloadCompression::kZstd, offset, absl::StrCat("corrupt (", ZSTD_getErrorName(r), ")"));
      break;
    }
    if (!Deliver(out, buf, output.pos, result)) break;
    if (r == 0) {  // the frame is complete
      result = input.pos;
      break;
    }
    if (input.pos == input.size && output.pos < output.size) {
      result = Corrupt(PayloadCompression::kZstd, offset, "cut short");
      break;
    }
  }
  ZSTD_freeDCtx(ctx);
  return result;
}

absl::StatusOr<size_t> InflateXz(absl::string_view in, size_t offset, Output& out) {
  lzma_stream s = LZMA_STREAM_INIT;
  // The kernel's own xz takes dictionaries of at most a few MiB; more
  // memory than this is refused rather than allocated.
  if (lzma_stream_decoder(&s, uint64_t{256} << 20, 0) != LZMA_OK) {
    return absl::InternalError("lzma_stream_decoder failed");
  }
  std::string buf(kPiece, '\0');
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  absl::StatusOr<size_t> result = size_t{0};
  for (;;) {
    s.next_out = reinterpret_cast<uint8_t*>(buf.data());
    s.avail_out = buf.size();
    // LZMA_FINISH: all the input is there, so a cut stream is
    // LZMA_BUF_ERROR instead of a wait for more.
    const lzma_ret r = lzma_code(&s, LZMA_FINISH);
    if (!Deliver(out, buf, buf.size() - s.avail_out, result)) break;
    if (r == LZMA_STREAM_END) {
      result = static_cast<size_t>(s.total_in);
      break;
    }
    if (r == LZMA_OK || (r == LZMA_BUF_ERROR && s.avail_out == 0)) continue;
    if (r == LZMA_BUF_ERROR) {
      result = Corrupt(PayloadCompression::kXz, offset, "cut short");
    } else if (r == LZMA_MEMLIMIT_ERROR) {
      result = Corrupt(PayloadCompression::kXz, offset, "asking for more than 256 MiB of memory");
    } else {
      result = Corrupt(PayloadCompression::kXz, offset, absl::StrCat("corrupt (liblzma error ", static_cast<int>(r), ")"));
    }
    break;
  }
  lzma_end(&s);
  return result;
}

}  // namespace

absl::StatusOr<bool> ExpandImage(absl::string_view image, size_t limit, Sink sink) {
  Output out(limit, sink);
  size_t at = 0;
  bool any = false;
  for (;;) {
    while (at < image.size() && image[at] == '\0') ++at;
    if (at == image.size()) return any;
    const absl::string_view rest = image.substr(at);
    const PayloadCompression codec = rootfs::DetectCompression(rest);
    absl::StatusOr<size_t> taken = size_t{0};
    out.StartStream();
    switch (codec) {
      case PayloadCompression::kGzip: taken = InflateGzip(rest, at, out); break;
      case PayloadCompression::kZstd: taken = InflateZstd(rest, at, out); break;
      case PayloadCompression::kXz: taken = InflateXz(rest, at, out); break;
      default: return false;  // lz4, lzo, ... or no compressed stream at all
    }
    if (!taken.ok()) return taken.status();
    if (*taken == 0) return false;
    absl::StatusOr<bool> ended = out.EndStream();
    if (!ended.ok() || !*ended) return ended;
    at += *taken;
    any = true;
  }
}

}  // namespace vm

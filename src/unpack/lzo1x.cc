#include "unpack/lzo1x.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

// LZO1X bitstream summary (what the decoder below implements).
//
// The meaning of an instruction byte 0..15 depends on what the previous instruction left behind,
// tracked here as `state`: 0 after a match that was followed by no literals (or at the start),
// 1..3 after a match followed by that many literals, 4 after a literal run of 4 or more bytes.
//
//   0000LLLL           state 0: literal run of 3+L bytes (L == 0: extended length, base 18).
//   0000DDSS HHHHHHHH  state 1..3: 2-byte match, distance 1 + D + (H << 2).
//   0000DDSS HHHHHHHH  state 4: 3-byte match, distance 2049 + D + (H << 2).
//   0001HLLL <16 bit>  match of 2+L bytes (L == 0: extended, base 9), distance
//                      16384 + (H << 14) + (le16 >> 2); distance 16384 marks end of stream.
//   001LLLLL <16 bit>  match of 2+L bytes (L == 0: extended, base 33), distance 1 + (le16 >> 2).
//   01LDDDSS HHHHHHHH  match of 3+L bytes, distance 1 + D + (H << 3).
//   1LLDDDSS HHHHHHHH  match of 5+L bytes, distance 1 + D + (H << 3).
//
// SS (the low two bits of the instruction byte, or of the first distance byte for the 16-bit
// forms) is the number of literals that follow the match directly. An extended length is a run
// of zero bytes, each adding 255, closed by a non-zero byte that is added as well. A first byte
// above 17 is special: it is a literal run of (byte - 17) bytes.

namespace firmwarden::unpack {
namespace {

enum class Ext { kOk, kTruncated, kTooLong };

// Reads the zero-byte run that extends a length field. `cap` bounds the result: once a length
// exceeds what the output can still hold the block is bad anyway, and stopping there keeps the
// sum far from overflow however many zero bytes a hostile input supplies.
inline Ext ReadExtension(const uint8_t*& ip, const uint8_t* ie, size_t cap, size_t& len) {
  for (;;) {
    if (ip == ie) return Ext::kTruncated;
    const uint8_t b = *ip++;
    if (b != 0) {
      len += b;
      return Ext::kOk;
    }
    len += 255;
    if (len > cap) return Ext::kTooLong;
  }
}

// Bytes a fast copy may write past the end of a run (into output that later instructions
// overwrite) or read past it (still inside the input). Only used when that much room exists.
constexpr size_t kSlack = 8;

// Copies a back-reference of `len` bytes from `dist` bytes back; the caller has checked both
// bounds. `room` is the output space left at `op`.
inline void CopyMatch(uint8_t*& op, size_t dist, size_t len, size_t room) {
  const uint8_t* src = op - dist;
  if (dist >= kSlack && room >= len + kSlack) {
    // Most matches are short: whole 8-byte moves beat a variable-length memcpy. With dist >= 8
    // each move reads only bytes that are already final.
    uint8_t* const end = op + len;
    do {
      std::memcpy(op, src, kSlack);
      op += kSlack;
      src += kSlack;
    } while (op < end);
    op = end;
    return;
  }
  // Overlapping references (dist < len) repeat a pattern, so copy in chunks no larger than the
  // distance already materialised; the chunk doubles each round, keeping long runs cheap.
  if (dist >= len) {
    std::memcpy(op, src, len);
    op += len;
    return;
  }
  while (len > 0) {
    const size_t n = std::min(static_cast<size_t>(op - src), len);
    std::memcpy(op, src, n);
    op += n;
    len -= n;
  }
}

Result<size_t> Decode(Bytes in, std::span<std::byte> out, size_t* consumed) {
  const uint8_t* const ib = reinterpret_cast<const uint8_t*>(in.data());
  const uint8_t* const ie = ib + in.size();
  const uint8_t* ip = ib;
  uint8_t* const ob = reinterpret_cast<uint8_t*>(out.data());
  uint8_t* const oe = ob + out.size();
  uint8_t* op = ob;

  // Error builders; only reached on failure, so their cost does not matter.
  auto truncated = [&](const uint8_t* at) {
    return Fail(ErrorCode::kTruncated,
                fmt::format("LZO1X input ends inside the instruction at {} ({} bytes in)", at - ib,
                            in.size()),
                static_cast<uint64_t>(at - ib));
  };
  auto too_long = [&](const uint8_t* at, size_t len) {
    return Fail(ErrorCode::kLimit,
                fmt::format("LZO1X run of {} bytes at output {} overflows the {}-byte buffer", len,
                            op - ob, out.size()),
                static_cast<uint64_t>(at - ib));
  };
  auto ext_fail = [&](Ext e, const uint8_t* at, size_t len) {
    return e == Ext::kTruncated ? truncated(at) : too_long(at, len);
  };
  // Literal copy with both bounds checked.
  auto copy_literals = [&](const uint8_t* at, size_t n) -> Status {
    if (n > static_cast<size_t>(ie - ip)) return truncated(at);
    if (n > static_cast<size_t>(oe - op)) return too_long(at, n);
    if (n <= 2 * kSlack && static_cast<size_t>(ie - ip) >= 2 * kSlack &&
        static_cast<size_t>(oe - op) >= 2 * kSlack) {
      // Short runs dominate; a fixed-size move (with room checked on both sides) is cheaper.
      std::memcpy(op, ip, 2 * kSlack);
    } else {
      std::memcpy(op, ip, n);
    }
    ip += n;
    op += n;
    return {};
  };

  if (ip == ie) return truncated(ip);  // not even the end marker

  size_t state = 0;
  if (*ip > 17) {
    const uint8_t* at = ip;
    const size_t n = *ip++ - 17u;
    if (auto s = copy_literals(at, n); !s) return std::unexpected(s.error());
    state = n < 4 ? n : 4;
  }

  for (;;) {
    const uint8_t* const at = ip;  // start of this instruction, for error offsets
    if (ip == ie) return truncated(at);
    const size_t t = *ip++;
    size_t len;
    size_t dist;
    size_t next;  // literals that follow the match

    if (t < 16) {
      if (state == 0) {
        len = t;
        if (len == 0) {
          len = 15;
          if (Ext e = ReadExtension(ip, ie, static_cast<size_t>(oe - op), len); e != Ext::kOk)
            return ext_fail(e, at, len);
        }
        if (auto s = copy_literals(at, len + 3); !s) return std::unexpected(s.error());
        state = 4;
        continue;
      }
      if (ip == ie) return truncated(at);
      const size_t h = *ip++;
      if (state == 4) {
        dist = 2049 + (t >> 2) + (h << 2);
        len = 3;
      } else {
        dist = 1 + (t >> 2) + (h << 2);
        len = 2;
      }
      next = t & 3;
    } else if (t >= 64) {
      if (ip == ie) return truncated(at);
      dist = 1 + ((t >> 2) & 7) + (size_t{*ip++} << 3);
      len = (t >> 5) + 1;
      next = t & 3;
    } else {
      // The two forms with a 16-bit little-endian distance field.
      if (t >= 32) {
        len = t & 31;
        if (len == 0) {
          len = 31;
          if (Ext e = ReadExtension(ip, ie, static_cast<size_t>(oe - op), len); e != Ext::kOk)
            return ext_fail(e, at, len);
        }
      } else {
        len = t & 7;
        if (len == 0) {
          len = 7;
          if (Ext e = ReadExtension(ip, ie, static_cast<size_t>(oe - op), len); e != Ext::kOk)
            return ext_fail(e, at, len);
        }
      }
      len += 2;
      if (ie - ip < 2) return truncated(at);
      const size_t d = (size_t{ip[0]} >> 2) + (size_t{ip[1]} << 6);
      next = ip[0] & 3;
      ip += 2;
      if (t >= 32) {
        dist = 1 + d;
      } else {
        dist = ((t & 8) << 11) + d;
        if (dist == 0) {
          // End of stream. liblzo accepts any length field here, and so do we.
          if (consumed != nullptr) *consumed = static_cast<size_t>(ip - ib);
          return static_cast<size_t>(op - ob);
        }
        dist += 16384;
      }
    }

    if (dist > static_cast<size_t>(op - ob)) {
      return Fail(
          ErrorCode::kMalformed,
          fmt::format("LZO1X back-reference {} bytes back at output position {}", dist, op - ob),
          static_cast<uint64_t>(at - ib));
    }
    if (len > static_cast<size_t>(oe - op)) return too_long(at, len);
    CopyMatch(op, dist, len, static_cast<size_t>(oe - op));

    if (next != 0) {
      if (auto s = copy_literals(at, next); !s) return std::unexpected(s.error());
    }
    state = next;
  }
}

}  // namespace

Result<size_t> Lzo1xDecompressPrefix(Bytes in, std::span<std::byte> out, size_t* consumed) {
  return Decode(in, out, consumed);
}

Result<size_t> Lzo1xDecompress(Bytes in, std::span<std::byte> out) {
  size_t used = 0;
  auto r = Decode(in, out, &used);
  if (!r) return r;
  if (used != in.size()) {
    return Fail(ErrorCode::kMalformed,
                fmt::format("{} bytes follow the LZO1X end-of-stream marker", in.size() - used),
                used);
  }
  return r;
}

}  // namespace firmwarden::unpack

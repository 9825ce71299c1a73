#include "core/byte_reader.h"

#include <gtest/gtest.h>

namespace firmwarden {
namespace {

TEST(ByteReader, ReadsBothEndiannesses) {
  ByteReader r(AsBytes(std::string_view("\x01\x02\x03\x04\x05\x06\x07\x08", 8)));
  EXPECT_EQ(*r.U16le(), 0x0201);
  EXPECT_EQ(*r.U16be(), 0x0304);
  EXPECT_EQ(*r.U32le(), 0x08070605u);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReader, EveryReadPastTheEndFailsWithTheOffset) {
  ByteReader r(AsBytes("abc"), 0x100);
  ASSERT_TRUE(r.Skip(2));
  auto v = r.U32be();
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::kTruncated);
  EXPECT_EQ(v.error().offset, 0x102u);
  EXPECT_EQ(r.pos(), 2u);  // a failed read does not move the cursor
  EXPECT_FALSE(r.Seek(4));
  EXPECT_FALSE(r.At(2, 2));
  EXPECT_FALSE(r.At(SIZE_MAX, 2));  // no overflow in the bound check
  EXPECT_TRUE(r.At(1, 2));
}

TEST(ByteReader, FixedStringStopsAtNul) {
  ByteReader r(AsBytes(std::string_view("ab\0cdXY", 7)));
  EXPECT_EQ(*r.FixedString(5), "ab");
  EXPECT_EQ(*r.FixedString(2), "XY");
}

TEST(ByteReader, HelpersCheckBounds) {
  auto d = AsBytes("\xde\xad\xbe\xef");
  EXPECT_EQ(*ReadU32(d, 0, Endian::kBig), 0xdeadbeefu);
  EXPECT_FALSE(ReadU32(d, 1, Endian::kBig));
  EXPECT_FALSE(ReadU16(d, 3, Endian::kLittle));
  EXPECT_FALSE(ReadU64(d, 0, Endian::kLittle));
}

}  // namespace
}  // namespace firmwarden

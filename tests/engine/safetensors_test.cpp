// The safetensors reader must reject every malformed file with a message naming the file and the tensor.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "lmscope/error.h"
#include "lmscope/safetensors.h"
#include "support/test_support.h"

namespace lmscope {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// Writes the 8-byte length (or `length_override`), the header text, then `data_bytes` bytes of data.
fs::path write_raw(const fs::path& dir, const std::string& header, std::size_t data_bytes,
                   std::optional<std::uint64_t> length_override = std::nullopt) {
  const fs::path p = dir / "t.safetensors";
  std::ofstream out(p, std::ios::binary);
  const std::uint64_t n = length_override.value_or(header.size());
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xFF));
  out << header;
  for (std::size_t i = 0; i < data_bytes; ++i) out.put(static_cast<char>(i));
  return p;
}

// Asserts open() throws BadInput whose message contains every fragment.
void expect_rejected(const fs::path& p, std::initializer_list<std::string> fragments) {
  try {
    SafetensorsFile::open(p);
    FAIL() << "accepted a bad file";
  } catch (const BadInput& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(p.string()), std::string::npos) << "message does not name the file: " << msg;
    for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "missing '" << f << "' in: " << msg;
  }
}

TEST(Safetensors, RoundTripsEveryWeightDtype) {
  TempDir dir;
  const std::vector<float> v{1.0f, -2.5f, 3.25f, 0.0f, 1e-3f, -7.0f};
  const std::vector<std::int64_t> ids{1, 2, 300000000000LL};
  write_safetensors(dir.path / "a.safetensors",
                    {tensor_f32("f32", {2, 3}, v), tensor_from_f32("bf16", DType::BF16, {6}, v),
                     tensor_from_f32("f16", DType::F16, {3, 2}, v), tensor_i64("ids", {3}, ids)},
                    {{"format", "pt"}});
  const auto f = SafetensorsFile::open(dir.path / "a.safetensors");
  EXPECT_EQ(f.tensors().size(), 4u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.find("f32")->shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(f.find("f32")->to_f32(), v);
  const auto bf = f.find("bf16")->to_f32();
  const auto hf = f.find("f16")->to_f32();
  for (std::size_t i = 0; i < v.size(); ++i) {
    EXPECT_NEAR(bf[i], v[i], std::fabs(v[i]) * 4e-3 + 1e-30) << i;
    EXPECT_NEAR(hf[i], v[i], std::fabs(v[i]) * 5e-4 + 1e-7) << i;
  }
  EXPECT_EQ(test::read_ids(f, "ids")[1], 2);
  EXPECT_EQ(f.find("nope"), nullptr);
}

TEST(Safetensors, Bf16AndF16ConversionsAreExactOnRepresentableValues) {
  EXPECT_EQ(bf16_to_float(float_to_bf16(1.5f)), 1.5f);
  EXPECT_EQ(bf16_to_float(0x3F80), 1.0f);
  EXPECT_EQ(f16_to_float(0x3C00), 1.0f);
  EXPECT_EQ(f16_to_float(0xC000), -2.0f);
  EXPECT_EQ(f16_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(f16_to_float(float_to_f16(65504.0f)), 65504.0f);
  EXPECT_TRUE(std::isinf(f16_to_float(0x7C00)));
  // round to nearest even: 1 + 2^-8 is halfway between two bf16 values and rounds to the even one (1.0)
  EXPECT_EQ(bf16_to_float(float_to_bf16(1.0f + std::ldexp(1.0f, -8))), 1.0f);
}

TEST(Safetensors, RejectsFileShorterThanTheLengthField) {
  TempDir dir;
  const fs::path p = dir.path / "t.safetensors";
  test::write_text(p, "abc");
  expect_rejected(p, {"truncated"});
}

TEST(Safetensors, RejectsOversizedHeaderLength) {
  TempDir dir;
  expect_rejected(write_raw(dir.path, "{}", 0, 1ull << 40), {"header length", "limit"});
}

TEST(Safetensors, RejectsHeaderLongerThanTheFile) {
  TempDir dir;
  expect_rejected(write_raw(dir.path, "{}", 0, 500), {"truncated", "500"});
}

TEST(Safetensors, RejectsMalformedJson) {
  TempDir dir;
  expect_rejected(write_raw(dir.path, "{\"a\": {\"dtype\": \"F32\",", 0), {"JSON"});
  expect_rejected(write_raw(dir.path, "[1, 2]", 0), {"not a JSON object"});
}

TEST(Safetensors, RejectsUnknownDtype) {
  TempDir dir;
  expect_rejected(write_raw(dir.path, R"({"w": {"dtype": "F31", "shape": [1], "data_offsets": [0, 4]}})", 4),
                  {"'w'", "unknown dtype", "F31"});
}

TEST(Safetensors, RejectsShapeThatDisagreesWithTheByteRange) {
  TempDir dir;
  expect_rejected(write_raw(dir.path, R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})", 24),
                  {"'w'", "[2, 3]", "24 bytes", "20"});
}

TEST(Safetensors, RejectsOffsetsPastTheEndOfTheFile) {
  TempDir dir;
  expect_rejected(write_raw(dir.path, R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 12),
                  {"'w'", "past the end", "truncated"});
}

TEST(Safetensors, RejectsOffsetsThatEndBeforeTheyBegin) {
  TempDir dir;
  expect_rejected(write_raw(dir.path, R"({"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}})", 12),
                  {"'w'", "end before they begin"});
}

TEST(Safetensors, RejectsOverlappingTensors) {
  TempDir dir;
  expect_rejected(write_raw(dir.path,
                            R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                            12),
                  {"'a'", "'b'", "overlap"});
  // A range nested inside an earlier, longer one is an overlap too.
  expect_rejected(write_raw(dir.path,
                            R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
                                "c": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
                            16),
                  {"overlap"});
}

TEST(Safetensors, RejectsNegativeOrNonIntegerShapesAndMissingFields) {
  TempDir dir;
  expect_rejected(write_raw(dir.path, R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", 4),
                  {"'w'", "non-negative"});
  expect_rejected(write_raw(dir.path, R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", 4), {"'w'", "shape"});
  expect_rejected(write_raw(dir.path, R"({"w": {"dtype": "F32", "shape": [1]}})", 4), {"'w'", "data_offsets"});
  expect_rejected(write_raw(dir.path, R"({"w": 3})", 4), {"'w'", "not a JSON object"});
}

TEST(Safetensors, RejectsShapesWhoseSizeOverflows) {
  TempDir dir;
  expect_rejected(write_raw(dir.path,
                            R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 4]}})", 4),
                  {"'w'", "too large"});
}

TEST(Safetensors, AcceptsEmptyTensorsAndMetadata) {
  TempDir dir;
  const auto p = write_raw(dir.path,
                           R"({"__metadata__": {"format": "pt"}, "e": {"dtype": "F32", "shape": [0, 3], "data_offsets": [0, 0]},
                               "w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}})",
                           4);
  const auto f = SafetensorsFile::open(p);
  EXPECT_EQ(f.find("e")->numel(), 0);
  EXPECT_EQ(f.find("w")->nbytes, 4u);
}

// The length field must say exactly where the JSON ends: one byte short still parses ("{...}" plus padding minus
// one space) but would shift every tensor by a byte, so the data area no longer matches the tensors.
TEST(Safetensors, HeaderLengthOffByOneIsRejected) {
  TempDir dir;
  const std::vector<float> v{1.0f, 2.0f, 3.0f};
  const fs::path good = dir.path / "good.safetensors";
  write_safetensors(good, {tensor_f32("w", {3}, v)});
  std::string bytes = test::read_text(good);
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  ASSERT_EQ(bytes[8 + n - 1], ' ') << "the writer pads its header with spaces";
  // One short: the JSON still parses, so the data area no longer matches; one long: the JSON does not end there.
  for (const auto& [delta, why] : std::vector<std::pair<std::int64_t, std::string>>{{-1, "data area"}, {1, "does not end"}}) {
    std::string changed = bytes;
    const std::uint64_t m = n + static_cast<std::uint64_t>(delta);
    std::memcpy(changed.data(), &m, 8);
    const fs::path p = dir.path / ("off" + std::to_string(delta) + ".safetensors");
    test::write_text(p, changed);
    expect_rejected(p, {why});
  }
}

TEST(Safetensors, HeaderMayEndInSpacesButNothingElse) {
  TempDir dir;
  const std::string h = R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})";
  EXPECT_NO_THROW(SafetensorsFile::open(write_raw(dir.path, h + "     ", 4)));
  expect_rejected(write_raw(dir.path, h + std::string("\0\0", 2), 4), {"header"});
  expect_rejected(write_raw(dir.path, h + " x", 4), {"header"});
  expect_rejected(write_raw(dir.path, " " + h, 4), {"'{'"});
}

TEST(Safetensors, RejectsHolesAndTrailingBytesInTheDataArea) {
  TempDir dir;
  expect_rejected(write_raw(dir.path,
                            R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}})",
                            20),
                  {"data area", "[8, 12)", "no tensor"});
  expect_rejected(write_raw(dir.path, R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 12),
                  {"data area", "4 bytes after the last tensor"});
  expect_rejected(write_raw(dir.path, R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12),
                  {"data area", "[0, 4)"});
}

TEST(Safetensors, RejectsDuplicateTensorNames) {
  TempDir dir;
  expect_rejected(write_raw(dir.path,
                            R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                            8),
                  {"\"w\"", "twice"});
}

TEST(Safetensors, RejectsDeepNestingAndHugeNumbersWithoutCrashing) {
  TempDir dir;
  const std::string deep = R"({"__metadata__": {"k": )" + std::string(100000, '[') + std::string(100000, ']') + "}}";
  expect_rejected(write_raw(dir.path, deep, 0), {"nested deeper"});
  expect_rejected(write_raw(dir.path, R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 1e400]}})", 4),
                  {"not valid JSON"});
}

TEST(Safetensors, MissingFileNamesThePath) {
  try {
    SafetensorsFile::open("/nonexistent/x.safetensors");
    FAIL();
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.safetensors"), std::string::npos);
  }
}

}  // namespace
}  // namespace lmscope

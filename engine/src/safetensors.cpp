#include "lmscope/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lmscope/error.h"
#include "lmscope/json_input.h"
#include "lmscope/output_file.h"

namespace lmscope {

using nlohmann::json;

std::string shape_string(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::int64_t TensorView::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::vector<float> TensorView::to_f32() const {
  if (!dtype_is_float_weight(dtype))
    throw BadInput((file ? file->path().string() : std::string("?")) + ": tensor '" + name + "' has dtype " +
                   std::string(dtype_name(dtype)) + ", expected F32, F16 or BF16");
  std::vector<float> out(static_cast<std::size_t>(numel()));
  convert_to_f32(dtype, data, out.data(), out.size());
  return out;
}

namespace {

[[noreturn]] void bad(const std::filesystem::path& p, const std::string& msg) {
  throw BadInput(p.string() + ": " + msg);
}

std::uint64_t read_le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) { return parse(MappedFile::open(path)); }

SafetensorsFile SafetensorsFile::parse(std::shared_ptr<const MappedFile> file) {
  SafetensorsFile st;
  st.file_ = std::move(file);
  const auto& f = *st.file_;
  const auto& path = f.path();
  if (f.size() < 8) bad(path, "truncated: " + std::to_string(f.size()) + " bytes, a safetensors file has at least 8");
  const std::uint64_t header_len = read_le64(f.data());
  if (header_len > kMaxHeaderBytes)
    bad(path, "header length " + std::to_string(header_len) + " exceeds the " + std::to_string(kMaxHeaderBytes) +
                  "-byte limit (not a safetensors file, or corrupt)");
  if (header_len > f.size() - 8)
    bad(path, "truncated: header says " + std::to_string(header_len) + " bytes but only " +
                  std::to_string(f.size() - 8) + " follow the length field");

  const char* hbegin = reinterpret_cast<const char*>(f.data() + 8);
  // The JSON must fill the header exactly: it starts at byte 8, and after its closing brace only spaces may follow
  // (the writers' alignment padding). A length that is off by a byte or two would otherwise still parse and shift
  // every tensor; the data-area check below catches what this cannot.
  if (header_len == 0 || hbegin[0] != '{')
    bad(path, "header is not a JSON object: it does not start with '{' (not a safetensors file, or corrupt)");
  std::size_t json_end = static_cast<std::size_t>(header_len);
  while (json_end > 0 && hbegin[json_end - 1] == ' ') --json_end;
  if (hbegin[json_end - 1] != '}')
    bad(path, "header JSON does not end where its length (" + std::to_string(header_len) +
                  " bytes) says: the last byte before the space padding is not '}' (header length wrong, or corrupt)");
  const json header = parse_json_input(std::string_view(hbegin, json_end), path.string() + ": header");
  if (!header.is_object()) bad(path, "header is not a JSON object");

  const std::uint64_t data_start = 8 + header_len;
  const std::uint64_t data_len = f.size() - data_start;
  struct Range {
    std::uint64_t begin, end;
    const std::string* name;
  };
  std::vector<Range> ranges;

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& e = it.value();
    if (name == "__metadata__") {
      if (!e.is_object()) bad(path, "__metadata__ is not a JSON object");
      for (auto m = e.begin(); m != e.end(); ++m)
        st.metadata_[m.key()] = m.value().is_string() ? m.value().get<std::string>() : m.value().dump();
      continue;
    }
    const std::string where = "tensor '" + name + "': ";
    if (!e.is_object()) bad(path, where + "entry is not a JSON object");
    if (!e.contains("dtype") || !e["dtype"].is_string()) bad(path, where + "missing string field 'dtype'");
    const auto dt = dtype_from_name(e["dtype"].get<std::string>());
    if (!dt) bad(path, where + "unknown dtype '" + e["dtype"].get<std::string>() + "'");
    if (!e.contains("shape") || !e["shape"].is_array()) bad(path, where + "missing array field 'shape'");
    if (!e.contains("data_offsets") || !e["data_offsets"].is_array() || e["data_offsets"].size() != 2)
      bad(path, where + "field 'data_offsets' must be an array [begin, end]");

    TensorView v;
    v.name = name;
    v.dtype = *dt;
    std::uint64_t numel = 1;
    for (const auto& d : e["shape"]) {
      if (!d.is_number_unsigned()) bad(path, where + "shape entries must be non-negative integers, got " + d.dump());
      const std::uint64_t dim = d.get<std::uint64_t>();
      // Every partial product must fit int64 (TensorView::numel multiplies in that type).
      constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
      if (dim > kMax || (dim != 0 && numel > kMax / dim))
        bad(path, where + "shape " + e["shape"].dump() + " is too large");
      numel *= dim;
      v.shape.push_back(static_cast<std::int64_t>(dim));
    }
    const auto& off = e["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      bad(path, where + "data_offsets must be non-negative integers, got " + off.dump());
    const std::uint64_t b = off[0].get<std::uint64_t>(), en = off[1].get<std::uint64_t>();
    if (b > en) bad(path, where + "data_offsets " + off.dump() + " end before they begin");
    const std::uint64_t esize = dtype_size(*dt);
    if (numel > std::numeric_limits<std::uint64_t>::max() / esize) bad(path, where + "byte size overflows");
    const std::uint64_t want = numel * esize;
    if (en - b != want)
      bad(path, where + "shape " + shape_string(v.shape) + " x " + std::string(dtype_name(*dt)) + " needs " +
                    std::to_string(want) + " bytes but data_offsets " + off.dump() + " give " + std::to_string(en - b));
    if (en > data_len)
      bad(path, where + "data_offsets " + off.dump() + " reach past the end of the data (" + std::to_string(data_len) +
                    " bytes; file truncated?)");
    v.data = f.data() + data_start + b;
    v.nbytes = static_cast<std::size_t>(want);
    v.file = st.file_;
    auto [pos, inserted] = st.tensors_.emplace(name, std::move(v));
    ranges.push_back({b, en, &pos->first});
  }

  // The data area holds exactly the tensors' bytes, back to back in some order: no overlaps, no holes, nothing
  // after the last one (the format's rule against polyglot files; it also catches a header length that is off).
  // Empty tensors occupy no bytes.
  std::erase_if(ranges, [](const Range& r) { return r.begin == r.end; });
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  std::uint64_t covered = 0;  // the data area is covered up to here
  const Range* last = nullptr;
  for (const auto& r : ranges) {
    if (r.begin < covered)
      bad(path, "tensors '" + *last->name + "' and '" + *r.name + "' overlap in the data area");
    if (r.begin > covered)
      bad(path, "bytes [" + std::to_string(covered) + ", " + std::to_string(r.begin) +
                    ") of the data area belong to no tensor (holes are not allowed; file corrupt or header wrong)");
    covered = r.end;
    last = &r;
  }
  if (covered != data_len)
    bad(path, "the data area has " + std::to_string(data_len - covered) +
                  " bytes after the last tensor (header length wrong, or file corrupt)");
  return st;
}

const TensorView* SafetensorsFile::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

TensorToWrite tensor_f32(std::string name, std::vector<std::int64_t> shape, std::span<const float> values) {
  return tensor_from_f32(std::move(name), DType::F32, std::move(shape), values);
}

TensorToWrite tensor_i64(std::string name, std::vector<std::int64_t> shape, std::span<const std::int64_t> values) {
  TensorToWrite t{std::move(name), DType::I64, std::move(shape), {}};
  t.bytes.resize(values.size() * 8);
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

TensorToWrite tensor_from_f32(std::string name, DType dtype, std::vector<std::int64_t> shape,
                              std::span<const float> values) {
  TensorToWrite t{std::move(name), dtype, std::move(shape), {}};
  switch (dtype) {
    case DType::F32:
      t.bytes.resize(values.size() * 4);
      std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
      break;
    case DType::BF16:
    case DType::F16: {
      t.bytes.resize(values.size() * 2);
      for (std::size_t i = 0; i < values.size(); ++i) {
        const std::uint16_t h = dtype == DType::BF16 ? float_to_bf16(values[i]) : float_to_f16(values[i]);
        std::memcpy(t.bytes.data() + 2 * i, &h, 2);
      }
      break;
    }
    default:
      throw InternalError("tensor_from_f32: unsupported dtype " + std::string(dtype_name(dtype)));
  }
  return t;
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string h = dump_json(header);
  h.append((8 - h.size() % 8) % 8, ' ');  // pad so the data section starts 8-byte aligned
  OutputFile out(path, "the safetensors file");
  unsigned char len[8];
  const std::uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  out.write(std::string_view(reinterpret_cast<const char*>(len), 8));
  out.write(h);
  for (const auto& t : tensors) out.write(std::string_view(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size()));
  out.commit();
}

}  // namespace lmscope

#include "core/tokenize/path/path_normalize.hpp"

#include <cstring>

namespace vigil::tokenize::path {
namespace {

std::string_view clamp(std::string_view path) noexcept {
  // Offsets are 32-bit; a longer path is read up to its first 4 GiB.
  return path.size() > UINT32_MAX ? path.substr(0, UINT32_MAX) : path;
}

SegmentKind kind_of(std::string_view text) noexcept {
  if (text == ".") return SegmentKind::kDot;
  if (text == "..") return SegmentKind::kDotDot;
  return SegmentKind::kName;
}

// Where the first NUL byte of `path` is, if it has one (an empty view may have no data, and
// memchr must not be given a null pointer).
bool find_nul(std::string_view path, std::uint32_t* at) noexcept {
  const void* nul = path.empty() ? nullptr : std::memchr(path.data(), '\0', path.size());
  if (nul == nullptr) return false;
  *at = static_cast<std::uint32_t>(static_cast<const char*>(nul) - path.data());
  return true;
}

std::string_view text_of(std::string_view path, const Segment& s) noexcept {
  return path.substr(s.begin, s.end - s.begin);
}

}  // namespace

SegmentReader::SegmentReader(std::string_view path, Style style) noexcept
    : path_(clamp(path)), style_(style) {
  std::size_t n = 0;
  while (n < path_.size() && is_separator(path_[n], style_)) ++n;
  // POSIX: exactly two leading slashes may name another root; one or three and more are "/".
  root_ = n == 0 ? Root::kRelative : n == 2 ? Root::kDoubleSlash : Root::kSlash;
  root_end_ = static_cast<std::uint32_t>(n);
  pos_ = n;
}

bool SegmentReader::next(Segment* out) noexcept {
  const std::size_t size = path_.size();
  while (pos_ < size && is_separator(path_[pos_], style_)) ++pos_;
  if (pos_ >= size) return false;
  std::size_t end = pos_;
  while (end < size && !is_separator(path_[end], style_)) ++end;
  out->begin = static_cast<std::uint32_t>(pos_);
  out->end = static_cast<std::uint32_t>(end);
  out->kind = kind_of(path_.substr(pos_, end - pos_));
  pos_ = end;
  return true;
}

Normalized normalize(std::string_view path, Style style, std::vector<Segment>* kept) {
  kept->clear();
  path = clamp(path);
  SegmentReader reader(path, style);
  Normalized result;
  result.root = reader.root();
  result.has_nul = find_nul(path, &result.first_nul);
  Segment s;
  while (reader.next(&s)) {
    switch (s.kind) {
      case SegmentKind::kDot:
        break;
      case SegmentKind::kName:
        kept->push_back(s);
        break;
      case SegmentKind::kDotDot:
        if (!kept->empty() && kept->back().kind == SegmentKind::kName) {
          kept->pop_back();
        } else if (result.root == Root::kRelative) {
          kept->push_back(s);
          ++result.leading_dotdots;
        }
        break;
    }
  }
  return result;
}

std::string normalized_string(std::string_view path, Style style) {
  path = clamp(path);
  std::vector<Segment> kept;
  Normalized n = normalize(path, style, &kept);
  const char sep = style == Style::kWindows ? '\\' : '/';
  std::string out;
  if (n.root == Root::kSlash) out.push_back(sep);
  if (n.root == Root::kDoubleSlash) out.append(2, sep);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) out.push_back(sep);
    out.append(text_of(path, kept[i]));
  }
  if (out.empty()) out.push_back('.');
  return out;
}

Base::Base(std::string_view text, Style style) noexcept : text_(clamp(text)) {
  SegmentReader reader(text_, style);
  root_ = reader.root();
  Segment s;
  while (reader.next(&s)) {
    if (s.kind == SegmentKind::kDot) continue;
    if (s.kind == SegmentKind::kName) {
      if (depth_ < kMaxDepth) segments_[depth_] = s;
      ++depth_;
    } else if (depth_ > 0) {
      --depth_;
    } else if (root_ == Root::kRelative) {
      valid_ = false;
    }
  }
}

bool Base::matches(std::uint32_t index, std::string_view name) const noexcept {
  if (index >= kMaxDepth) return true;
  return text_of(text_, segments_[index]) == name;
}

Confinement::Confinement(const Base& base, Root path_root) noexcept
    : base_(&base), path_root_(path_root) {
  foreign_ = !base.valid() || path_root != base.root();
  entered_ = !foreign_ && base.depth() == 0;
}

bool Confinement::inside() const noexcept {
  return !foreign_ && above_ == 0 && matched_ == base_->depth();
}

std::uint32_t Confinement::levels_above() const noexcept {
  return foreign_ ? 0 : base_->depth() - matched_ + above_;
}

void Confinement::note_level() noexcept {
  std::uint32_t level = levels_above();
  if (level > max_above_) max_above_ = level;
}

Step Confinement::step(std::string_view path, const Segment& segment) noexcept {
  switch (segment.kind) {
    case SegmentKind::kDot:
      return Step::kStay;
    case SegmentKind::kName:
      if (!foreign_ && above_ == 0 && off_ == 0 && matched_ < base_->depth() &&
          base_->matches(matched_, text_of(path, segment))) {
        if (++matched_ == base_->depth()) entered_ = true;
        return Step::kFollowBase;
      }
      ++off_;
      return Step::kDescend;
    case SegmentKind::kDotDot:
      break;
  }
  if (off_ > 0) {
    --off_;
    return Step::kAscend;
  }
  if (!foreign_ && matched_ > 0) {
    --matched_;
    note_level();
    return Step::kClimb;
  }
  if (path_root_ == Root::kRelative) {
    ++above_;
    if (!foreign_) note_level();
    return Step::kClimb;
  }
  return Step::kAtRoot;
}

Resolution resolve(std::string_view path, const Base& base, Style style) noexcept {
  path = clamp(path);
  Resolution r;
  r.has_nul = find_nul(path, &r.first_nul);
  SegmentReader reader(path, style);
  Confinement walk(base, reader.root());
  Segment s;
  while (reader.next(&s)) {
    if (walk.step(path, s) == Step::kClimb) ++r.climbs;
  }
  r.root = reader.root();
  r.inside = walk.inside();
  r.entered = walk.entered();
  r.replaced_base = r.root != Root::kRelative && !r.entered;
  r.max_levels_above = walk.max_levels_above();
  return r;
}

}  // namespace vigil::tokenize::path

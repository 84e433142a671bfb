// Windows host path mapping (src/platform/windows_paths.*): every form in
// both directions, the copy-operand split, and the refusals with their
// messages. Pure string functions, so the same table runs on Linux and, in
// unit_tests.exe, under wine.
#include "platform/windows_paths.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <functional>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ssh/log.hpp"

namespace platform {
namespace {

using namespace std::literals;

// An absolute Windows path and its three forms; guest "" means the guest
// form is refused (UNC).
struct HostCase {
  std::string_view input;
  std::string_view native;
  std::string_view forward;
  std::string_view guest;
};

const std::vector<HostCase> kHostCases = {
    // The forms the issue names, from backslash and from forward-slash input.
    {R"(C:\Users\jan)", R"(C:\Users\jan)", "C:/Users/jan", "/c/Users/jan"},
    {"C:/Users/jan", R"(C:\Users\jan)", "C:/Users/jan", "/c/Users/jan"},
    // Drive letters in any case: upper on Windows, lower in the guest.
    {R"(c:\Users\jan)", R"(C:\Users\jan)", "C:/Users/jan", "/c/Users/jan"},
    {R"(z:\data)", R"(Z:\data)", "Z:/data", "/z/data"},
    // Drive roots keep their separator on Windows; the guest form has none.
    {R"(C:\)", R"(C:\)", "C:/", "/c"},
    {"d:/", R"(D:\)", "D:/", "/d"},
    {R"(C:\\\)", R"(C:\)", "C:/", "/c"},
    // Mixed, trailing and duplicate separators.
    {R"(C:/Users\jan/)", R"(C:\Users\jan)", "C:/Users/jan", "/c/Users/jan"},
    {R"(C:\\Users//jan\\\)", R"(C:\Users\jan)", "C:/Users/jan", "/c/Users/jan"},
    // "." dropped, ".." resolved lexically as Win32 does.
    {R"(C:\Users\.\jan\..\jan\Documents)", R"(C:\Users\jan\Documents)", "C:/Users/jan/Documents",
     "/c/Users/jan/Documents"},
    {R"(C:\Users\..)", R"(C:\)", "C:/", "/c"},
    // Spaces, parentheses and UTF-8 names pass through unchanged.
    {R"(C:\Program Files (x86)\Lima)", R"(C:\Program Files (x86)\Lima)",
     "C:/Program Files (x86)/Lima", "/c/Program Files (x86)/Lima"},
    {R"(D:\données\été)", R"(D:\données\été)", "D:/données/été", "/d/données/été"},
    // UNC, in either separator, normalised the same way; no guest form.
    {R"(\\server\share\dir)", R"(\\server\share\dir)", "//server/share/dir", ""},
    {"//server/share/dir", R"(\\server\share\dir)", "//server/share/dir", ""},
    {R"(\\server\share)", R"(\\server\share)", "//server/share", ""},
    {R"(\\server\share\)", R"(\\server\share)", "//server/share", ""},
    {R"(\/server\share/dir//sub\)", R"(\\server\share\dir\sub)", "//server/share/dir/sub", ""},
    {R"(\\server\share\a\..\b)", R"(\\server\share\b)", "//server/share/b", ""},
    {R"(\\fileserver.corp\Projects $\lima)", R"(\\fileserver.corp\Projects $\lima)",
     "//fileserver.corp/Projects $/lima", ""},
};

TEST(WindowsPaths, HostPathsMapToEachForm) {
  for (const auto& c : kHostCases) {
    SCOPED_TRACE(c.input);
    const auto native = to_native_windows_path(c.input);
    ASSERT_TRUE(native.ok()) << native.error().message;
    EXPECT_EQ(native.value(), c.native);

    const auto forward = to_forward_slash_path(c.input);
    ASSERT_TRUE(forward.ok()) << forward.error().message;
    EXPECT_EQ(forward.value(), c.forward);

    const auto guest = to_guest_mount_path(c.input);
    if (c.guest.empty()) {
      ASSERT_FALSE(guest.ok()) << guest.value();
      EXPECT_NE(guest.error().message.find("is a UNC path, which has no default guest mount point"),
                std::string::npos)
          << guest.error().message;
      EXPECT_NE(guest.error().message.find("set the mount point explicitly"), std::string::npos);
    } else {
      ASSERT_TRUE(guest.ok()) << guest.error().message;
      EXPECT_EQ(guest.value(), c.guest);
    }
  }
}

TEST(WindowsPaths, EachFormMapsBack) {
  for (const auto& c : kHostCases) {
    SCOPED_TRACE(c.input);
    // forward-slash -> native, native -> forward-slash, both fixed points.
    const auto native_from_forward = to_native_windows_path(c.forward);
    ASSERT_TRUE(native_from_forward.ok()) << native_from_forward.error().message;
    EXPECT_EQ(native_from_forward.value(), c.native);
    const auto forward_from_native = to_forward_slash_path(c.native);
    ASSERT_TRUE(forward_from_native.ok()) << forward_from_native.error().message;
    EXPECT_EQ(forward_from_native.value(), c.forward);
    EXPECT_EQ(to_native_windows_path(c.native).value(), c.native);
    EXPECT_EQ(to_forward_slash_path(c.forward).value(), c.forward);
    if (c.guest.empty()) continue;
    // guest mount -> native.
    const auto back = from_guest_mount_path(c.guest);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back.value(), c.native);
  }
}

struct GuestCase {
  std::string_view guest;
  std::string_view windows;
  std::string_view canonical_guest;  // what to_guest_mount_path makes of windows
};

TEST(WindowsPaths, GuestMountPathsMapToWindows) {
  const std::vector<GuestCase> cases = {
      {"/c/Users/jan", R"(C:\Users\jan)", "/c/Users/jan"},
      {"/C/Users/jan", R"(C:\Users\jan)", "/c/Users/jan"},
      // A drive with nothing after it is the drive's root, as cygpath has it.
      {"/c", R"(C:\)", "/c"},
      {"/c/", R"(C:\)", "/c"},
      {"/z//data/./x/", R"(Z:\data\x)", "/z/data/x"},
      {"/c/Users/jan/../x", R"(C:\Users\x)", "/c/Users/x"},
      {"/c/Program Files/Lima", R"(C:\Program Files\Lima)", "/c/Program Files/Lima"},
      {"/d/données", R"(D:\données)", "/d/données"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.guest);
    const auto windows = from_guest_mount_path(c.guest);
    ASSERT_TRUE(windows.ok()) << windows.error().message;
    EXPECT_EQ(windows.value(), c.windows);
    const auto guest = to_guest_mount_path(windows.value());
    ASSERT_TRUE(guest.ok()) << guest.error().message;
    EXPECT_EQ(guest.value(), c.canonical_guest);
  }
}

struct KindCase {
  std::string_view path;
  WindowsPathKind kind;
  bool absolute;
};

TEST(WindowsPaths, ClassifiesByWin32Rules) {
  const std::vector<KindCase> cases = {
      {R"(C:\Users\jan)", WindowsPathKind::DriveAbsolute, true},
      {"C:/Users/jan", WindowsPathKind::DriveAbsolute, true},
      {R"(c:\)", WindowsPathKind::DriveAbsolute, true},
      // Drive-relative: not absolute (Lima's review fix: filepath.IsAbs, not VolumeName).
      {"C:foo", WindowsPathKind::DriveRelative, false},
      {R"(C:foo\bar)", WindowsPathKind::DriveRelative, false},
      {"C:", WindowsPathKind::DriveRelative, false},
      {R"(\\server\share\dir)", WindowsPathKind::Unc, true},
      {"//server/share/dir", WindowsPathKind::Unc, true},
      {R"(\\?\C:\x)", WindowsPathKind::Device, true},
      {R"(\\.\pipe\lima)", WindowsPathKind::Device, true},
      {"//?/C:/x", WindowsPathKind::Device, true},
      {R"(\??\C:\x)", WindowsPathKind::Device, true},
      {R"(\Users\jan)", WindowsPathKind::Rooted, false},
      {"/c/Users/jan", WindowsPathKind::Rooted, false},
      {R"(Users\jan)", WindowsPathKind::Relative, false},
      {R"(..\jan)", WindowsPathKind::Relative, false},
      {"", WindowsPathKind::Relative, false},
      {R"(1:\x)", WindowsPathKind::Relative, false},
      {R"(Ä:\x)", WindowsPathKind::Relative, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    EXPECT_EQ(windows_path_kind_name(classify_windows_path(c.path)),
              windows_path_kind_name(c.kind));
    EXPECT_EQ(is_absolute_windows_path(c.path), c.absolute);
  }
}

struct BadCase {
  std::string_view input;
  std::vector<std::string_view> message_parts;  // each must appear in the message
};

void expect_refused(const PathResult<std::string>& result, const BadCase& c,
                    std::string_view function) {
  SCOPED_TRACE(function);
  ASSERT_FALSE(result.ok()) << "mapped to " << result.value();
  EXPECT_FALSE(result.error().message.empty());
  for (const auto part : c.message_parts) {
    EXPECT_NE(result.error().message.find(part), std::string::npos)
        << "\"" << part << "\" not in: " << result.error().message;
  }
}

TEST(WindowsPaths, BadHostPathsAreRefusedByEveryForm) {
  const std::vector<BadCase> cases = {
      {"", {"empty path", "absolute Windows path"}},
      {R"(..\foo)", {R"("..\foo" is a relative path (with ".." components))"}},
      {R"(foo\..\..\bar)", {R"("foo\..\..\bar" is a relative path (with ".." components))"}},
      {"../foo", {R"("../foo" is a relative path (with ".." components))"}},
      {R"(foo\bar)", {R"("foo\bar" is a relative path: an absolute Windows path)"}},
      {R"(C:\Users\..\..)", {R"("C:\Users\..\.." climbs above the root of drive C: with "..")"}},
      {"C:\\a\0b"sv, {R"("C:\a\x00b" contains a NUL byte at offset 4)"}},
      {"C:\\a\tb", {R"("C:\a\x09b" contains the control character \x09 at offset 4)"}},
      {R"(\\?\C:\x)", {R"("\\?\C:\x" is a device path)", "not supported"}},
      {R"(\\.\pipe\lima)", {"is a device path"}},
      {"//?/C:/x", {"is a device path"}},
      {R"(\??\C:\x)", {"is a device path"}},
      {"C:", {R"("C:" is a drive without a path)", R"(write C:\ for the root)"}},
      {"c:", {R"(current directory of drive C:)"}},
      {"C:foo", {R"("C:foo" is drive-relative)", R"(write C:\foo)"}},
      {R"(C:foo\bar)", {"is drive-relative", R"(write C:\foo\bar)"}},
      {R"(\Users\jan)", {R"("\Users\jan" is rooted at the current drive, not absolute)"}},
      {"/Users/jan", {"is rooted at the current drive"}},
      {"/c/Users/jan", {"is rooted at the current drive"}},
      {R"(1:\x)", {R"("1:\x" has "1" where a drive letter (A-Z) belongs)"}},
      {R"(Ä:\x)", {R"("Ä:\x" has "Ä" where a drive letter (A-Z) belongs)"}},
      {R"(€:\x)", {R"(has "€" where a drive letter)"}},
      {R"(\\server)", {R"("\\server" is a UNC path without a server or share name)"}},
      {R"(\\server\)", {"UNC path without a server or share name"}},
      {R"(\\server\\share)", {"UNC path without a server or share name"}},
      {R"(\\\share\x)", {"UNC path without a server or share name"}},
      {R"(\\server\..\x)", {"UNC path without a server or share name"}},
      {R"(\\server\share\..\x)", {R"(climbs above the share \\server\share with "..")"}},
      {R"(C:\a<b)", {R"(has '<' in the name "a<b", which Windows file names cannot contain)"}},
      {R"(C:\data:stream)", {R"(has ':' in the name "data:stream")"}},
      {R"(C:\what?)", {R"(has '?' in the name "what?")"}},
      {R"(\\ser*ver\share)", {R"(has '*' in the name "ser*ver")"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.input));
    expect_refused(to_native_windows_path(c.input), c, "to_native_windows_path");
    expect_refused(to_forward_slash_path(c.input), c, "to_forward_slash_path");
    expect_refused(to_guest_mount_path(c.input), c, "to_guest_mount_path");
  }
}

TEST(WindowsPaths, BadGuestPathsAreRefused) {
  const std::vector<BadCase> cases = {
      {"", {"empty path", "/<drive letter>/"}},
      {"c/Users", {R"("c/Users" is a relative path: expected a guest mount path)"}},
      {"../c/x", {"is a relative path"}},
      {"/", {R"("/" does not start with a drive letter)"}},
      {"/cd/x", {R"("/cd/x" does not start with a drive letter)", "/c/Users/jan"}},
      {"/1/x", {R"("/1/x" has "1" where a drive letter (a-z) belongs)"}},
      {"/ä/x", {R"("/ä/x" has "ä" where a drive letter (a-z) belongs)"}},
      {"//server/share", {R"("//server/share" starts with //)", "no guest mount form"}},
      {"/c/..", {R"("/c/.." climbs above the drive root /c with "..")"}},
      {"/c/Users/../../x", {"climbs above the drive root /c"}},
      {R"(/c/a\b)", {R"(has '\' in the name "a\b")"}},
      {"/c/a:b", {R"(has ':' in the name "a:b")"}},
      {"/c/x\0y"sv, {R"("/c/x\x00y" contains a NUL byte at offset 4)"}},
      {"/c/x\x7fy", {R"(contains the control character \x7f at offset 4)"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.input));
    expect_refused(from_guest_mount_path(c.input), c, "from_guest_mount_path");
  }
}

struct CopyCase {
  std::string_view operand;
  CopyOperand expected;
};

void expect_splits(HostPathStyle style, const std::vector<CopyCase>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.operand);
    const auto split = split_copy_operand(c.operand, style);
    ASSERT_TRUE(split.ok()) << split.error().message;
    EXPECT_EQ(split->instance, c.expected.instance);
    EXPECT_EQ(split->path, c.expected.path);
    EXPECT_EQ(split->is_host(), c.expected.instance.empty());
  }
}

TEST(WindowsPaths, CopyOperandsOnAWindowsHost) {
  expect_splits(HostPathStyle::Windows,
                {
                    // Absolute Windows paths are host paths...
                    {R"(C:\Users\jan\file)", {"", R"(C:\Users\jan\file)"}},
                    {"C:/Users/jan/file", {"", "C:/Users/jan/file"}},
                    {R"(c:\x)", {"", R"(c:\x)"}},
                    {R"(\\server\share\f)", {"", R"(\\server\share\f)"}},
                    {"//server/share/f", {"", "//server/share/f"}},
                    {R"(\\?\C:\x)", {"", R"(\\?\C:\x)"}},
                    // ...a drive-relative one is not: `limactl copy C:foo .` is instance C.
                    {"C:foo", {"C", "foo"}},
                    {R"(C:foo\bar)", {"C", R"(foo\bar)"}},
                    {"C:", {"C", ""}},
                    {"default:/tmp/x", {"default", "/tmp/x"}},
                    {"default:", {"default", ""}},
                    {"my-vm.2:~/a:b", {"my-vm.2", "~/a:b"}},
                    // Plain relative paths, and colons after a separator, stay local.
                    {"foo", {"", "foo"}},
                    {"file.txt", {"", "file.txt"}},
                    {R"(.\a:b)", {"", R"(.\a:b)"}},
                    {R"(dir\a:b)", {"", R"(dir\a:b)"}},
                    {"./a:b", {"", "./a:b"}},
                    {R"(\Users\a:b)", {"", R"(\Users\a:b)"}},
                });
}

TEST(WindowsPaths, CopyOperandsOnAPosixHost) {
  expect_splits(HostPathStyle::Posix,
                {
                    // No drive letters on POSIX: the name before the colon is an instance.
                    {R"(C:\Users\jan)", {"C", R"(\Users\jan)"}},
                    {"C:/x", {"C", "/x"}},
                    {"C:foo", {"C", "foo"}},
                    {"default:/tmp/x", {"default", "/tmp/x"}},
                    // '\' is no separator on POSIX, so this is instance "dir\a".
                    {R"(dir\a:b)", {R"(dir\a)", "b"}},
                    {"/tmp/a:b", {"", "/tmp/a:b"}},
                    {"./a:b", {"", "./a:b"}},
                    {"foo", {"", "foo"}},
                });
}

TEST(WindowsPaths, BadCopyOperandsAreRefused) {
  for (const auto style : {HostPathStyle::Windows, HostPathStyle::Posix}) {
    SCOPED_TRACE(style == HostPathStyle::Windows ? "Windows" : "POSIX");
    const auto empty = split_copy_operand("", style);
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().message, "empty copy operand: expected a host path or INSTANCE:PATH");

    const auto no_instance = split_copy_operand(":/tmp/x", style);
    ASSERT_FALSE(no_instance.ok());
    EXPECT_EQ(no_instance.error().message,
              R"(":/tmp/x" has no instance name before ':' (expected INSTANCE:PATH, or )"
              R"(./PATH for a host path with a colon))");

    const auto nul = split_copy_operand("vm:/tmp/x\0y"sv, style);
    ASSERT_FALSE(nul.ok());
    EXPECT_EQ(nul.error().message, R"("vm:/tmp/x\x00y" contains a NUL byte at offset 9)");
  }
}

TEST(WindowsPaths, HostStyleFollowsTheBuild) {
#ifdef _WIN32
  EXPECT_EQ(kHostPathStyle, HostPathStyle::Windows);
  EXPECT_TRUE(split_copy_operand(R"(C:\x)")->is_host());
#else
  EXPECT_EQ(kHostPathStyle, HostPathStyle::Posix);
  EXPECT_EQ(split_copy_operand(R"(C:\x)")->instance, "C");
#endif
  EXPECT_EQ(split_copy_operand("C:foo")->instance, "C");
}

// Lima's PR: users need the mapping in --debug traces.
class WindowsPathsLog : public ::testing::Test {
 protected:
  void SetUp() override {
    logger_ = ssh::log::get("platform");
    saved_level_ = logger_->level();
    logger_->set_level(spdlog::level::debug);
    logger_->sinks().push_back(std::make_shared<spdlog::sinks::ostream_sink_st>(lines_));
  }
  void TearDown() override {
    logger_->sinks().pop_back();
    logger_->set_level(saved_level_);
  }

  std::shared_ptr<spdlog::logger> logger_;
  spdlog::level::level_enum saved_level_ = spdlog::level::info;
  std::ostringstream lines_;
};

TEST_F(WindowsPathsLog, EachMappingIsLoggedAtDebug) {
  ASSERT_TRUE(to_guest_mount_path(R"(C:\Users\jan)").ok());
  ASSERT_TRUE(to_forward_slash_path(R"(C:\Users\jan)").ok());
  ASSERT_TRUE(from_guest_mount_path("/c/Users/jan").ok());
  ASSERT_FALSE(to_native_windows_path("C:foo").ok());
  ASSERT_TRUE(split_copy_operand("C:foo", HostPathStyle::Windows).ok());
  const std::string log = lines_.str();
  EXPECT_NE(log.find(R"(path "C:\Users\jan" -> guest mount "/c/Users/jan")"), std::string::npos)
      << log;
  EXPECT_NE(log.find(R"(path "C:\Users\jan" -> forward-slash "C:/Users/jan")"), std::string::npos)
      << log;
  EXPECT_NE(log.find(R"(path "/c/Users/jan" -> Windows "C:\Users\jan")"), std::string::npos) << log;
  EXPECT_NE(log.find(R"(path "C:foo" has no native form: "C:foo" is drive-relative)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(R"(copy operand "C:foo" -> instance "C" path "foo")"), std::string::npos)
      << log;
}

}  // namespace
}  // namespace platform

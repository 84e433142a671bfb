#include "vm/templates.hpp"

#include <gtest/gtest.h>

#include "vm/lima_config_defaults.hpp"
#include "vm/lima_config_load.hpp"
#include "vm/lima_config_validate.hpp"

namespace vm {
namespace {

const HostFacts kHost{"alice", "1000", "/home/alice", "x86_64"};

TEST(Templates, EveryBuiltInTemplateLoadsCleanAndValidates) {
  ASSERT_EQ(template_names(), (std::vector<std::string>{"debian-local", "default"}));
  for (const std::string& name : template_names()) {
    SCOPED_TRACE(name);
    auto text = template_text(name, "/cache/limactl/guest-image");
    ASSERT_TRUE(text.has_value());
    const ConfigLoadResult loaded = load_lima_config(*text, "template:" + name);
    EXPECT_TRUE(loaded.errors.empty()) << loaded.errors.front().to_string();
    EXPECT_TRUE(loaded.warnings.empty()) << loaded.warnings.front().to_string();
    const LimaConfig filled = apply_builtin_defaults(loaded.config, kHost);
    const ValidationResult checked = validate_lima_config(filled, "template:" + name);
    EXPECT_TRUE(checked.ok()) << checked.errors.front().to_string();
    EXPECT_EQ(filled.mount_type, "reverse-sshfs");
    EXPECT_EQ(filled.vm_type, "qemu");
  }
  EXPECT_EQ(template_text("nosuch", "/x"), std::nullopt);
}

TEST(Templates, DebianLocalBootsTheLocalImageDirectly) {
  auto text = template_text("debian-local", "/cache/limactl/guest-image");
  ASSERT_TRUE(text.has_value());
  const ConfigLoadResult loaded = load_lima_config(*text, "template:debian-local");
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded.config.images.size(), 1u);
  const Image& image = loaded.config.images[0];
  EXPECT_EQ(image.file.location, "/cache/limactl/guest-image/disk.qcow2");
  ASSERT_TRUE(image.kernel.has_value());
  EXPECT_EQ(image.kernel->file.location, "/cache/limactl/guest-image/vmlinuz");
  EXPECT_EQ(image.kernel->cmdline, "root=/dev/vda rw console=ttyS0 net.ifnames=0");
  ASSERT_TRUE(image.initrd.has_value());
  EXPECT_EQ(image.initrd->location, "/cache/limactl/guest-image/initrd.img");
}

TEST(Templates, DefaultIsUbuntuForBothArchitectures) {
  auto text = template_text("default", "/unused");
  ASSERT_TRUE(text.has_value());
  const ConfigLoadResult loaded = load_lima_config(*text, "template:default");
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded.config.images.size(), 2u);
  EXPECT_EQ(loaded.config.images[0].file.arch, "x86_64");
  EXPECT_EQ(loaded.config.images[1].file.arch, "aarch64");
  for (const Image& image : loaded.config.images) {
    EXPECT_TRUE(image.file.location.starts_with("https://cloud-images.ubuntu.com/"))
        << image.file.location;
  }
}

}  // namespace
}  // namespace vm
